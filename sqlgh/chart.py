"""``--format chart``: a query's last column drawn as horizontal bars (rich's ``Bar``).

Every other column makes the label of its row; the last column must be a number (NULL
counts as 0). Bars are scaled to the largest value; a negative value gets no bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO
from typing import Any

from rich.bar import Bar
from rich.console import Console
from rich.table import Table

from sqlgh.errors import InputError

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
        values.append(value)
    return values


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
        " ".join(null if cell is None else str(cell) for cell in row[:-1]) for row in rows
    ]
    numbers = [number_text(v) for v in values]
    label_width = max([len(" ".join(column_names[:-1])), *map(len, labels)], default=0)
    number_width = max([len(column_names[-1]), *map(len, numbers)])
    bar_width = max(MIN_BAR_WIDTH, width - label_width - number_width - 3)
    table = Table(box=None, padding=(0, 1, 0, 0), show_edge=False, header_style="bold")
    table.add_column(" ".join(column_names[:-1]), no_wrap=True)
    table.add_column(column_names[-1], justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for label, number, value in zip(labels, numbers, values, strict=True):
        table.add_row(label, number, Bar(largest, 0, max(value, 0), width=bar_width))
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
