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
from sqlgh.tables.spec import Api, Record

_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*", re.S)
_WORD = re.compile(r"[A-Za-z]+")


def statement_verb(sql: str) -> str:
    """The first keyword of a statement, upper-cased, skipping blanks and comments."""
    start = _LEADING_NOISE.match(sql)
    match = _WORD.match(sql, start.end() if start else 0)
    return match.group(0).upper() if match else ""


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
        self.statement_cache: dict[tuple[Any, ...], list[Record]] = {}
        self.rows_by_rowid: dict[tuple[str, int], Record] = {}
        self.applied: list[str] = []
        self.verb = ""

    def attach(self, connection: apsw.Connection) -> None:
        """Follow the connection's statements (to reset the cache and know the verb)."""
        connection.trace_v2(apsw.SQLITE_TRACE_STMT, self._on_statement, id=("sqlgh", id(self)))

    def _on_statement(self, event: dict[str, Any]) -> None:
        if event.get("trigger"):
            return
        self.statement_cache.clear()
        self.memo.end_statement()
        self.rows_by_rowid.clear()
        self.applied.clear()
        self.verb = statement_verb(event.get("sql") or "")
