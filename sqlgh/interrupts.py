"""Holding Ctrl-C back while a few requests must finish together.

Python raises KeyboardInterrupt wherever the main thread happens to be; between the two
renames of a replace that would leave a release without the asset's name. Inside
``held_interrupts()`` a SIGINT is only noted; ``Held.honour()`` delivers it afterwards to
whatever handled SIGINT before (Python's own handler raises KeyboardInterrupt then).
Signals reach the main thread only: elsewhere the block runs as it is.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Held:
    """Whether a Ctrl-C arrived while it was held."""

    def __init__(self) -> None:
        self.pending = False

    def note(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler while held: remember, do not raise."""
        self.pending = True

    def honour(self) -> None:
        """Deliver a held Ctrl-C to the handler that was there before (after the block)."""
        if self.pending:
            self.pending = False
            signal.raise_signal(signal.SIGINT)


@contextmanager
def held_interrupts() -> Iterator[Held]:
    """Note, instead of raising, any Ctrl-C that arrives while the block runs."""
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = signal.signal(signal.SIGINT, held.note)
    try:
        yield held
    finally:
        # None: a handler set outside Python, which Python cannot put back.
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
