"""``statement_timeout``: an overall deadline for one SQL statement's requests.

The session starts the clock when a top-level statement starts and stops it when no
statement runs any more (``sqlgh.session``). Past the deadline, no request is sent, no
wait (backoff, rate limit) begins that would end after it, and the watchdog cuts reads
in flight (``watchdog.py``). A write in progress is let finish: ``held()`` is wrapped
around each row's write, so that a replace or an upload with its clean-up is never left
half done; the next row is not started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlgh.github.errors import TransportError
from sqlgh.github.option_hint import how_to_set


class DeadlineError(TransportError):
    """The statement ran past ``statement_timeout``: what was not sent is not sent."""

    transient = False

    def __init__(
        self,
        seconds: float,
        method: str = "",
        path: str = "",
        *,
        cut: bool = False,
        wait: float | None = None,
    ) -> None:
        if wait is not None:
            what = f"would run past statement_timeout ({seconds:g} s) waiting {wait:.1f} s"
            what += " (a retry's backoff or a rate limit), so it was stopped"
        else:
            what = f"ran past statement_timeout ({seconds:g} s) and was stopped"
            what += f" {'during' if cut else 'before'} {method} {path}" if method else ""
        detail = (
            f"the statement {what}; give it more time with the statement_timeout option "
            f"(0: no limit; {how_to_set('statement_timeout', seconds * 2)}), or ask for less "
            "(narrow the WHERE, add LIMIT)"
        )
        super().__init__(method, path, TimeoutError(detail), detail)
        self.args = (detail,)  # the sentence alone: there may be no request to name


class Deadline:
    """The end of the running statement's time, when ``seconds`` (statement_timeout) is set."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self._ends: float | None = None
        self._held = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """A statement starts: its time runs from now (nothing when the option is off)."""
        self._ends = time.monotonic() + self.seconds if self.seconds > 0 else None

    def stop(self) -> None:
        """No statement runs: no deadline."""
        self._ends = None

    def remaining(self) -> float | None:
        """Seconds left, None without a deadline (or while a write is held)."""
        if self._ends is None or self._held:
            return None
        return self._ends - time.monotonic()

    def passed(self) -> bool:
        """Whether the deadline has passed (never while a write is held)."""
        left = self.remaining()
        return left is not None and left <= 0

    def check(self, method: str = "", path: str = "") -> None:
        """Raise DeadlineError when the deadline has passed."""
        if self.passed():
            raise DeadlineError(self.seconds, method, path)

    def sleep(self, seconds: float) -> None:
        """Sleep, unless the wait would end past the deadline: then raise at once."""
        left = self.remaining()
        if left is not None and seconds >= left:
            raise DeadlineError(self.seconds, wait=seconds)
        time.sleep(seconds)

    @contextmanager
    def held(self) -> Iterator[None]:
        """While inside, the deadline does not stop anything (a row's write)."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
