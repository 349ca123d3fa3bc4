"""Which statement a cursor belongs to, and what that statement writes.

APSW lets a statement run while another is still being read (``for row in
db.execute(a): db.execute(b)``), and SQLite may open a cursor late (a subquery first
needed on a later row). Each cursor must still see its own statement's cache, facts and
write target: never another statement's, which could serve rows that statement deleted
or skip a read a probe needed. When in doubt, a cursor gets a fresh state of its own,
which costs requests but is always right.

``StatementTracker`` is told of SQLite's trace events (``sqlgh.session``):
``SQLITE_TRACE_STMT`` when a statement starts, ``SQLITE_TRACE_PROFILE`` when it ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlgh.tables.memo import StatementFacts
from sqlgh.tables.spec import Batch

_NOISE = r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*"
_NAME = r'(?:"(?:[^"]|"")*"|\[[^\]]*\]|`[^`]*`|\w+)'
# UPDATE [OR mode] [schema.]table ... / DELETE FROM [schema.]table ...
_WRITE = re.compile(
    rf"{_NOISE}(?P<verb>UPDATE|DELETE)\b{_NOISE}(?:OR\s+\w+\b{_NOISE}|FROM\b{_NOISE})?"
    rf"(?:{_NAME}{_NOISE}\.{_NOISE})?(?P<table>{_NAME})",
    re.S | re.I,
)
# What may follow a DELETE's table for it to skip the read: [AS alias] WHERE, then
# `column = value` or `column IN (values)` terms joined by AND; a value is a parameter,
# a number or a string. Anything else (a subquery, a view, a function: any of them may
# probe the table being deleted from) reads first.
_VALUE = r"(?:[?:@$]\w*|[-+]?\d+|'(?:[^']|'')*')"
_TERM = (
    rf"(?:{_NAME}{_NOISE}\.{_NOISE})?{_NAME}{_NOISE}"
    rf"(?:==?{_NOISE}{_VALUE}|IN{_NOISE}\({_NOISE}{_VALUE}(?:{_NOISE},{_NOISE}{_VALUE})*{_NOISE}\))"
)
_KEYED_DELETE_REST = re.compile(
    rf"{_NOISE}(?:(?:AS{_NOISE})?(?!WHERE\b){_NAME}{_NOISE})?WHERE{_NOISE}{_TERM}"
    rf"(?:{_NOISE}AND{_NOISE}{_TERM})*{_NOISE};?{_NOISE}",
    re.S | re.I,
)


def write_target(sql: str) -> tuple[str, str] | None:
    """("UPDATE" or "DELETE", lower-cased table) for a statement that starts so, else None.

    Statements with a WITH clause or other prefixes give None: callers then take the
    safe path (read before writing). So does a DELETE whose WHERE is more than keys
    compared with values: its target cursor and a probe of the same table (``EXISTS
    (SELECT ... FROM release_assets ...)``, maybe through a view or a function) ask
    SQLite for the same columns, and only a read tells them apart. (An UPDATE's target
    is the cursor asked for every column.)
    """
    match = _WRITE.match(sql)
    if match is None:
        return None
    table = match.group("table")
    if table[0] in '"[`':
        table = table[1:-1].replace('""', '"')
    verb = match.group("verb").upper()
    if verb == "DELETE" and not _KEYED_DELETE_REST.fullmatch(sql, match.end()):
        return None
    return verb, table.lower()


@dataclass(frozen=True)
class StatementState:
    """What one top-level statement fetched (a finished fetch is replayed, not asked
    again), learned of releases, and writes."""

    cache: dict[tuple[Any, ...], list[Batch]] = field(default_factory=dict)
    facts: StatementFacts = field(default_factory=StatementFacts)
    write_target: tuple[str, str] | None = None


class StatementTracker:
    """The state of each running top-level statement, by SQLite's statement id."""

    def __init__(self) -> None:
        self._current: int | None = None  # the top-level statement started last
        self._running: dict[int, StatementState] = {}
        self._opened: set[int] = set()  # running statements that opened a cursor
        # A statement SQLite prepares again (its schema changed) reports an end before
        # its first cursor, then runs on with no new start.
        self._ended_early: tuple[int, StatementState] | None = None
        self._nested: set[int] = set()  # run by a Python function inside a statement

    def started(self, statement_id: int, sql: str) -> None:
        """A top-level statement starts, with a fresh state of its own."""
        self._ended_early = None
        self._nested.clear()  # no Python function is running a statement now
        self._current = statement_id
        self._running[statement_id] = StatementState(write_target=write_target(sql))

    def any_running(self) -> bool:
        """Whether a top-level statement is running (a statement flagged as a trigger can
        only run inside one: APSW also flags a statement whose SQL starts with ``--``)."""
        # A statement prepared again left _running at its early end and runs on: what it
        # runs is flagged as a trigger too. Until its final end, count it as running.
        return bool(self._running) or self._ended_early is not None

    def started_inside(self, statement_id: int) -> None:
        """A statement flagged as a trigger starts: a trigger program of a running
        statement (the same id), or one a Python function runs (another id)."""
        state = self._running.get(statement_id)
        if state is None:
            self._nested.add(statement_id)
        elif state.write_target is not None:
            # A virtual table has no triggers: the statement writes a local table of the
            # same name, and no cursor it opens is its target.
            self._running[statement_id] = replace(state, write_target=None)

    def ended(self, statement_id: int) -> None:
        """A statement ends. One a function runs stays nested until the next top-level
        start: prepared again after a schema change, it reports an end and runs on."""
        state = self._running.pop(statement_id, None)
        if state is not None and statement_id not in self._opened:
            self._ended_early = (statement_id, state)
        elif self._ended_early is not None and self._ended_early[0] == statement_id:
            self._ended_early = None  # its run after being prepared again is over
        self._opened.discard(statement_id)

    def state_for_new_cursor(self) -> StatementState:
        """The state of the statement a cursor opened now belongs to.

        The statement started last, while it runs. Otherwise (a cursor opened late, after
        another statement ran) the only statement still running; a statement prepared
        again, its own state when no other runs; else, and for a statement a Python
        function runs, a fresh state (never the target of the statement that runs it).
        """
        if self._nested:
            return StatementState()
        current = self._current
        if current is not None and current in self._running:
            self._opened.add(current)
            return self._running[current]
        if self._ended_early is not None and self._ended_early[0] == current:
            return StatementState() if self._running else self._ended_early[1]
        if len(self._running) == 1:
            return next(iter(self._running.values()))
        return StatementState()
