"""Query results as a GitHub-flavoured Markdown table (the shell's ``markdown`` mode)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def cell(value: Any, null: str = "") -> str:
    """One value as Markdown table text: pipes escaped, newlines as ``<br>``."""
    if value is None:
        text = null
    elif isinstance(value, bytes):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")
    )


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], null: str = "") -> str:
    """A padded Markdown table; columns whose values are all numbers are right-aligned."""
    texts = [[cell(v, null) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], (int, float)) for row in rows if row[i] is not None)
        and any(row[i] is not None for row in rows)
        for i in range(len(columns))
    ]
    widths = [
        max([3, len(cell(name)), *(len(row[i]) for row in texts)]) for i, name in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])
            for i, value in enumerate(values)
        ]
        return "| " + " | ".join(padded) + " |\n"

    rule = [
        "-" * (widths[i] - 1) + ":" if numeric[i] else "-" * widths[i] for i in range(len(columns))
    ]
    header = [cell(name) for name in columns]
    return line(header) + line(rule) + "".join(line(r) for r in texts)
