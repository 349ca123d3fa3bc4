"""Which statement a cursor belongs to.

APSW lets a statement run while another is still being read (``for row in
db.execute(a): db.execute(b)``), and SQLite may open a cursor late (a subquery first
needed on a later row). Each cursor must still see its own statement's fetches and facts
(``sqlgh.fetches``): never another statement's, which could serve rows that statement
deleted. When in doubt, a cursor gets a fresh state of its own, which costs requests but
is always right. A statement's state (``sqlgh.statement_state``) is dropped when it ends.

``StatementTracker`` is told of SQLite's trace events (``sqlgh.session``):
``SQLITE_TRACE_STMT`` when a statement starts, ``SQLITE_TRACE_PROFILE`` when it ends.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlgh.statement_state import StatementState


class StatementTracker:
    """The state of each running top-level statement, by SQLite's statement id."""

    def __init__(self, new_state: Callable[[], StatementState]) -> None:
        self._new_state = new_state
        self._current: int | None = None  # the top-level statement started last
        self._running: dict[int, StatementState] = {}
        self._opened: set[int] = set()  # running statements that opened a cursor
        # A statement SQLite prepares again (its schema changed) reports an end before
        # its first cursor, then runs on with no new start.
        self._ended_early: tuple[int, StatementState] | None = None
        self._nested: set[int] = set()  # run by a Python function inside a statement

    def started(self, statement_id: int, state: StatementState) -> None:
        """A top-level statement starts, with a fresh ``state`` of its own."""
        self._ended_early = None
        self._nested.clear()  # no Python function is running a statement now
        self._current = statement_id
        self._running[statement_id] = state

    def any_running(self) -> bool:
        """Whether a top-level statement is running (a statement flagged as a trigger can
        only run inside one: APSW also flags a statement whose SQL starts with ``--``)."""
        # A statement prepared again left _running at its early end and runs on: what it
        # runs is flagged as a trigger too. Until its final end, count it as running.
        return bool(self._running) or self._ended_early is not None

    def started_inside(self, statement_id: int) -> None:
        """A statement flagged as a trigger starts: a trigger program of a running
        statement (the same id: its cursors share the statement's state), or one a Python
        function runs (another id)."""
        if statement_id not in self._running:
            self._nested.add(statement_id)

    def ended(self, statement_id: int) -> None:
        """A statement ends: what it started ahead is cancelled. One a function runs stays
        nested until the next top-level start: prepared again after a schema change, it
        reports an end and runs on."""
        state = self._running.pop(statement_id, None)
        if state is not None:
            state.close()
        if state is not None and statement_id not in self._opened:
            self._ended_early = (statement_id, state)
        elif self._ended_early is not None and self._ended_early[0] == statement_id:
            self._ended_early[1].close()
            self._ended_early = None  # its run after being prepared again is over
        self._opened.discard(statement_id)

    def running(self) -> StatementState | None:
        """The state of the top-level statement running now, if any (for a function it
        calls, which opens no cursor)."""
        return self._running.get(self._current) if self._current is not None else None

    def current(self) -> StatementState | None:
        """The state of the top-level statement whose rows are being written now: the
        statement started last while it runs (a statement a Python function runs inside it
        included), else the only one still running, else one prepared again that runs on;
        None when that cannot be told."""
        current = self._current
        if current is not None and current in self._running:
            return self._running[current]
        if self._ended_early is not None and self._ended_early[0] == current:
            return None if self._running else self._ended_early[1]
        if len(self._running) == 1:
            return next(iter(self._running.values()))
        return None

    def state_for_new_cursor(self) -> StatementState:
        """The state of the statement a cursor opened now belongs to.

        The statement started last, while it runs. Otherwise (a cursor opened late, after
        another statement ran) the only statement still running; a statement prepared
        again, its own state when no other runs; else, and for a statement a Python
        function runs, a fresh state.
        """
        if self._nested:
            return self._new_state()
        if self._current in self._running:
            self._opened.add(self._current)
        return self.current() or self._new_state()
