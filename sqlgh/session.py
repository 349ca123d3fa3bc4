"""What one SQLite connection shares across its sqlgh tables.

The client and memo live as long as the connection. Each top-level statement has its own
state (``sqlgh.statement_state``: its fetches, facts and notes), kept while it runs.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

import apsw

from sqlgh.github.client import Client
from sqlgh.lookahead import BindingsCursor
from sqlgh.statement_state import Confirmed, StatementState
from sqlgh.statements import StatementTracker
from sqlgh.tables.memo import Memo
from sqlgh.tables.recent_listings import reuse_listings
from sqlgh.tables.spec import Api
from sqlgh.write_report import Write


class Session:
    """Per-connection state: the GitHub client, the memo and the running statements.

    Each top-level statement has a ``StatementState`` of its own (``statement``): its
    fetches, the rows it visited, what it applied, its notes. It is made when the
    statement starts and dropped when it ends (``sqlgh.statements``), so nothing one
    statement learned or counted reaches the next. ``transaction_writes`` lists what the
    transaction did (no ROLLBACK undoes it: when an explicit transaction that wrote is
    rolled back, ``on_rollback`` is given that list).

    ``writes``, once a reporter (the shell) sets it to a list, records each row written
    to GitHub (``sqlgh.write_report``) until that reporter clears it; None records
    nothing. With ``dry_run``, writes send nothing: each row's planned requests go to
    ``on_preview`` (and ``writes``), and ``keys_used`` collects the key columns of the
    access paths that found the rows to write.

    ``confirmed``, once the shell has counted a DELETE or UPDATE by a dry run (and asked
    when it was large), maps the (row noun, id) pairs it counted to the assets each takes
    along (``StatementState.confirmed``): the next top-level statement to start takes it
    for its own, and it ends with that statement.

    ``given`` is what the last ``execute`` ran with which bindings (``sqlgh.lookahead``).
    """

    def __init__(self, client: Client, options: dict[str, Any] | None = None) -> None:
        self.client = client
        self.memo = Memo(lambda: client.write_epoch)
        self.options = dict(options or {})
        self.api = Api(client, self.memo, self.options)
        self.transaction_writes: list[str] = []
        self.on_rollback: Callable[[list[str]], None] | None = None
        self.writes: list[Write] | None = None
        self.dry_run = False
        self.on_preview: Callable[[Write], None] | None = None
        self.keys_used: set[tuple[str, ...]] = set()
        self.confirmed: Confirmed | None = None
        self.statements = StatementTracker(lambda: StatementState.start(self.api))
        self.given: tuple[weakref.ref[apsw.Connection], str, Any] | None = None

    @property
    def statement(self) -> StatementState:
        """The state of the top-level statement running now (``StatementTracker.current``);
        when that cannot be told, a fresh one, which knows no row: a write then stops
        rather than use another statement's."""
        return self.statements.current() or StatementState.start(self.api)

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
        elif event.get("trigger") and self.statements.any_running():
            # a trigger, or a statement a Python function runs
            self.statements.started_inside(event["id"])
        else:
            confirmed, self.confirmed = self.confirmed, None  # it is this statement's
            # Only a statement that writes nothing reads the connection's recent listings
            # (sqlgh.tables.recent_listings), if the reuse_listings option allows.
            reuse = event.get("readonly") is True and reuse_listings(self.options)
            state = StatementState.start(self.api, event["sql"], confirmed, reuse)
            self.statements.started(event["id"], state)
            deadline.start()
