"""``sqlgh.connect()``: an APSW connection with the GitHub tables registered."""

from __future__ import annotations

import os
from typing import Any

import apsw

from sqlgh.functions import register_functions
from sqlgh.github.auth import token_from_environment
from sqlgh.github.client import DEFAULT_API_URL, Client
from sqlgh.session import Session
from sqlgh.tables import TABLES
from sqlgh.vtab import register


def connect(
    database: str = ":memory:",
    *,
    token: str | None = None,
    api_url: str | None = None,
    **options: Any,
) -> apsw.Connection:
    """Open an SQLite database with sqlgh's tables ready to query.

    ``token`` defaults to ``GH_TOKEN``, then ``GITHUB_TOKEN``; reads of public repositories
    work without one. ``api_url`` defaults to ``GITHUB_API_URL``, then
    https://api.github.com; GitHub Enterprise Server is ``https://HOST/api/v3``.
    Options: ``per_page`` (1-100, default 100); ``mutation_interval`` (seconds between
    writes, default 1.0 as GitHub asks); ``upload_attempts`` (default 3) and
    ``retry_backoff`` (seconds, default 1.0, doubled per retry) for failed uploads.
    """
    client = Client(
        api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        token if token is not None else token_from_environment(),
        per_page=options.pop("per_page", 100),
        mutation_interval=options.pop("mutation_interval", 1.0),
    )
    session = Session(client, options)
    connection = Connection(database, session)
    register(connection, session, TABLES)
    register_functions(connection, session)
    return connection


class Connection(apsw.Connection):
    """An ``apsw.Connection`` that also carries its sqlgh session (client, request log)."""

    def __init__(self, database: str, session: Session) -> None:
        super().__init__(database)
        self.sqlgh = session
