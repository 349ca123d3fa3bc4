"""Turning a record into the row SQLite reads: the hot path of every SELECT.

SQLite asks ``Cursor.Column`` once per cell, and each of those calls crosses from C into
Python. ``RowBuilder`` therefore computes the used cells of a record once, in one Python
loop (top-level JSON fields by a plain ``dict.get``), so ``Column`` is a list index.
Cells that need a request (a download) are left as ``LATER`` and computed on demand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlgh.tables.spec import Table

LATER: Any = object()  # a cell computed only when SQLite asks for it


class RowBuilder:
    """Builds rows of ``table`` holding only the columns in ``used`` (None: all)."""

    def __init__(self, table: Table, used: set[int] | None) -> None:
        columns = table.columns
        wanted = range(len(columns)) if used is None else sorted(used)
        self.width = len(columns)
        self.top: list[tuple[int, str]] = []
        self.context: list[tuple[int, str]] = []
        self.other: list[tuple[int, Any]] = []
        self.later: list[int] = []
        for index in wanted:
            if not 0 <= index < len(columns):
                continue
            column = columns[index]
            if column.load is not None:
                self.later.append(index)
            elif column.path is None:
                self.context.append((index, column.name))
            elif column.top_level_key is not None:
                self.top.append((index, column.top_level_key))
            else:
                self.other.append((index, column.get))
        # One more cell than columns, always LATER: Column(-1) (the rowid) lands there.
        self.empty: list[Any] = [None] * self.width + [LATER]
        for index in self.later:
            self.empty[index] = LATER

    def build(self, ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> list[Any]:
        """The row for one record."""
        row = self.empty.copy()
        get = obj.get
        for index, key in self.top:
            row[index] = get(key)
        for index, name in self.context:
            row[index] = ctx.get(name)
        for index, getter in self.other:
            row[index] = getter(ctx, obj)
        return row

    def pending(self) -> list[Any]:
        """A row whose every cell is computed on demand (a write that need not read)."""
        return [LATER] * (self.width + 1)


def parse_used(col_used: str | None, whole_row: str) -> set[int] | None:
    """The column numbers an ``idxStr`` names; None for every column."""
    if col_used is None or col_used == whole_row:
        return None
    return {int(c) for c in col_used.split(",") if c}
