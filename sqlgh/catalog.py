"""What the shell says about sqlgh's tables: ``.tables``, ``.schema``, ``.keys``, hints.

SQLite keeps eponymous virtual tables out of ``sqlite_schema`` (and ``PRAGMA
table_list``), so the shell describes them from their specs instead.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Iterable

from sqlgh import download_table
from sqlgh.tables import TABLES, Table
from sqlgh.tables.spec import AccessPath

# Every table a connection has: the specs', and download_assets (a module of its own)
SHOWN_TABLES: tuple[Table, ...] = (*TABLES, download_table.SPEC)
# A value for a key column in an example query, by column name; else by SQL type
EXAMPLE_VALUES = {
    "owner": "'OWNER'",
    "repo": "'REPO'",
    "name": "'REPO'",
    "tag_name": "'v1.0.0'",
    "destination": "'downloads/'",
}


def table_named(name: str) -> Table | None:
    """sqlgh's table of that name (case-insensitive, as SQLite's names are)."""
    for table in SHOWN_TABLES:
        if table.name.lower() == name.lower():
            return table
    return None


def key_columns(table: Table) -> list[str]:
    """The columns some access path takes from WHERE, in column order."""
    keys = {key for path in table.paths for key in path.keys}
    return sorted(keys, key=table.column_index)


def first_sentence(text: str) -> str:
    """The first sentence of a doc string."""
    return text.split(". ")[0].rstrip(".") + "."


def schema(table: Table) -> str:
    """The table as a commented CREATE TABLE: hidden and key columns marked."""
    keys = key_columns(table)
    lines = [
        f"-- {table.name} (a sqlgh table): {first_sentence(table.doc)}",
        f"-- Needs {table.needs} in WHERE or a join;" if keys else "-- Needs no WHERE;",
        f"-- .keys {table.name} shows what each way costs. HIDDEN columns: read when named.",
        f"CREATE TABLE {table.name}(",
    ]
    for index, column in enumerate(table.columns):
        notes = [n for n, on in (("key", column.name in keys), ("JSON", column.json)) if on]
        if column.name == table.rowid:
            notes.append("rowid")
        comma = "," if index < len(table.columns) - 1 else ""
        comment = f"  -- {', '.join(notes)}" if notes else ""
        lines.append(f"  {column.declaration}{comma}{comment}")
    return "\n".join(lines) + "\n);\n"


def example(table: Table, path: AccessPath) -> str:
    """A query that takes ``path``."""
    where = " AND ".join(f"{key} = {_example_value(table, key)}" for key in path.keys)
    return f"SELECT * FROM {table.name}" + (f" WHERE {where}" if where else "") + ";"


def _example_value(table: Table, key: str) -> str:
    if key in EXAMPLE_VALUES:
        return EXAMPLE_VALUES[key]
    return "123" if table.columns[table.column_index(key)].sql_type == "INTEGER" else "'VALUE'"


def access_paths(table: Table, width: int = 80) -> str:
    """Each access path of ``table``: its key columns, what it costs, an example; the
    cost wrapped to ``width`` columns."""
    lines = [f"{table.name}: the ways a query is answered, cheapest first"]
    lines += textwrap.wrap(f"It needs {table.needs}.", width, subsequent_indent="  ")
    for path in sorted(table.paths, key=lambda p: p.cost):
        given = ", ".join(path.keys) or "nothing"
        cost = textwrap.fill(
            path.requests, width, initial_indent="  requests: ", subsequent_indent=" " * 12
        )
        lines += [f"{path.name}: WHERE gives {given}", cost, f"  example:  {example(table, path)}"]
    return "\n".join(lines) + "\n"


def tables_help() -> str:
    """One line per table, for ``.help``."""
    width = max(len(table.name) for table in SHOWN_TABLES)
    lines = ["sqlgh's tables (.schema TABLE for columns, .keys TABLE for what queries cost):"]
    lines += [f"  {t.name.ljust(width)}  {first_sentence(t.doc)}" for t in SHOWN_TABLES]
    return "\n".join(lines) + "\n"


def did_you_mean(name: str, others: Iterable[str] = ()) -> str:
    """A hint for ``no such table: NAME``: the closest table name, if one is close."""
    names = [table.name for table in SHOWN_TABLES] + list(others)
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]}? (.tables lists the tables)"
    return "; .tables lists the tables"
