"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import Acme, seed_acme

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import seed_demo


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep sqlgh's HTTP cache files out of the user's cache directory during tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SQLGH_CACHE_DIR", str(tmp_path_factory.mktemp("sqlgh-cache")))
        yield


@pytest.fixture
def acme(emulator: Emulator) -> Acme:
    """The emulator seeded with acme/tool (``helpers.seed_acme``)."""
    return seed_acme(emulator)


@pytest.fixture(scope="module")
def demo() -> Iterator[Emulator]:
    """One emulator seeded with the demo data, shared by a test module (for read-only
    runs, or runs whose writes later tests of the module expect)."""
    with Emulator() as emu:
        seed_demo(emu)
        yield emu


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started, empty ``Emulator`` (default token ``test-token``, user octocat, may
    write), stopped after the test."""
    with Emulator() as emu:
        yield emu


TOKEN = "test-token"


def connect_to(emu: Emulator, **options: object) -> sqlgh.Connection:
    """A sqlgh connection to ``emu`` with the default token and no write spacing."""
    settings: dict[str, object] = {
        "mutation_interval": 0,
        "retry_backoff": 0,
        "token": TOKEN,
        "uploads_url": emu.uploads_url,
    }
    settings.update(options)
    return sqlgh.connect(api_url=emu.api_url, **settings)  # type: ignore[arg-type]


@pytest.fixture
def db(emulator: Emulator) -> sqlgh.Connection:
    """A sqlgh connection to the ``emulator`` fixture, authenticated with ``test-token``."""
    return connect_to(emulator)
