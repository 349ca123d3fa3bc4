"""Everything one top-level statement knows that the next one must not.

A ``StatementState`` is made when a top-level statement starts and dropped when it ends
(``sqlgh.statements`` keeps the running ones): nothing in it is cleared by hand, so a
field added here starts empty for every statement. Its ``api`` is the statement's own
``Api``, the one its fetches and writes are given: its ``statement`` facts and its
``notes`` (files read and written, names a dry run plans) belong to this statement only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlgh.fetches import StatementFetches
from sqlgh.tables.spec import Api, Record, StatementNotes

# What the shell's dry-run count allows a statement to write: (row noun, id) -> the
# assets the row takes along (a release's DELETE; else None).
Confirmed = dict[tuple[str, int], int | None]


@dataclass(eq=False)
class StatementState:
    """One statement's fetches and what its rows left for its later rows.

    ``sql`` is the statement's text (from SQLite's trace; None for a state made for a
    cursor whose statement is not known). ``confirmed``, when the shell counted the
    statement by a dry run first (``sqlgh.shell``), maps the (row noun, id) pairs counted
    to the assets each takes along: the statement writes no other row, and deletes no
    release holding more assets than counted (``vtab``: ``_check_confirmed``); None: no
    such limit. ``rows_by_rowid`` keeps the rows the statement visited by
    (table, rowid): SQLite may collect rowids first and write later. ``applied`` lists
    what the statement already did on GitHub, and ``looked_ahead`` the tables whose INSERT
    rows it has looked ahead at (``sqlgh.lookahead``).
    """

    fetches: StatementFetches
    sql: str | None = None
    confirmed: Confirmed | None = None
    rows_by_rowid: dict[tuple[str, int], Record] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    looked_ahead: set[str] = field(default_factory=set)

    @classmethod
    def start(
        cls,
        api: Api,
        sql: str | None = None,
        confirmed: Confirmed | None = None,
        reuse: bool = False,
    ) -> StatementState:
        """A new statement's state, over the connection's ``api``; ``reuse``: its lookups
        may be served from the connection's recent listings (``StatementFetches``)."""
        fetches = StatementFetches(replace(api, notes=StatementNotes()), reuse)
        return cls(fetches, sql, confirmed)

    @property
    def api(self) -> Api:
        """The statement's own ``Api``: its facts and notes."""
        return self.fetches.api

    def close(self) -> None:
        """The statement ended: cancel and drop its fetches (``StatementFetches.close``)."""
        self.fetches.close()
