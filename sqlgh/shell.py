"""``SqlghShell``: APSW's SQLite shell with sqlgh's tables on every connection it opens.

It extends ``apsw.shell.Shell`` rather than copying it, so every dot-command (``.read``,
``.mode``, ``.headers``, ``.tables``, ``.schema``, ``.output``, ...), history and
completion work as there. It adds the ``markdown`` and ``chart`` output modes, the ``.requests``
command, and error locations that name the file and the line where a statement starts.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, TextIO

import apsw
import apsw.shell

from sqlgh import __version__
from sqlgh.chart import bar_chart
from sqlgh.connection import register_all
from sqlgh.github.client import RequestRecord
from sqlgh.markdown import markdown_table
from sqlgh.session import Session
from sqlgh.tables import TABLES

# --format NAME -> the .mode arguments that select it
FORMATS: dict[str, list[str]] = {
    "box": ["box"],
    "table": ["table"],
    "csv": ["csv"],
    "tsv": ["tabs"],
    "json": ["json"],
    "jsonl": ["jsonl"],
    "markdown": ["markdown"],
    "line": ["line"],
    "chart": ["chart"],
}
WITH_HEADER = frozenset({"csv", "tsv"})
PIPED_WIDTH = 160
ROLLBACK_SHOWN = 10  # writes listed by the warning after a ROLLBACK
REQUESTS_QUERY = (
    "SELECT started, method, path, status, elapsed_ms, from_cache, rate_remaining "
    "FROM sqlgh_requests WHERE seq > ? ORDER BY seq"
)


class SqlghShell(apsw.shell.Shell):
    """An ``apsw.shell.Shell`` whose connections all have sqlgh's tables and functions.

    Registration uses ``apsw.connection_hooks``, so the shell's first connection and
    any ``.open`` later get the tables; ``close()`` removes the hook.
    """

    def __init__(
        self,
        session: Session,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.session = session
        session.on_rollback = self._warn_rolled_back
        self._mark: RequestRecord | None = None
        self._read: dict[int, tuple[int, str | None]] = {}
        apsw.connection_hooks.append(self._register)
        super().__init__(stdin=stdin, stdout=stdout, stderr=stderr)
        if os.environ.get("NO_COLOR"):  # https://no-color.org
            self.command_colour(["off"])
        self.prompt = "sqlgh> "
        self.moreprompt = "  ...> "
        self.history_file = "~/.sqlgh_history"

    def close(self) -> None:
        """Stop registering sqlgh on new connections; warn of a transaction left open that
        wrote to GitHub (closing the database rolls it back, without the rollback hook)."""
        if self._register in apsw.connection_hooks:
            apsw.connection_hooks.remove(self._register)
        if self.session.on_rollback == self._warn_rolled_back:
            self.session.on_rollback = None
        writes = self.session.transaction_writes
        if writes and self._db is not None and self._db.in_transaction:
            lead = "the transaction left open is rolled back at exit, which undoes nothing"
            self._warn_rolled_back(writes, f"{lead} on GitHub")

    # transactions ----------------------------------------------------------------------
    def _warn_rolled_back(
        self, writes: list[str], lead: str = "ROLLBACK undid nothing on GitHub"
    ) -> None:
        """Say that a rolled-back transaction's writes to GitHub stay done."""
        shown = "; ".join(writes[:ROLLBACK_SHOWN])
        if len(writes) > ROLLBACK_SHOWN:
            shown += f"; and {len(writes) - ROLLBACK_SHOWN} more"
        self.write_error(
            f"sqlgh: warning: {lead}; the transaction's writes there stay done: {shown}. "
            'Undo them with the opposite statements if need be (docs/writing.md, "Transactions")\n'
        )

    def _register(self, connection: apsw.Connection) -> None:
        register_all(connection, self.session)

    # formats ---------------------------------------------------------------------------
    def set_format(self, name: str) -> None:
        """Select an output format by its ``--format`` name."""
        mode = list(FORMATS[name])
        if mode[0] in ("box", "table") and not self.interactive:
            mode += ["--width", str(PIPED_WIDTH)]  # no terminal to fit: stay readable
        self.command_mode(mode)
        self.header = name in WITH_HEADER

    def output_markdown(self, column_names: list[str], rows: list[Any]) -> None:
        """Markdown (GitHub-flavoured) table with a header row; numbers right-aligned."""
        self.write(self.stdout, markdown_table(column_names, rows, self.nullvalue))

    output_markdown.all_at_once = True  # type: ignore[attr-defined]

    def output_chart(self, column_names: list[str], rows: list[Any]) -> None:
        """Horizontal bars of the last (numeric) column, labelled by the other columns."""
        width = shutil.get_terminal_size((PIPED_WIDTH, 24)).columns
        colour = self.colour_scheme != "off" and self._using_a_terminal()
        chart = bar_chart(column_names, rows, width, colour=colour, null=self.nullvalue)
        self.write(self.stdout, chart)

    output_chart.all_at_once = True  # type: ignore[attr-defined]

    # what the last statement cost ------------------------------------------------------
    def process_sql(
        self, sql: str, bindings: Any = None, internal: bool = False, summary: Any = None
    ) -> None:
        """Run SQL as the APSW shell does, remembering where the request log stood."""
        if not internal:
            log = self.session.client.log
            self._mark = log[-1] if log else None
        super().process_sql(sql, bindings, internal, summary)

    def command_requests(self, cmd: list[str]) -> None:
        """requests ?all?: Show the HTTP requests the last SQL made (all: every request)

        Each request with its start time, method, path, status, milliseconds, whether a
        cache answered and the rate-limit budget left. The same data is in the
        sqlgh_requests table.
        """
        if cmd not in ([], ["all"]):
            raise self.Error("Usage: .requests ?all?")
        log = list(self.session.client.log)
        after = 0 if cmd else _position_after(log, self._mark)
        count = len(log) - after
        if count == 0:
            self.write(self.stdout, "(no HTTP requests)\n")
            return
        self.process_sql(REQUESTS_QUERY, (after,), internal=True)
        elapsed = sum(record.elapsed_ms for record in log[after:])
        noun = "request" if count == 1 else "requests"
        self.write(self.stdout, f"{count} {noun}, {elapsed:.0f} ms\n")

    # error locations -------------------------------------------------------------------
    def get_complete_line(self) -> str | None:
        """Read one complete command, noting the line where it starts."""
        start = self.input_line_number + 1
        command = super().get_complete_line()
        self._read[id(self.stdin)] = (start, command)
        return command

    def process_complete_line(self, command: str) -> None:
        """Run one command; an error from a file or piped input learns where it happened."""
        try:
            super().process_complete_line(command)
        except Exception as exc:
            start, read = self._read.get(id(self.stdin), (0, None))
            if read is command and not self.interactive:  # not a command-line argument
                name = getattr(self.stdin, "name", "<stdin>")
                where: list[str] = exc.__dict__.setdefault("sqlgh_where", [])
                where.append(f"{name}, line {start}")
            raise

    def _append_input_description(self) -> None:
        # The APSW shell would name the line where a statement ends; process_complete_line
        # names the line where it starts, and handle_exception prints it.
        pass

    def handle_exception(self) -> None:
        """Print the error as the APSW shell does, then the file and line it came from."""
        exc = sys.exc_info()[1]
        try:
            super().handle_exception()
        finally:
            where = getattr(exc, "sqlgh_where", None)
            if where and not getattr(exc, "sqlgh_where_shown", False):
                exc.sqlgh_where_shown = True  # type: ignore[union-attr]
                for place in where:
                    self.write_error(f"  in {place}\n")

    # banner ----------------------------------------------------------------------------
    def intro(self) -> str:
        """The banner of an interactive session."""
        client = self.session.client
        auth = "with a token" if client.has_token else "without a token (GH_TOKEN)"
        return (
            f"sqlgh {__version__} (SQLite {apsw.sqlite_lib_version()}) on {client.api_url} "
            f"{auth}\n"
            f"Tables: {', '.join(table.name for table in TABLES)}.\n"
            '".help" for commands, ".requests" for what the last query cost.\n'
        )


def _position_after(log: list[RequestRecord], mark: RequestRecord | None) -> int:
    """How many records of ``log`` precede the first one made after ``mark``."""
    if mark is None:
        return 0
    for index in range(len(log) - 1, -1, -1):
        if log[index] is mark:
            return index + 1
    return 0
