"""Turning a record into the row SQLite reads: the hot path of every SELECT.

SQLite asks ``Cursor.Column`` once per cell, and each of those calls crosses from C into
Python. ``RowBuilder`` therefore computes the used cells of a record at once, with a
function compiled for the query's columns (top-level JSON fields by a plain ``dict.get``),
so ``Column`` is a list index; when no cell is deferred, it is the row's own C-level
``__getitem__``, which spares SQLite a Python call per cell.
Cells that need a request (a download) are left as ``LATER`` and computed on demand.
A JSON object or array where a column holds a plain value (a damaged or hostile answer)
is refused with an error naming the column: SQLite could not store it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlgh.errors import RemoteError
from sqlgh.tables.spec import Table, object_text, to_sql

LATER: Any = object()  # a cell computed only when SQLite asks for it
NESTED = frozenset({dict, list})  # JSON values SQLite cannot hold in a cell


def not_a_value(table: Table, index: int, value: Any, obj: Mapping[str, Any]) -> Any:
    """Raise the error for a JSON object or array (``value``) in a plain column."""
    column = table.columns[index]
    kind = "an object" if isinstance(value, dict) else "an array"
    row = obj.get("id")
    where = f" (row with id {row})" if type(row) in (int, str) else ""
    raise RemoteError(
        f"{table.name}.{column.name}: GitHub's answer holds {kind} where a {column.sql_type} "
        f"value belongs{where}, which GitHub does not document; leave the column out of the "
        "query, or run it again later (the answer may have been damaged on the way)"
    )


def checked(table: Table, index: int, value: Any, obj: Mapping[str, Any]) -> Any:
    """``value`` for column ``index`` of ``table``, or the error of ``not_a_value``."""
    if type(value) in NESTED and not table.columns[index].json:
        not_a_value(table, index, value, obj)
    return value


class RowBuilder:
    """Builds rows of ``table`` holding only the columns in ``used`` (None: all)."""

    def __init__(self, table: Table, used: set[int] | None) -> None:
        self.table = table
        columns = table.columns
        wanted = set(range(len(columns))) if used is None else used
        self.width = len(columns)
        cells: list[str] = []
        # The context keys the row reads: a Deferred among them makes the row indirect.
        self.from_context = frozenset(
            column.name
            for index, column in enumerate(columns)
            if index in wanted and column.path is None and column.load is None
        )
        namespace: dict[str, Any] = {
            "LATER": LATER,
            "to_sql": to_sql,
            "object_text": object_text,
            "NESTED": NESTED,
            "not_a_value": not_a_value,
            "table": table,
        }
        for index, column in enumerate(columns):
            if index not in wanted:
                cells.append("None")
            elif column.load is not None:
                cells.append("LATER")
            elif column.path is None:
                cells.append(f"ctx.get({column.name!r})")
            elif column.plain_keys is not None and column.json:
                # objects (the common case) skip to_sql's dispatch
                value = f"j{index}"
                cell = _dig(column.plain_keys, f"v{index}")
                cells.append(
                    f"(object_text({value}) if type({value} := {cell}) is dict "
                    f"else to_sql({value}))"
                )
            else:
                if column.plain_keys is not None:
                    cell = _dig(column.plain_keys, f"v{index}")
                else:
                    namespace[f"cell_{index}"] = column.get
                    cell = f"cell_{index}(ctx, obj)"
                if not column.json:
                    value = f"c{index}"
                    cell = (
                        f"({value} if type({value} := {cell}) not in NESTED "
                        f"else not_a_value(table, {index}, {value}, obj))"
                    )
                cells.append(cell)
        # One more cell than columns, for Column(-1): the rowid, when a plain field gives it.
        rowid = table.columns[table.column_index(table.rowid)] if table.rowid else None
        if rowid is not None and rowid.plain_keys is not None and not rowid.json:
            cells.append(_dig(rowid.plain_keys, "rowid"))
        else:
            cells.append("LATER")
        # Every cell SQLite may ask for is a value: Column can be the row's own indexing.
        self.direct = "LATER" not in cells
        # The row is one list display, compiled once per query: a loop over cells costs
        # a Python iteration per cell, and this is the hot path of every SELECT.
        source = f"def build(ctx, obj):\n    get = obj.get\n    return [{', '.join(cells)}]\n"
        exec(compile(source, f"<row builder of {table.name}>", "exec"), namespace)
        self.build: Callable[[Mapping[str, Any], Mapping[str, Any]], list[Any]] = namespace["build"]

    def pending(self) -> list[Any]:
        """A row whose every cell is computed on demand (a write that need not read)."""
        return [LATER] * (self.width + 1)


def _dig(keys: tuple[str, ...], name: str) -> str:
    """An expression for ``obj[k1][k2]...`` that gives None where a level is not an object.

    ``("uploader", "login")`` -> ``(v.get('login') if type(v := get('uploader')) is dict
    else None)``.
    """
    expression = f"get({keys[0]!r})"
    for depth, key in enumerate(keys[1:]):
        level = f"{name}_{depth}"
        expression = f"({level}.get({key!r}) if type({level} := {expression}) is dict else None)"
    return expression


def row_builder(table: Table, used: set[int] | None) -> RowBuilder:
    """The row builder of a table for a set of used columns, compiled once and reused."""
    key = (id(table), None if used is None else frozenset(used))
    builder = _BUILDERS.get(key)
    if builder is None or builder.table is not table:
        builder = _BUILDERS[key] = RowBuilder(table, used)
    return builder


_BUILDERS: dict[tuple[int, frozenset[int] | None], RowBuilder] = {}


def parse_used(col_used: str | None, whole_row: str) -> set[int] | None:
    """The column numbers an ``idxStr`` names; None for every column."""
    if col_used is None or col_used == whole_row:
        return None
    return {int(c) for c in col_used.split(",") if c}
