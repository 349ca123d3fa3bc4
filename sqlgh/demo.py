"""``sqlgh --demo``: the embedded GitHub emulator with the demo data, in the background."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import ORGS, USER, seed_demo

DEMO_TOKEN = "test-token"


@contextmanager
def running_demo() -> Iterator[Emulator]:
    """Start an emulator on loopback seeded with the demo data; stop it on exit."""
    with Emulator() as emulator:
        seed_demo(emulator)
        yield emulator


def demo_note(emulator: Emulator) -> str:
    """The one line ``--demo`` prints on standard error."""
    owners = ", ".join([*ORGS, USER])
    return (
        f"sqlgh: demo mode: a GitHub emulator on {emulator.api_url} (owners {owners}); "
        "nothing leaves this machine"
    )
