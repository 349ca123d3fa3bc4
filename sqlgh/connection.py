"""``sqlgh.connect()``: an APSW connection with the GitHub tables registered."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import apsw

from sqlgh.allocator import limit_arenas
from sqlgh.download_table import register_download_table
from sqlgh.functions import register_functions
from sqlgh.github.configure import CLIENT_OPTIONS, make_client
from sqlgh.session import Session
from sqlgh.tables import TABLES
from sqlgh.tables.asset_content import content_limit
from sqlgh.tables.recent_listings import reuse_listings
from sqlgh.vtab import register

# The options left after the client took its own: the upload retries and the data
# column read them.
SESSION_OPTIONS = frozenset(
    {"retry_backoff", "upload_attempts", "max_content_size", "reuse_listings"}
)
# Every option connect() takes by name, but progress (a callable, not a value).
OPTIONS = tuple(sorted(CLIENT_OPTIONS | SESSION_OPTIONS))


def connect(
    database: str = ":memory:",
    *,
    token: str | None = None,
    api_url: str | None = None,
    demo: bool = False,
    **options: Any,
) -> Connection:
    """Open an SQLite database with sqlgh's tables ready to query.

    ``demo=True`` connects to a private GitHub emulator holding the demo data (owners
    acme, globex, initech, octocat), started for this connection and stopped when it
    closes: no token, no network, no HTTP cache file; ``token`` and ``api_url`` are then
    not taken. See also ``sqlgh.demo()``.

    ``token`` defaults to ``GH_TOKEN``, then ``GITHUB_TOKEN`` (``GH_ENTERPRISE_TOKEN``,
    ``GITHUB_ENTERPRISE_TOKEN`` for an Enterprise host), then ``gh auth token``; reads of
    public repositories work without one. ``api_url`` defaults to ``GITHUB_API_URL``, then
    ``https://GH_HOST/api/v3`` when ``GH_HOST`` names an Enterprise host, then
    https://api.github.com. Options: ``per_page``, ``mutation_interval``, ``retries``,
    ``retry_backoff``, ``connect_timeout``, ``read_timeout``, ``low_speed_limit``,
    ``low_speed_time``, ``statement_timeout``, ``max_rate_limit_wait``,
    ``secondary_rate_limit_wait``, ``rate_limit_reserve`` (see ``sqlgh.github.configure``);
    ``max_concurrency``, ``cache``, ``cache_path``, ``cache_lock_timeout``, ``cache_max_age``
    (days), ``cache_max_size`` (MB) (reads in flight, the conditional-request cache);
    ``upload_attempts`` (default 3) for failed uploads;
    ``max_content_size`` (bytes, default 256 MiB), the largest asset the ``data`` column
    downloads into memory (larger ones: ``download()``); ``reuse_listings`` (default
    True): a release by id or tag, or a repository by name, is served with no request from
    a whole listing an earlier statement read less than 60 s ago (GitHub's ``max-age``)
    when this connection wrote nothing since, False: every such lookup asks GitHub;
    ``progress``, a progress-bar factory
    (``sqlgh.progress.terminal_progress`` draws tqdm bars; default: none).
    """
    if demo:
        return _demo_connection(database, token, api_url, options)
    session = make_session(token=token, api_url=api_url, **options)
    connection = Connection(database, session)
    register_all(connection, session)
    return connection


@contextmanager
def demo(database: str = ":memory:", **options: Any) -> Iterator[Connection]:
    """``with sqlgh.demo() as db:`` a connection to a private GitHub emulator holding the
    demo data, closed (and the emulator stopped) at the end of the block.

    Its data starts fresh every time; writes change only that emulator. ``options`` are
    those of ``connect()``.
    """
    connection = connect(database, demo=True, **options)
    try:
        yield connection
    finally:
        connection.close()


def _demo_connection(
    database: str, token: str | None, api_url: str | None, options: dict[str, Any]
) -> Connection:
    if token is not None or api_url is not None:
        raise TypeError(
            "sqlgh.connect(demo=True) runs against its own emulator: leave out token and "
            "api_url (or leave out demo=True to connect to GitHub)"
        )
    from sqlgh.demo_mode import demo_settings, start_demo  # the emulator loads only when asked

    emulator = start_demo()
    try:
        connection = connect(database, **{**demo_settings(emulator), **options})
    except BaseException:
        emulator.stop()
        raise
    connection.on_close(emulator.stop)
    return connection


def make_session(
    *, token: str | None = None, api_url: str | None = None, **options: Any
) -> Session:
    """The client and per-connection state ``connect()`` uses, with the same defaults."""
    progress = options.pop("progress", None)
    limit_arenas()  # peak memory of concurrent reads: see sqlgh.allocator
    client = make_client(api_url, token, options)
    unknown = sorted(set(options) - SESSION_OPTIONS)
    if unknown:
        raise TypeError(
            f"sqlgh.connect() got unknown option(s) {', '.join(unknown)}; see "
            "help(sqlgh.connect) for the options it takes"
        )
    content_limit(options)  # a bad value fails here, not in the first SELECT data
    reuse_listings(options)
    if progress is not None:
        client.progress = progress
    return Session(client, options)


def register_all(connection: apsw.Connection, session: Session) -> None:
    """Register sqlgh's tables and SQL functions on any APSW connection."""
    register(connection, session, TABLES)
    register_functions(connection, session)
    register_download_table(connection, session)


class Connection(apsw.Connection):
    """An ``apsw.Connection`` that also carries its sqlgh session (client, request log)."""

    def __init__(self, database: str, session: Session) -> None:
        super().__init__(database)
        self.sqlgh = session
        self._closers: list[weakref.finalize] = []

    def on_close(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` when the connection closes, or is collected without closing."""
        self._closers.append(weakref.finalize(self, stop))

    def close(self, force: bool = False) -> None:
        """Close the database, then the client's HTTP connections and read threads (and,
        for a demo connection, its emulator)."""
        super().close(force)
        self.sqlgh.client.close()
        for closer in self._closers:
            closer()
