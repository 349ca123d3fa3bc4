"""What one SQLite connection shares across its sqlgh tables.

The client and memo live as long as the connection. The statement cache lives for one
top-level statement: a join calls the inner table once per outer row, and the same key
values often repeat, so a finished fetch is replayed instead of asked again.
"""

from __future__ import annotations

import re
from typing import Any

import apsw

from sqlgh.github.client import Client
from sqlgh.tables.memo import Memo
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
    return match.group("verb").upper(), table.lower()


class Session:
    """Per-connection state: the GitHub client, the memo and per-statement bookkeeping.

    ``rows_by_rowid`` keeps the rows a write statement visited (SQLite may collect rowids
    first and write later); ``applied`` lists what the statement already did on GitHub.
    """

    def __init__(self, client: Client, options: dict[str, Any] | None = None) -> None:
        self.client = client
        self.memo = Memo()
        self.options = dict(options or {})
        self.api = Api(client, self.memo, self.options)
        self.statement_cache: dict[tuple[Any, ...], list[Batch]] = {}
        self.rows_by_rowid: dict[tuple[str, int], Record] = {}
        self.applied: list[str] = []
        self.write_target: tuple[str, str] | None = None

    def attach(self, connection: apsw.Connection) -> None:
        """Follow the connection's statements (to reset the cache and know what they write)."""
        connection.trace_v2(apsw.SQLITE_TRACE_STMT, self._on_statement, id=("sqlgh", id(self)))

    def _on_statement(self, event: dict[str, Any]) -> None:
        if event.get("trigger"):
            return
        # A new dict, not clear(): a fetch still running for an earlier statement (a
        # prefetch cut short by LIMIT) keeps filling the old one.
        self.statement_cache = {}
        self.memo.end_statement()
        self.rows_by_rowid.clear()
        self.applied.clear()
        self.write_target = write_target(event.get("sql") or "")
