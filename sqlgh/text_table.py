"""Query results as a box or ASCII table that fits a width without changing any text.

APSW's box/table modes squeeze columns to one letter, hyphenate headers, collapse runs of
spaces and (in ``table`` mode) turn spaces and parentheses into dots. Here a value keeps
its characters: a line too long for its column is cut and ends with an ellipsis, a column
is never narrower than its header (nor a number cut), and only control characters other
than a newline are shown in caret notation (``^I`` for a tab), which a terminal could not
show in a cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apsw.unicode import (
    grapheme_length,
    grapheme_substr,
    split_lines,
    text_width,
    text_width_substr,
)

# top, cell separator, under the header, between rows, bottom
UNICODE_LINES = ("╭─┬╮", "│", "╞═╪╡", "├─┼┤", "╰─┴╯")
ASCII_LINES = ("+-++", "|", "+=++", "+-++", "+-++")
CELL_PADDING = 3  # "│ " before a cell's text and " " after it


@dataclass(frozen=True)
class Style:
    """How a table is drawn."""

    width: int  # columns the whole table may take
    unicode: bool = True
    null: str = "NULL"
    truncate: int = 0  # characters a value shows at most, over all its lines (0: all)

    @property
    def ellipsis(self) -> str:
        """What ends a cut line."""
        return "…" if self.unicode else "~"


def visible(text: str) -> str:
    """``text`` with each control character but the newline in caret notation."""
    if text.isprintable():
        return text
    return "".join(_caret(c) if c != "\n" and (c < " " or c == "\x7f") else c for c in text)


def _caret(char: str) -> str:
    return "^" + chr(ord(char) ^ 0x40)


def cell_text(value: Any, null: str) -> str:
    """One value as the table shows it: text as it is, blobs by their size."""
    if value is None:
        return null
    if isinstance(value, bytes):
        return f"[ {len(value)} bytes ]"
    return visible(str(value))


def fit_widths(natural: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Column widths within ``room`` text columns: the widest columns give way first, and
    none goes below its floor (its header's width, or its widest number). With no room
    even at the floors, the floors: the table is then wider than asked, not unreadable."""
    if sum(natural) <= room:
        return list(natural)
    low, high = 0, max(natural)  # the largest cap on a width that fits
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(f, min(n, cap)) for n, f in zip(natural, floors, strict=True)) <= room:
            low = cap
        else:
            high = cap - 1
    widths = [max(f, min(n, low)) for n, f in zip(natural, floors, strict=True)]
    spare = room - sum(widths)
    for i, n in enumerate(natural):  # hand out what the cap left over, left to right
        grow = min(spare, n - widths[i])
        if grow > 0:
            widths[i] += grow
            spare -= grow
    return widths


def _cut(line: str, width: int, ellipsis: str) -> str:
    if text_width(line) <= width:
        return line
    room = width - text_width(ellipsis)
    if room < 1:  # a column one character wide holds the ellipsis alone
        return ellipsis
    return text_width_substr(line, room)[1] + ellipsis


def _pad(text: str, width: int, align: str) -> str:
    room = width - text_width(text)
    if align == "right":
        return " " * room + text
    if align == "center":
        return " " * (room // 2) + text + " " * (room - room // 2)
    return text + " " * room


def render(names: Sequence[str], rows: Sequence[Sequence[Any]], style: Style) -> str:
    """The rows under their column names, drawn in ``style``."""
    texts = [[_lines(_shortened(cell_text(v, style.null), style)) for v in row] for row in rows]
    headers = [_lines(visible(name)) for name in names]
    floors = [max(1, *(text_width(line) for line in lines)) for lines in headers]
    natural = list(floors)
    for row, values in zip(texts, rows, strict=True):
        for i, lines in enumerate(row):
            natural[i] = max(natural[i], *(text_width(line) for line in lines))
            if isinstance(values[i], (int, float)):  # a number is never cut
                floors[i] = max(floors[i], text_width(lines[0]))
    room = style.width - CELL_PADDING * len(names) - 1
    widths = fit_widths(natural, floors, room)
    top, bar, first, between, bottom = UNICODE_LINES if style.unicode else ASCII_LINES

    def rule(chars: str) -> str:
        inner = chars[2].join(chars[1] * (w + 2) for w in widths)
        return chars[0] + inner + chars[3]

    def draw(cells: Sequence[list[str]], aligns: Sequence[str]) -> list[str]:
        height = max(len(lines) for lines in cells)
        out = []
        for n in range(height):
            parts = []
            for i, lines in enumerate(cells):
                line = _cut(lines[n], widths[i], style.ellipsis) if n < len(lines) else ""
                parts.append(" " + _pad(line, widths[i], aligns[i]) + " ")
            out.append(bar + bar.join(parts) + bar)
        return out

    lines = [rule(top), *draw(headers, ["center"] * len(names))]
    multiline = any(len(cell) > 1 for row in texts for cell in row)
    for index, row in enumerate(rows):
        aligns = ["right" if isinstance(v, (int, float)) else "left" for v in row]
        if multiline:
            lines.append(rule(between if index else first))
        lines += draw(texts[index], aligns)
    lines.append(rule(bottom))
    return "\n".join(lines) + "\n"


def _shortened(text: str, style: Style) -> str:
    """``text`` cut after ``truncate`` characters as a reader counts them (grapheme
    clusters: an accent or an emoji's joined parts stay with their letter)."""
    if 0 < style.truncate < len(text) and grapheme_length(text) > style.truncate:
        return grapheme_substr(text, 0, style.truncate) + style.ellipsis
    return text


def _lines(text: str) -> list[str]:
    return list(split_lines(text)) or [""]
