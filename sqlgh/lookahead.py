"""The rows of a multi-row INSERT, known before its first row is written.

SQLite hands a virtual table an INSERT one row at a time, so the first row cannot tell
how many follow. To refuse an INSERT that would cross one of GitHub's limits before its
first upload, the statement's row source is run once more, on its own, when its first
row arrives: the running statement's text (from SQLite's trace) without its ``INSERT ...
INTO table (columns)`` clause, with the bindings it was run with (kept by
``BindingsCursor``). That is a SELECT, a VALUES list, or either after a WITH.

Bounds, where no look-ahead is made (the write then checks each row before its own
upload, as always):
- a statement run with ``executemany``, or with positional bindings alongside other
  statements in the same ``execute`` (which bindings are its own cannot be told);
- a statement whose text does not name the table plainly after ``INSERT [OR ...] INTO``,
  or whose column list names other than the table's columns (comments in it are
  skipped), or that has RETURNING, or whose source calls a function with side effects
  (``download()``, ``writefile()``): they would run twice;
- a source that fails on its own (its error comes again from the real run).
The source is run twice: requests it makes are made again (often answered from the
cache), and what it reads may have changed by the second run (each row is still checked
before its upload). A source that calls ``readfile()`` is first counted (``count(*)``,
which reads no file); only when it has several rows are its files read again.

Why the text, read with regular expressions: SQLite gives no more. APSW hands over a
statement's whole text (the trace's ``sql``, ``Cursor.sql`` and ``expanded_sql``:
https://rogerbinns.github.io/apsw/cursor.html), and the authorizer (``Connection
.authorizer``, ``apsw.ext.query_info(actions=True)``) reports an INSERT as
``SQLITE_INSERT`` with its table name only, and the functions it calls as
``SQLITE_FUNCTION`` (https://sqlite.org/c3ref/c_alter_table.html): neither the column list
nor where the row source starts, which the re-run needs. Checked on APSW 3.54:
``INSERT INTO t (b, a) SELECT upper(x), y FROM s`` reports INSERT t, SELECT, FUNCTION
upper, READ s.x, READ s.y.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import apsw

from sqlgh.errors import SqlghError
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.tables.spec import Table

_TARGET = re.compile(
    r"\bINSERT\s+(?:OR\s+[A-Za-z]+\s+)?INTO\s+(?:(?:main|temp|\"main\"|\"temp\")\s*\.\s*)?"
    r"(?P<table>\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:\((?P<columns>[^()]*)\))?",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
_READS_FILES = re.compile(r"\breadfile\s*\(", re.IGNORECASE)
_TWICE_UNSAFE = re.compile(r"\b(?:download|writefile)\s*\(|\bRETURNING\b", re.IGNORECASE)
MANY = object()  # the bindings of an executemany: which one is running is not known


class BindingsCursor(apsw.Cursor):
    """An APSW cursor that tells ``given`` (a session's) what it runs, with which
    bindings: ``given.given = (connection, statements, bindings)``, the connection by a
    weak reference (the session must not keep its connection alive)."""

    def __init__(self, connection: apsw.Connection, given: Any) -> None:
        super().__init__(connection)
        self._given = given

    def execute(self, statements: str, bindings: Any = None, **options: Any) -> Any:
        self._given.given = (weakref.ref(self.connection), statements, bindings)
        return super().execute(statements, bindings, **options)

    def executemany(self, statements: str, sequenceofbindings: Any, **options: Any) -> Any:
        self._given.given = (weakref.ref(self.connection), statements, MANY)
        return super().executemany(statements, sequenceofbindings, **options)


def _name(quoted: str) -> str:
    if quoted[:1] in "\"`[":
        return quoted[1:-1]
    return quoted


def rows_ahead(
    connection: apsw.Connection, statement: str | None, given: Any, table: Table
) -> list[dict[str, Any]] | None:
    """Every row the running INSERT ``statement`` into ``table`` will hand over, as
    {column: value}; None when that cannot be told (see the module's notes)."""
    if statement is None or given is None or _TWICE_UNSAFE.search(statement):
        return None
    given_connection, text, bindings = given
    if given_connection() is not connection or bindings is MANY:
        return None
    positional = bindings is not None and not isinstance(bindings, dict)
    if positional and text.strip().rstrip(";").strip() != statement.strip().rstrip(";").strip():
        return None
    target = _TARGET.search(statement)
    if target is None or _name(target["table"]).lower() != table.name:
        return None
    if target["columns"] is not None:
        listed = _COMMENT.sub(" ", target["columns"])
        columns = [_name(c.strip()).lower() for c in listed.split(",")]
        if not set(columns) <= {c.name for c in table.columns}:
            return None  # not read as SQLite reads it: no look-ahead, rather than a wrong one
    else:
        columns = [c.name for c in table.columns if not c.hidden]
    source = (statement[: target.start()] + statement[target.end() :]).rstrip().rstrip(";")
    try:
        # Plain cursors: these runs must not replace what the session was given.
        if _READS_FILES.search(source):
            # count(*) leaves the columns unevaluated: a single row's file is read once
            count = f"SELECT count(*) FROM ({source}\n)"
            if apsw.Cursor(connection).execute(count, bindings).fetchall()[0][0] <= 1:
                return None
        found = apsw.Cursor(connection).execute(source, bindings)
        return [dict(zip(columns, row, strict=True)) for row in found]
    except (apsw.Error, SqlghError, GitHubError, TransportError, ValueError):
        return None
