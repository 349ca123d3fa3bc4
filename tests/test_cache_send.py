"""The cache's own send path and its writer: what requests-cache did under sqlgh's policy
(304s, Vary, redirect aliases, credentials kept off the disk) still holds, lookups do not
wait for the writer, and a first run's pages are stored in few transactions."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import TOKEN, connect_to
from helpers import seed_one_asset, serve, stores_per_transaction, within

from sqlgh.emulator import Emulator
from sqlgh.github import cache
from sqlgh.github.cache import cached_session, forget, open_backend, remember_backend, wire_status

QUERY = "SELECT id, name, size FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _releases_url(emulator: Emulator) -> str:
    return f"{emulator.api_url}/repos/acme/tool/releases"


def _sent(emulator: Emulator, suffix: str = "/releases") -> list[tuple[int, str | None]]:
    """(status, If-None-Match sent) of each request to a path ending in ``suffix``."""
    return [
        (r.status, r.headers.get("if-none-match"))
        for r in emulator.log
        if r.path.endswith(suffix)
    ]


def test_a_304_answers_with_the_stored_response_and_the_304s_headers(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A stored 200 is revalidated with its ETag; GitHub's 304 is answered with the stored
    body, marked revalidated (wire status 304, from the cache) under the same key, carrying
    the 304's own headers (its request id, its rate-limit figures). ``forget`` drops it."""
    seed_one_asset(emulator)
    backend = open_backend(tmp_path / "c.sqlite")
    assert backend is not None
    session = cached_session(backend)
    url = _releases_url(emulator)
    first = session.get(url, headers=AUTH, timeout=10)
    assert first.status_code == 200 and not first.from_cache and first.cache_key
    backend.flush()
    again = session.get(url, headers=AUTH, timeout=10)
    assert _sent(emulator) == [(200, None), (304, first.headers["ETag"])]
    assert again.status_code == 200 and wire_status(again) == 304
    assert again.from_cache and again.revalidated and again.cache_key == first.cache_key
    assert again.content == first.content and again.json() == first.json()
    assert again.headers["X-GitHub-Request-Id"] != first.headers["X-GitHub-Request-Id"]
    assert int(again.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"])
    forget(remember_backend(again, backend))  # as the client does with a body it cannot use
    emulator.clear_log()
    assert session.get(url, headers=AUTH, timeout=10).status_code == 200
    assert _sent(emulator) == [(200, None)]
    backend.close()


def test_a_stored_response_is_used_only_for_the_request_headers_its_vary_names(
    emulator: Emulator, tmp_path: Path
) -> None:
    """GitHub's ``Vary`` names ``X-Requested-With``: without a token, a request that
    differs there is stored under a second key (requests-cache's Vary key), and each kind
    of request is then revalidated with its own entry."""
    seed_one_asset(emulator)
    backend = open_backend(tmp_path / "c.sqlite")
    assert backend is not None
    session = cached_session(backend)
    url = _releases_url(emulator)

    def get(kind: str):
        response = session.get(url, headers={"X-Requested-With": kind}, timeout=10)
        backend.flush()
        return response

    a = get("a")
    emulator.add_release("acme", "tool", "v9")  # the list changes: a 200 for the next one
    b = get("b")
    assert b.json() != a.json() and b.cache_key != a.cache_key
    assert backend.count() == 2
    emulator.clear_log()
    b_again = get("b")
    assert b_again.revalidated and b_again.cache_key == b.cache_key
    assert b_again.json() == b.json()
    a_again = get("a")  # its own entry: the old list, whose ETag no longer matches
    assert not a_again.revalidated and a_again.json() == b.json()
    assert _sent(emulator) == [(304, b.headers["ETag"]), (200, a.headers["ETag"])]
    backend.close()


class _Chain(BaseHTTPRequestHandler):
    """``/a`` redirects to ``/b``, ``/b`` to ``/c``; ``/c`` is a list with an ETag."""

    def do_GET(self) -> None:
        target = {"/a": "/b", "/b": "/c"}.get(self.path)
        if target is not None:
            self.send_response(301)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        body = b'[{"id": 1}]'
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chain() -> Iterator[str]:
    with serve(_Chain) as url:
        yield url


def test_redirect_aliases_are_stored_and_found_again(chain: str, tmp_path: Path) -> None:
    """A GET whose redirects requests followed (a session a user hands in, say) is stored
    under its first URL with an alias for each hop, as requests-cache stores it; a backend
    opened later on the file finds the response by a hop's key."""
    path = tmp_path / "c.sqlite"
    backend = open_backend(path)
    assert backend is not None
    first = cached_session(backend).get(f"{chain}/a", timeout=10)
    assert first.status_code == 200 and [r.status_code for r in first.history] == [301, 301]
    backend.close()
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM redirects").fetchone() == (2,)
    again = open_backend(path)
    assert again is not None
    hop = cache.request_key(first.history[1].request)  # the request for /b
    found = again.get_response(hop)
    assert found is not None and found.url == f"{chain}/c" and found.json() == [{"id": 1}]
    again.close()


def test_no_credential_of_a_request_reaches_the_file(emulator: Emulator, tmp_path: Path) -> None:
    """Credential headers (requests-cache's list, in any case) and a credential in the
    query are not stored: the stored request holds neither (before: requests-cache's
    redaction matched header names in its own case only, so ``x-auth-token`` and
    ``X-Api-Key`` were stored)."""
    seed_one_asset(emulator)
    path = tmp_path / "c.sqlite"
    backend = open_backend(path)
    assert backend is not None
    session = cached_session(backend)
    headers = {**AUTH, "x-auth-token": "header-secret", "X-Api-Key": "key-secret"}
    response = session.get(
        _releases_url(emulator) + "?access_token=query-secret", headers=headers, timeout=10
    )
    assert response.status_code == 200
    backend.close()
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    for secret in (TOKEN, "header-secret", "key-secret", "query-secret"):
        assert [p.name for p in files if secret.encode() in p.read_bytes()] == [], secret
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM responses").fetchone() == (1,)


def test_a_lookup_does_not_wait_for_the_writers_transaction(
    emulator: Emulator, tmp_path: Path
) -> None:
    """While the writer is in a transaction (a store, a prune), a query's lookups still
    read the file (before: they waited for the writer's lock until it committed)."""
    seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    rows = db.execute(QUERY).fetchall()
    backend = db.sqlgh.client.cache
    backend.flush()
    held, release = threading.Event(), threading.Event()

    def long_transaction() -> None:
        with backend.responses.connection(commit=True):
            held.set()
            release.wait(3)

    writer = threading.Thread(target=long_transaction)
    writer.start()
    try:
        assert held.wait(10)
        emulator.clear_log()
        started = time.monotonic()
        assert within(10, lambda: db.execute(QUERY).fetchall()) == rows
        waited = time.monotonic() - started
    finally:
        release.set()
        writer.join()
    assert waited < 2, f"the query waited {waited:.1f} s for the writer"
    assert [status for status, _ in _sent(emulator)] == [304]
    db.close()



def _first_run(emulator: Emulator, tmp_path: Path, pages: int):
    """A first run over a release list of ``pages`` pages of one release, with the
    statements of the cache's writer connection traced: (connection, statements, sql)."""
    seed_one_asset(emulator)
    for n in range(pages - 1):
        emulator.add_release("acme", "tool", f"v2.{n}")
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite", per_page=1, max_concurrency=1)
    statements: list[str] = []
    with db.sqlgh.client.cache.responses.connection() as connection:
        connection.set_trace_callback(statements.append)
    sql = "SELECT tag_name FROM releases WHERE owner = 'acme' AND repo = 'tool'"
    assert len(db.execute(sql).fetchall()) == pages
    return db, statements, sql


def test_a_first_run_stores_its_pages_in_one_transaction(
    emulator: Emulator, tmp_path: Path, monkeypatch
) -> None:
    """The writer waits for more pages before a transaction (here as long as it takes):
    every page of a first run is stored, in one transaction when the connection closes
    (before: a transaction for every page or two as they came)."""
    monkeypatch.setattr(cache, "LINGER", 60.0, raising=False)
    db, statements, _ = _first_run(emulator, tmp_path, pages=12)
    within(10, db.close)
    assert stores_per_transaction(statements) == [12]
    with sqlite3.connect(tmp_path / "c.sqlite") as con:
        assert con.execute("SELECT count(*) FROM responses").fetchone() == (12,)


def test_a_lookup_of_a_page_waiting_to_be_stored_starts_the_writer(
    emulator: Emulator, tmp_path: Path, monkeypatch
) -> None:
    """A second query right after the first finds its pages stored: its lookups wake the
    lingering writer, and every page is revalidated."""
    monkeypatch.setattr(cache, "LINGER", 60.0, raising=False)
    db, statements, sql = _first_run(emulator, tmp_path, pages=5)
    emulator.clear_log()
    assert len(within(10, lambda: db.execute(sql).fetchall())) == 5
    # the last page is full: the next one is asked for too (see client._confirm_last)
    assert [status for status, _ in _sent(emulator)][:5] == [304] * 5
    within(10, db.close)
    assert sum(stores_per_transaction(statements)) == 6  # the five, and the empty sixth


def test_a_full_batch_starts_the_writer(emulator: Emulator, tmp_path: Path, monkeypatch) -> None:
    """``BATCH`` pages queued start a transaction without waiting longer; the rest are
    stored when the connection closes."""
    monkeypatch.setattr(cache, "LINGER", 60.0, raising=False)
    monkeypatch.setattr(cache, "BATCH", 4, raising=False)
    db, statements, _ = _first_run(emulator, tmp_path, pages=12)
    within(10, db.close)
    stored = stores_per_transaction(statements)
    assert sum(stored) == 12 and len(stored) >= 2, stored
    assert all(count >= 4 for count in stored[:-1]), stored


def test_queued_bodies_of_a_batch_are_bounded_in_bytes(
    emulator: Emulator, tmp_path: Path, monkeypatch
) -> None:
    """The bodies waiting for the writer are held in memory: ``BATCH_BYTES`` of them start
    a transaction however few responses they are."""
    monkeypatch.setattr(cache, "LINGER", 60.0, raising=False)
    monkeypatch.setattr(cache, "BATCH_BYTES", 1, raising=False)
    db, statements, _ = _first_run(emulator, tmp_path, pages=6)
    backend = db.sqlgh.client.cache
    within(10, lambda: [stored.result() for stored in list(backend._pending.values())])
    assert sum(stores_per_transaction(statements)) == 6
    within(10, db.close)
