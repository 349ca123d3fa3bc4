"""What one SQLite connection shares across its sqlgh tables.

The client and memo live as long as the connection. Each top-level statement has its own
fetches and facts (``sqlgh.fetches``), kept while it runs.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

import apsw

from sqlgh.fetches import StatementFetches
from sqlgh.github.client import Client
from sqlgh.lookahead import BindingsCursor
from sqlgh.statements import StatementTracker
from sqlgh.tables.memo import Memo
from sqlgh.tables.recent_listings import reuse_listings
from sqlgh.tables.spec import Api, Record
from sqlgh.write_report import Write


class Session:
    """Per-connection state: the GitHub client, the memo and per-statement bookkeeping.

    ``rows_by_rowid`` keeps the rows a write statement visited (SQLite may collect rowids
    first and write later); ``applied`` lists what the statement already did on GitHub,
    ``transaction_writes`` what the transaction did (no ROLLBACK undoes it: when an
    explicit transaction that wrote is rolled back, ``on_rollback`` is given that list).
    Each cursor takes the ``StatementFetches`` of its own statement (``sqlgh.statements``).

    ``writes``, once a reporter (the shell) sets it to a list, records each row written
    to GitHub (``sqlgh.write_report``) until that reporter clears it; None records
    nothing. With ``dry_run``, writes send nothing: each row's planned requests go to
    ``on_preview`` (and ``writes``), and ``keys_used`` collects the key columns of the
    access paths that found the rows to write.

    ``confirmed``, once the shell has counted a DELETE or UPDATE by a dry run (and asked
    when it was large), maps the (row noun, id) pairs it counted to the assets each takes
    along (a release's DELETE; else None): the real run writes no other row, and deletes
    no release holding more assets than counted (either, appeared in between, stops the
    statement); None: no such limit. It is dropped when that statement ends.

    ``statement_sql`` is the text of the running top-level statement, ``given`` what the
    last ``execute`` ran with which bindings, and ``looked_ahead`` the tables whose INSERT
    rows the statement has looked ahead at (``sqlgh.lookahead``).
    """

    def __init__(self, client: Client, options: dict[str, Any] | None = None) -> None:
        self.client = client
        self.memo = Memo(lambda: client.write_epoch)
        self.options = dict(options or {})
        self.api = Api(client, self.memo, self.options)
        self.rows_by_rowid: dict[tuple[str, int], Record] = {}
        self.applied: list[str] = []
        self.transaction_writes: list[str] = []
        self.on_rollback: Callable[[list[str]], None] | None = None
        self.writes: list[Write] | None = None
        self.dry_run = False
        self.on_preview: Callable[[Write], None] | None = None
        self.keys_used: set[tuple[str, ...]] = set()
        self.confirmed: dict[tuple[str, int], int | None] | None = None
        # Whether the statement started last writes nothing: only such a statement reads
        # the connection's recent listings (sqlgh.tables.recent_listings), if the
        # reuse_listings option allows.
        self.statement_reads_only = False
        self.statements = StatementTracker(
            lambda: StatementFetches(
                self.api, self.statement_reads_only and reuse_listings(self.options)
            )
        )
        self.statement_sql: str | None = None
        self.given: tuple[weakref.ref[apsw.Connection], str, Any] | None = None
        self.looked_ahead: set[str] = set()

    def attach(self, connection: apsw.Connection) -> None:
        """Follow the connection's statements (when each starts and when it ends) and
        transactions (commit and rollback)."""
        hook_id = ("sqlgh", id(self))
        connection.trace_v2(
            apsw.SQLITE_TRACE_STMT | apsw.SQLITE_TRACE_PROFILE, self._on_statement, id=hook_id
        )
        connection.set_commit_hook(self._on_commit, id=hook_id)
        if connection.cursor_factory is apsw.Cursor:  # not one of the application's own
            connection.cursor_factory = functools.partial(BindingsCursor, given=self)
        attached = weakref.ref(connection)  # the hook must not keep its connection alive
        connection.set_rollback_hook(lambda: self._on_rollback(attached()), id=hook_id)

    def _on_commit(self) -> bool:
        self.transaction_writes.clear()
        return False  # the commit goes ahead

    def _on_rollback(self, connection: apsw.Connection | None) -> None:
        writes, self.transaction_writes = self.transaction_writes, []
        # A statement that failed on its own (no BEGIN) already said what it did.
        explicit = connection is not None and connection.in_transaction
        if writes and explicit and self.on_rollback is not None:
            self.on_rollback(writes)

    def _on_statement(self, event: dict[str, Any]) -> None:
        deadline = self.client.resilience.deadline  # statement_timeout
        if event["code"] == apsw.SQLITE_TRACE_PROFILE:
            self.statements.ended(event["id"])
            if not self.statements.any_running():
                deadline.stop()
                self.confirmed = None  # it held for the statement that just ended
        elif event.get("trigger") and self.statements.any_running():
            # a trigger, or a statement a Python function runs
            self.statements.started_inside(event["id"])
        else:
            self.rows_by_rowid.clear()
            self.applied.clear()
            self.statement_sql = event["sql"]
            self.statement_reads_only = event.get("readonly") is True
            self.looked_ahead.clear()
            self.api.unread_files.clear()
            self.api.written_files.clear()
            self.api.planned_names.clear()
            self.statements.started(event["id"])
            deadline.start()
