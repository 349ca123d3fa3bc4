"""The cache's own send path and writer under a hostile review: a 304 about another
version, a writer held up by another process's lock, a cache used after it closed, and
the token kept off every file (every 16-character piece of it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import connect_to
from helpers import seed_one_asset, serve, within

from sqlgh.emulator import Emulator, Fault
from sqlgh.github import cache
from sqlgh.github.cache import cached_session, forget, open_backend, remember_backend

RELEASES = "SELECT tag_name FROM releases WHERE owner = 'acme' AND repo = 'tool' ORDER BY id"


def test_a_304_naming_another_version_is_not_answered_with_the_stored_body(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A 304 whose ETag is not the stored one's selects no stored response (RFC 9111,
    section 4.3.4): the request is sent again without validators and its 200 answers
    (before: the stored, out-of-date list was served as current)."""
    seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite", max_concurrency=1)
    assert db.execute(RELEASES).fetchall() == [("v1",)]
    db.sqlgh.client.cache.flush()
    emulator.add_release("acme", "tool", "v2")
    emulator.clear_log()
    other = {"ETag": 'W/"0123456789abcdef0123456789abcdef"'}
    emulator.add_fault(Fault("status", status=304, path="/releases$", headers=other))
    assert db.execute(RELEASES).fetchall() == [("v1",), ("v2",)]
    sent = [(r.status, r.headers.get("if-none-match")) for r in emulator.log]
    assert [status for status, _ in sent] == [304, 200]
    assert sent[0][1] is not None and sent[1][1] is None  # asked again, unconditionally
    emulator.clear_log()
    assert db.execute(RELEASES).fetchall() == [("v1",), ("v2",)]  # the 200 was stored
    assert [r.status for r in emulator.log] == [304]
    db.close()


def test_a_304_with_the_stored_etag_in_its_weak_form_is_a_hit(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The comparison is the weak one: ``W/"x"`` and ``"x"`` name one version."""
    seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite", max_concurrency=1)
    db.execute(RELEASES).fetchall()
    db.sqlgh.client.cache.flush()
    emulator.clear_log()
    emulator.add_fault(Fault("rewrite", path="/releases$", find='W/"', replace='"'))
    assert db.execute(RELEASES).fetchall() == [("v1",)]
    assert [r.status for r in emulator.log] == [304]
    db.close()


class _Big(BaseHTTPRequestHandler):
    """Every path is a JSON list of about 100 kB with an ETag of its own."""

    protocol_version = "HTTP/1.1"
    body = b"[" + b'"x",' * 25_000 + b'"x"]'

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("ETag", f'"{self.path}"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def big() -> Iterator[str]:
    with serve(_Big) as url:
        yield url


def test_bodies_queued_for_a_writer_held_up_are_bounded(big: str, tmp_path: Path) -> None:
    """While another process holds the file's write lock, the writer waits (up to
    ``lock_timeout``) and responses queue up behind it: at most ``MAX_QUEUED_BYTES`` of
    bodies are held; past that a response is answered but not stored (before: 12 MB for
    120 pages here, 135 MB in 1.8 s of a loopback loop, all held in memory)."""
    path = tmp_path / "c.sqlite"
    backend = open_backend(path, lock_timeout=30)
    assert backend is not None
    session = cached_session(backend)
    session.get(f"{big}/first", timeout=10)
    backend.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    peak = 0
    try:
        for n in range(120):
            response = session.get(f"{big}/{n}", timeout=10)
            assert response.status_code == 200 and response.content == _Big.body
            peak = max(peak, backend._queued_bytes)
    finally:
        other.execute("COMMIT")
        other.close()
    assert peak <= cache.MAX_QUEUED_BYTES, f"{peak / 1e6:.1f} MB queued"
    within(30, backend.flush)
    assert backend.failure is None
    stored = backend.count()
    assert 1 + cache.MAX_QUEUED_BYTES // len(_Big.body) <= stored < 121
    within(30, backend.close)


def test_nothing_opens_the_file_again_after_close(emulator: Emulator, tmp_path: Path, capsys):
    """A lookup, a response forgotten, or the cache counted or cleared, after the
    connection closed (a read thread finishing late) leaves the file alone: no SQLite
    connection is opened again, and a cache file removed meanwhile is not created anew
    (before: requests-cache reopened its connections and left them open; on a removed
    file, it created an empty one and the cache said it had failed)."""
    seed_one_asset(emulator)
    path = tmp_path / "c.sqlite"
    backend = open_backend(path)
    assert backend is not None
    response = remember_backend(
        cached_session(backend).get(f"{emulator.api_url}/repos/acme/tool/releases", timeout=10),
        backend,
    )
    assert response.cache_key
    backend.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.sqlite"]
    assert backend.get_response(response.cache_key) is None  # a lookup: a miss
    forget(response)
    assert backend.count() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.sqlite"]  # no -wal: no connection
    path.unlink()
    forget(response)
    backend.clear()
    assert list(tmp_path.iterdir()) == []
    assert "cache" not in capsys.readouterr().err


LONG_TOKEN = "ghp_" + "Zq8Lr2Vx7Nc4Tb1Wm6Hs9Kd3Fj5Gp0Ya"


def test_no_16_character_piece_of_the_token_reaches_any_cache_file(tmp_path: Path) -> None:
    """A long token, redirects (a renamed repository), 304s, a body forgotten, stores
    lingering when the connection closes: no file under the cache directory (the WAL
    included, read while the connection is open) holds any 16-character piece of it."""
    with Emulator(tokens={LONG_TOKEN: {"login": "octocat", "write": True}}) as emu:
        seed_one_asset(emu)
        emu.rename_repo("acme", "tool", "tool2")
        cache_dir = tmp_path / "cache"
        db = connect_to(emu, token=LONG_TOKEN, cache_path=cache_dir / "c.sqlite")
        sql = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
        assert db.execute(sql).fetchall() == [("one.bin",)]
        db.sqlgh.client.cache.flush()
        assert db.execute(sql).fetchall() == [("one.bin",)]  # 304s
        emu.add_fault(Fault("non_json", path="/releases$"))
        db.execute(sql).fetchall()  # the HTML page is not JSON: forgotten, asked again
        pieces = {LONG_TOKEN[i : i + 16].encode() for i in range(len(LONG_TOKEN) - 15)}

        def leaks() -> list[str]:
            return [
                p.name
                for p in cache_dir.iterdir()
                if p.is_file() and any(piece in p.read_bytes() for piece in pieces)
            ]

        assert leaks() == []
        assert any(r.headers.get("authorization") == f"Bearer {LONG_TOKEN}" for r in emu.log)
        db.execute(sql).fetchall()
        within(30, db.close)  # with stores queued
        assert leaks() == []
        assert len(list(cache_dir.iterdir())) >= 1
