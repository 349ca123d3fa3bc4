"""Output modes of sqlgh's shell that show every value's characters as they are.

A mixin for ``apsw.shell.Shell``: the box and table modes draw with ``sqlgh.text_table``
(fitted to the terminal, nothing rewritten), and the text modes (csv, tabs, list, line,
column) write a blob as its text when it is UTF-8, else as an SQL hex literal, where
APSW's shell writes ``<Binary data>``.
"""

from __future__ import annotations

from typing import Any

import apsw

from sqlgh.text_table import Style, render

MIN_WIDTH = 32  # columns assumed for a terminal narrower than this


class ReadableOutput:
    """Box, table and text output modes that keep every value's characters."""

    box_options: dict[str, Any]

    def output_box(self, column_names: list[str], rows: Any) -> None:
        """Outputs using line drawing, fitted to the terminal's width; long lines end with …"""
        options = self.box_options
        if options.get("quote"):  # qbox: SQL literals, as APSW draws them
            super().output_box(column_names, rows)  # type: ignore[misc]
            return
        width = options.get("text_width") or 0
        if width < 1:
            width = self._terminal_width(MIN_WIDTH)  # type: ignore[attr-defined]
        unicode, null = options.get("use_unicode", True), options.get("null", "NULL")
        style = Style(width, unicode, null, truncate=options.get("truncate") or 0)
        self.write(self.stdout, render(column_names, list(rows), style))  # type: ignore[attr-defined]

    output_box.all_at_once = True  # type: ignore[attr-defined]

    def _fmt_text_col(self, v: Any) -> str:
        if isinstance(v, bytes):
            return blob_text(v)
        return super()._fmt_text_col(v)  # type: ignore[misc]


def blob_text(blob: bytes) -> str:
    """A blob in a text mode: its text when it is UTF-8 (as sqlite3 writes it), else an SQL
    hex literal (``X'00FF'``), which loses no byte either."""
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        return apsw.format_sql_value(blob)
