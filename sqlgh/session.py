"""What one SQLite connection shares across its sqlgh tables.

The client and memo live as long as the connection. The statement cache lives for one
top-level statement: a join calls the inner table once per outer row, and the same key
values often repeat, so a finished fetch is replayed instead of asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import apsw

from sqlgh.github.client import Client
from sqlgh.tables.memo import Memo, StatementFacts
from sqlgh.tables.spec import Api, Batch, Record

_NOISE = r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*"
_NAME = r'(?:"(?:[^"]|"")*"|\[[^\]]*\]|`[^`]*`|\w+)'
# UPDATE [OR mode] [schema.]table ... / DELETE FROM [schema.]table ...
_WRITE = re.compile(
    rf"{_NOISE}(?P<verb>UPDATE|DELETE)\b{_NOISE}(?:OR\s+\w+\b{_NOISE}|FROM\b{_NOISE})?"
    rf"(?:{_NAME}{_NOISE}\.{_NOISE})?(?P<table>{_NAME})",
    re.S | re.I,
)


def write_target(sql: str) -> tuple[str, str] | None:
    """("UPDATE" or "DELETE", lower-cased table) for a statement that starts so, else None.

    Statements with a WITH clause or other prefixes give None: callers then take the
    safe path (read before writing).
    """
    match = _WRITE.match(sql)
    if match is None:
        return None
    table = match.group("table")
    if table[0] in '"[`':
        table = table[1:-1].replace('""', '"')
    verb, table = match.group("verb").upper(), table.lower()
    # A DELETE's target cursor and a probe of the same table (EXISTS (SELECT ... FROM the
    # table)) ask for the same columns: a DELETE that names its table again reads first.
    if verb == "DELETE" and re.search(rf"\b{re.escape(table)}\b", sql[match.end() :], re.I):
        return None
    return verb, table


@dataclass(frozen=True)
class StatementState:
    """What one top-level statement fetched (a finished fetch is replayed, not asked
    again), learned of releases, and writes."""

    cache: dict[tuple[Any, ...], list[Batch]] = field(default_factory=dict)
    facts: StatementFacts = field(default_factory=StatementFacts)
    write_target: tuple[str, str] | None = None


class Session:
    """Per-connection state: the GitHub client, the memo and per-statement bookkeeping.

    ``rows_by_rowid`` keeps the rows a write statement visited (SQLite may collect rowids
    first and write later); ``applied`` lists what the statement already did on GitHub.
    APSW lets a statement run while another is still being read, so each cursor takes the
    ``StatementState`` of its own statement (``state_for_new_cursor``).
    """

    def __init__(self, client: Client, options: dict[str, Any] | None = None) -> None:
        self.client = client
        self.memo = Memo()
        self.options = dict(options or {})
        self.api = Api(client, self.memo, self.options)
        self.rows_by_rowid: dict[tuple[str, int], Record] = {}
        self.applied: list[str] = []
        self._current: int | None = None
        self._running: dict[int, StatementState] = {}  # by SQLite's statement id

    def attach(self, connection: apsw.Connection) -> None:
        """Follow the connection's statements: when each starts (a fresh state, what it
        writes) and when it finishes."""
        connection.trace_v2(
            apsw.SQLITE_TRACE_STMT | apsw.SQLITE_TRACE_PROFILE,
            self._on_statement,
            id=("sqlgh", id(self)),
        )

    def state_for_new_cursor(self) -> StatementState:
        """The state of the statement a cursor opened now belongs to: the one started last,
        while it runs. SQLite may open a cursor late (a subquery first needed on a later
        row), after another statement ran: then the only statement still running, or, when
        several are, a state of the cursor's own, which is always safe."""
        current = self._running.get(self._current) if self._current is not None else None
        if current is not None:
            return current
        if len(self._running) == 1:
            return next(iter(self._running.values()))
        return StatementState()

    def _on_statement(self, event: dict[str, Any]) -> None:
        if event["code"] == apsw.SQLITE_TRACE_PROFILE:  # a statement finished
            self._running.pop(event["id"], None)
            return
        if event.get("trigger"):  # a trigger, or a statement run by a function it calls
            return
        self.memo.end_statement()
        self.rows_by_rowid.clear()
        self.applied.clear()
        self._current = event["id"]
        # A new state, not a cleared one: a fetch still running for an earlier statement
        # (a prefetch cut short by LIMIT) keeps filling the old one.
        self._running[event["id"]] = StatementState(
            facts=self.memo.statement, write_target=write_target(event.get("sql") or "")
        )
