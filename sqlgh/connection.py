"""``sqlgh.connect()``: an APSW connection with the GitHub tables registered."""

from __future__ import annotations

from typing import Any

import apsw

from sqlgh.functions import register_functions
from sqlgh.github.configure import make_client
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

    ``token`` defaults to ``GH_TOKEN``, then ``GITHUB_TOKEN`` (``GH_ENTERPRISE_TOKEN``,
    ``GITHUB_ENTERPRISE_TOKEN`` for an Enterprise host), then ``gh auth token``; reads of
    public repositories work without one. ``api_url`` defaults to ``GITHUB_API_URL``, then
    ``https://GH_HOST/api/v3`` when ``GH_HOST`` names an Enterprise host, then
    https://api.github.com. Options: ``per_page``, ``mutation_interval``, ``retries``,
    ``retry_backoff``, ``connect_timeout``, ``read_timeout``, ``max_rate_limit_wait``,
    ``secondary_rate_limit_wait``, ``rate_limit_reserve`` (see ``sqlgh.github.configure``);
    ``max_concurrency``, ``cache``, ``cache_path`` (reads in flight, the conditional-request
    cache); ``upload_attempts`` (default 3) for failed uploads.
    """
    client = make_client(api_url, token, options)
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
