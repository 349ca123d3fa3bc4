"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sqlgh.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started, empty ``Emulator`` (default token ``test-token``, user octocat, may
    write), stopped after the test."""
    with Emulator() as emu:
        yield emu
