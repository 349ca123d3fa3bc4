"""``--format chart``: a query's last column drawn as horizontal bars (rich's ``Bar``).

Every other column makes the label of its row; the last column must be a finite number
(NULL counts as 0). Bars are scaled to the largest value; a negative value gets no bar.
Labels are shown as they are: no rich markup is read in them, and a control character (a
newline too: a label takes one line) is shown in caret notation (``^J``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from io import StringIO
from typing import Any

from rich.bar import Bar
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sqlgh.errors import InputError
from sqlgh.text_table import visible

MIN_BAR_WIDTH = 10


def number_text(value: int | float) -> str:
    """``1,234`` or ``12.5``: a value beside its bar."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"


def _values(column_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int | float]:
    values = []
    for number, row in enumerate(rows, 1):
        value = row[-1]
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(
                f"chart: the last column ({column_names[-1]}) is drawn as bars and must be a "
                f"number, but row {number} has {value!r}; end the SELECT with a numeric "
                "column, or choose another --format (.mode)"
            )
        if not math.isfinite(value):  # 1e999 is infinite in SQLite too
            raise InputError(
                f"chart: the last column ({column_names[-1]}) is drawn as bars, but row "
                f"{number} has {value}, which no bar can show; leave such rows out (WHERE "
                f"{column_names[-1]} BETWEEN -9e307 AND 9e307) or choose another --format"
            )
        values.append(value)
    return values


def _label(text: str) -> str:
    """``text`` on one line, each control character (a newline too) in caret notation."""
    return visible(text).replace("\n", "^J")


def bar_chart(
    column_names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    width: int,
    *,
    colour: bool = False,
    null: str = "",
) -> str:
    """The rows as a bar chart at most ``width`` characters wide, a header line first."""
    if not column_names:
        return ""
    values = _values(column_names, rows)
    largest = max([v for v in values if v > 0], default=1)
    labels = [
        _label(" ".join(null if cell is None else str(cell) for cell in row[:-1]))
        for row in rows
    ]
    numbers = [number_text(v) for v in values]
    heading, last = _label(" ".join(column_names[:-1])), _label(column_names[-1])
    label_width = max([cell_len(heading), *map(cell_len, labels)], default=0)
    number_width = max([cell_len(last), *map(cell_len, numbers)])
    bar_width = max(MIN_BAR_WIDTH, width - label_width - number_width - 3)
    table = Table(box=None, padding=(0, 1, 0, 0), show_edge=False, header_style="bold")
    table.add_column(Text(heading), no_wrap=True)
    table.add_column(Text(last), justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for label, number, value in zip(labels, numbers, values, strict=True):
        table.add_row(Text(label), number, Bar(largest, 0, max(value, 0), width=bar_width))
    out = StringIO()
    console = Console(
        file=out,
        width=label_width + number_width + bar_width + 3,  # a space after each column
        color_system="standard" if colour else None,
        force_terminal=colour,
        highlight=False,
    )
    console.print(table)
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())
