"""``SqlghShell``: APSW's SQLite shell with sqlgh's tables on every connection it opens.

It extends ``apsw.shell.Shell`` rather than copying it, so every dot-command (``.read``,
``.mode``, ``.headers``, ``.output``, ...), history and completion work as there. It adds
the ``markdown`` and ``chart`` output modes, the ``.requests`` command, and error
locations that name the file and the line where a statement starts; its mixins add what
shows sqlgh's tables (``sqlgh.shell_catalog``), sqlite3's habits (``sqlgh.shell_habits``)
and output that keeps values as they are (``sqlgh.shell_output``).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, TextIO

import apsw
import apsw.shell

from sqlgh import __version__
from sqlgh.catalog import SHOWN_TABLES
from sqlgh.chart import bar_chart
from sqlgh.connection import register_all
from sqlgh.github.client import RequestRecord
from sqlgh.markdown import markdown_table
from sqlgh.session import Session
from sqlgh.shell_catalog import TableCatalog
from sqlgh.shell_habits import SqliteHabits
from sqlgh.shell_output import ReadableOutput
from sqlgh.tables import TABLES
from sqlgh.write_report import Write, assets_along, described, summary, would

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
CONFIRM_OVER = 10  # an interactive DELETE or UPDATE of more assets asks first
RELEASE_KEYS = frozenset({"release_id", "tag_name", "id"})  # keys that name what to write
# tables whose DELETE and UPDATE are confirmed: those whose writer can preview them
WRITABLE = frozenset(t.name for t in TABLES if hasattr(t.writer, "preview_delete"))
REQUESTS_QUERY = (
    "SELECT started, method, path, status, elapsed_ms, from_cache, rate_remaining "
    "FROM sqlgh_requests WHERE seq > ? ORDER BY seq"
)


class SqlghShell(TableCatalog, SqliteHabits, ReadableOutput, apsw.shell.Shell):
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
        session.on_preview = self._show_preview
        session.writes = []  # recorded for the summary line
        self.confirm_over = CONFIRM_OVER
        self.assume_yes = False  # --yes: never ask
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
            self.session.writes = []
        try:
            super().process_sql(sql, bindings, internal, summary)
        finally:
            if not internal and self.session.writes and self.interactive:
                self._summarize_writes()

    # writes: previews, confirmation and summaries ---------------------------------------
    def command_dryrun(self, cmd: list[str]) -> None:
        """dryrun on|off: Show the write requests statements would send, and send none

        Reads still run. Each row an INSERT, UPDATE or DELETE would write prints the
        requests it would send to GitHub (sqlgh --dry-run starts with it on).
        """
        if len(cmd) != 1 or cmd[0] not in ("on", "off"):
            raise self.Error("Usage: .dryrun on|off")
        self.session.dry_run = cmd[0] == "on"

    def _show_preview(self, write: Write) -> None:
        asset = f"{write.name!r} " if write.name else ""
        where = f"release {write.release_id} of " if write.release_id else ""
        number = f"{write.noun} {write.asset_id}, " if write.asset_id else ""
        sent = "; ".join(write.requests) or "nothing sent"
        self.write(
            self.stdout,
            f"dry run: {would(write.verb)} {asset}({number}{where}{write.owner}/{write.repo}): "
            f"{sent}\n",
        )

    def _summarize_writes(self) -> None:
        log = list(self.session.client.log)
        requests = len(log) - _position_after(log, self._mark)
        self.write_error(f"{summary(self.session.writes, requests, self.session.dry_run)}\n")

    def _query_details(self, sql: str, bindings: Any) -> Any:
        """Split off the next statement (as the APSW shell does); an interactive DELETE or
        UPDATE of GitHub assets that touches many of them is confirmed first."""
        details = super()._query_details(sql, bindings)
        self.session.confirmed = None
        if details.error_text is None and details.query and self._asks_first(details.query):
            self._confirm(details.query, bindings)
        return details

    def _asks_first(self, sql: str) -> bool:
        """Whether ``sql`` is a DELETE or UPDATE of a writable table that must be confirmed
        (the authorizer hears of it while SQLite prepares the statement)."""
        if not self.interactive or self.assume_yes or self.session.dry_run:
            return False
        writes = False

        def authorizer(action: int, table: str | None, *_: Any) -> int:
            nonlocal writes
            if action in (apsw.SQLITE_DELETE, apsw.SQLITE_UPDATE) and table in WRITABLE:
                writes = True
            return apsw.SQLITE_OK

        cursor = self.db.cursor()
        cursor.exec_trace = lambda *_: False  # prepared, never run
        previous, self.db.authorizer = self.db.authorizer, authorizer
        try:
            cursor.execute(sql, can_cache=False)
        except apsw.ExecTraceAbort:
            pass
        except apsw.Error:
            return False  # the statement's own run reports it
        finally:
            self.db.authorizer = previous
        return writes

    def _confirm(self, sql: str, bindings: Any) -> None:
        """Run ``sql`` as a dry run to learn what it would write; ask when that is more
        than ``confirm_over`` assets (a deleted release's assets included), assets of
        several releases when the statement named no release or asset, or the deletion of
        more than one release; raise unless the answer is yes."""
        session = self.session
        kept, planned = session.writes, []
        session.writes = planned
        session.dry_run, session.on_preview = True, None
        session.keys_used = set()
        try:
            self.db.execute(sql, bindings, can_cache=False).fetchall()
        finally:
            session.writes, session.dry_run = kept, False
            session.on_preview = self._show_preview
        named = any(RELEASE_KEYS & set(keys) for keys in session.keys_used)
        spread = not named and len({w.release for w in planned if w.noun == "asset"}) > 1
        releases = sum(w.noun == "release" and w.verb == "deleted" for w in planned)
        # the real run writes only the rows counted here (sqlgh.vtab: _check_confirmed)
        counted = {(w.noun, w.asset_id): w.assets for w in planned if w.asset_id is not None}
        if assets_along(planned) <= self.confirm_over and not spread and releases <= 1:
            session.confirmed = counted
            return
        what = described(planned, dry_run=True)
        why = " (the statement names no release)" if spread else ""
        self.write(self.stdout, f"This statement {what}{why}. Go ahead? [y/N] ")
        self.stdout.flush()
        answer = self.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise self.Error("not done: nothing was sent to GitHub")
        session.confirmed = counted

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
            f"Tables: {', '.join(table.name for table in SHOWN_TABLES)}.\n"
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
