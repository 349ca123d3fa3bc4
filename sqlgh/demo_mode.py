"""The demo: the embedded GitHub emulator with the demo data, in the background.

``sqlgh --demo`` starts it fresh on every run; ``sqlgh --demo-state FILE`` loads its data
from FILE (when FILE exists) and saves it back at exit, unless another run saved FILE
meanwhile (then this run's data goes to ``FILE.PID``). From Python,
``sqlgh.connect(demo=True)`` and ``sqlgh.demo()`` give a connection to a private one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import ORGS, USER, seed_demo

DEMO_TOKEN = "test-token"


@contextmanager
def running_demo(state_file: str | None = None) -> Iterator[Emulator]:
    """Start an emulator on loopback with the demo data; stop it on exit.

    With ``state_file``, the data is loaded from that file when it exists, and written
    back to it on exit (even after an error: what a run did on "GitHub" is not undone).
    """
    loaded = _version(state_file)
    emulator = start_demo(state_file)
    try:
        yield emulator
    finally:
        try:
            if state_file is not None:
                _save(emulator, state_file, loaded)
        finally:
            emulator.stop()


def _version(state_file: str | None) -> tuple[int, int, int] | None:
    """What tells one save of ``state_file`` from another (None: no file)."""
    try:
        status = os.stat(state_file) if state_file is not None else None
    except FileNotFoundError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size) if status else None


def _save(emulator: Emulator, state_file: str, loaded: tuple[int, int, int] | None) -> None:
    """Save to ``state_file``, unless another run saved it since this one loaded it: each
    run holds the whole state, so saving would undo that run's changes. This run's state
    then goes to a file beside it, named on stderr."""
    if _version(state_file) == loaded:
        emulator.save_state(state_file)
        return
    kept = f"{state_file}.{os.getpid()}"
    emulator.save_state(kept)
    print(
        f"sqlgh: --demo-state {state_file}: another sqlgh run saved it while this one ran; "
        f"it is kept, and this run's data was saved to {kept} (use that file with "
        "--demo-state to carry on from it); give each concurrent run a file of its own",
        file=sys.stderr,
    )


def start_demo(state_file: str | None = None) -> Emulator:
    """A started emulator holding the demo data, or the data saved in ``state_file``."""
    emulator = Emulator()
    try:
        if state_file is not None and os.path.exists(state_file):
            _load(emulator, state_file)
        else:
            if state_file is not None:
                _check_writable(state_file)
            seed_demo(emulator)
    except BaseException:
        emulator.stop()
        raise
    return emulator.start()


def _load(emulator: Emulator, state_file: str) -> None:
    """The data saved in ``state_file``; ValueError saying what to do when it cannot be read."""
    try:
        emulator.load_state(state_file)
    # A record of the wrong shape (a number where a login belongs) is an AttributeError.
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"--demo-state {state_file}: cannot load the emulator's data from it ({exc}); "
            "give a file an earlier --demo-state run saved, or a new path to start from "
            "the demo data"
        ) from exc


def _check_writable(state_file: str) -> None:
    """ValueError, before the run, when ``state_file`` could not be saved at its end."""
    directory = os.path.dirname(os.path.abspath(state_file))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        raise ValueError(
            f"--demo-state {state_file}: {directory} is not a directory sqlgh can write the "
            "file in; give a path in an existing directory you can write"
        )


def demo_settings(emulator: Emulator) -> dict[str, Any]:
    """The ``connect()`` arguments for the demo emulator: its token and URLs, no write
    spacing, and no HTTP cache (nothing is written to the user's cache directory)."""
    return {
        "token": DEMO_TOKEN,
        "api_url": emulator.api_url,
        "uploads_url": emulator.uploads_url,
        "mutation_interval": 0.0,
        "retry_backoff": 0.0,
        "cache": False,
    }


def demo_note(emulator: Emulator, state_file: str | None = None) -> str:
    """The one line ``--demo`` prints on standard error."""
    owners = ", ".join([*ORGS, USER])
    kept = (
        f"; its data is kept in {state_file}"
        if state_file is not None
        else "; it starts fresh, and its changes end with this run (--demo-state FILE keeps them)"
    )
    return (
        f"sqlgh: demo mode: a GitHub emulator on {emulator.api_url} (owners {owners}); "
        f"nothing leaves this machine{kept}"
    )
