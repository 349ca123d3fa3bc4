"""A GitHub that lies, redirects elsewhere or loops: the token stays on GitHub's hosts and
off the disk, and nothing sqlgh cannot trust is merged into a result or taken for a write.

A second loopback origin (``Recorder``) stands for "another host": it records every
request that reaches it and answers as a forged GitHub would.
"""

from __future__ import annotations

import json
import os
import pickle
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests_cache
from requests_cache.serializers import CattrStage, SerializerPipeline, Stage

import sqlgh
import sqlgh.github.client
from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import SqlghError
from sqlgh.github import cache
from tests.conftest import TOKEN, connect_to
from tests.helpers import TAR, Acme, seed_acme


class Recorder(ThreadingHTTPServer):
    """Another host on loopback: records requests, answers 201/200 with a forged asset."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append((self.command, self.path, headers))
        forged = {"id": 999_999, "name": "forged.bin", "state": "uploaded", "size": 1}
        body = json.dumps([forged] if self.command == "GET" else forged).encode()
        self.send_response(200 if self.command == "GET" else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer


@pytest.fixture
def other_host() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.stop()


def _origin(url: str) -> str:
    return url.split("/", 3)[2]


# part 1: the token never reaches the disk ------------------------------------------------


def test_no_cache_file_ever_holds_the_token(acme: Acme, tmp_path: Path) -> None:
    """Redirects (a renamed repository), errors, uploads, downloads and edits, with the
    cache on: no file under the cache directory contains the token, while the connection
    is open (WAL files) or after it closed; the files are 0600, the directory 0700."""
    emu = acme.emu
    emu.rename_repo("acme", "tool", "tool2")
    cache_dir = tmp_path / "cache"
    db = connect_to(emu, cache_path=str(cache_dir / "http.sqlite"))
    old_name = "owner = 'acme' AND repo = 'tool'"
    assert db.execute(f"SELECT count(*) FROM releases WHERE {old_name}").fetchall() == [(3,)]
    assert db.execute(
        f"SELECT name FROM release_assets WHERE {old_name} AND release_id = ? ORDER BY id",
        (acme.new,),
    ).fetchall() == [("tool-1.1.0.tar.gz",), ("notes.txt",), ("broken.bin",)]
    assert db.execute(
        f"SELECT data FROM release_assets WHERE {old_name} AND id = ?", (acme.tar["id"],)
    ).fetchall() == [(TAR,)]
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'new.txt', x'6869')",
        (acme.new,),
    )
    db.execute(
        f"UPDATE release_assets SET label = 'L' WHERE {old_name} AND id = ?", (acme.notes["id"],)
    )
    with pytest.raises(SqlghError):
        db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'nope'").fetchall()
    with pytest.raises(SqlghError):  # a 404 after the 301 (the query above never got here)
        db.execute(f"SELECT id FROM release_assets WHERE {old_name} AND release_id = 1").fetchall()
    statuses = {r.status for r in emu.log}
    assert {301, 307, 200, 201}.issubset(statuses)  # the redirects really happened
    moved = [r for r in emu.log if r.path.startswith("/repositories/")]
    assert moved and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in moved)

    def check_files() -> None:
        files = [p for p in cache_dir.rglob("*") if p.is_file()]
        assert files
        for path in files:
            assert TOKEN.encode() not in path.read_bytes(), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700

    db.sqlgh.client.cache.flush()
    check_files()  # with the WAL file still open
    db.close()
    check_files()


def test_an_existing_cache_file_is_narrowed_to_its_owner(
    emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "shared.sqlite"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    connect_to(emulator, cache_path=str(path)).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# part 2: the token goes to GitHub's hosts alone -------------------------------------------


def test_an_upload_url_on_another_host_is_refused_before_sending(
    acme: Acme, other_host: Recorder
) -> None:
    emu = acme.emu
    emu.add_fault(
        Fault(
            "rewrite",
            path=r"/releases/\d+$",
            find=_origin(emu.uploads_url),
            replace=_origin(other_host.url),
            times=-1,
        )
    )
    db = connect_to(emu)
    with pytest.raises(SqlghError) as caught:
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, name, data) "
            "VALUES ('acme', 'tool', ?, 'x.txt', x'01')",
            (acme.new,),
        )
    text = str(caught.value)
    assert f"refusing to send it to {other_host.url}" in text
    assert "uploads_url" in text
    assert "failed 3 times" not in text  # refused once, not retried
    assert other_host.requests == []
    assert not any(r.method == "POST" for r in emu.log)
    assert "x.txt" not in [a["name"] for a in emu.list_assets("acme", "tool", acme.new)]


def test_uploads_reach_the_derived_or_configured_uploads_host(acme: Acme) -> None:
    """The emulator's uploads origin is another port: without ``uploads_url`` it is not
    GitHub's uploads host for a loopback API, so it gets nothing."""
    emu = acme.emu
    insert = (
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'y.txt', x'01')"
    )
    unconfigured = sqlgh.connect(api_url=emu.api_url, token=TOKEN, mutation_interval=0)
    with pytest.raises(SqlghError, match=r"pass it: sqlgh -o uploads_url=http"):
        unconfigured.execute(insert, (acme.new,))
    assert not any(r.origin == "uploads" for r in emu.log)
    connect_to(emu).execute(insert, (acme.new,))
    assert "y.txt" in [a["name"] for a in emu.list_assets("acme", "tool", acme.new)]


def test_ghes_uploads_on_the_same_host_need_no_option() -> None:
    with Emulator(ghes=True) as emu:
        seeded = seed_acme(emu)
        db = sqlgh.connect(api_url=emu.api_url, token=TOKEN, mutation_interval=0)
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, name, data) "
            "VALUES ('acme', 'tool', ?, 'z.txt', x'01')",
            (seeded.new,),
        )
        assert "z.txt" in [a["name"] for a in emu.list_assets("acme", "tool", seeded.new)]


def test_a_next_link_to_another_host_is_not_followed(acme: Acme, other_host: Recorder) -> None:
    emu = acme.emu
    emu.add_fault(
        Fault(
            "rewrite",
            path=r"/releases$",
            find=_origin(emu.api_url),
            replace=_origin(other_host.url),
        )
    )
    db = connect_to(emu, per_page=1, max_concurrency=1)
    with pytest.raises(SqlghError, match=rf"refusing to send it to {other_host.url}"):
        db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
    assert other_host.requests == []


@pytest.mark.parametrize(
    ("statement", "method"),
    [
        ("UPDATE release_assets SET label = 'x' WHERE owner = 'acme' AND repo = 'tool' "
         "AND id = {id}", "PATCH"),
        ("DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = {id}",
         "DELETE"),
        ("INSERT INTO release_assets(owner, repo, release_id, name, data) "
         "VALUES ('acme', 'tool', {release}, 'w.txt', x'01')", "POST"),
    ],
)
@pytest.mark.parametrize("status", [307, 308])
def test_a_write_redirected_to_another_host_is_an_error(
    acme: Acme, other_host: Recorder, statement: str, method: str, status: int
) -> None:
    emu = acme.emu
    emu.add_fault(
        Fault("redirect", method=method, status=status, location=other_host.url + "/elsewhere")
    )
    db = connect_to(emu)
    before = emu.list_assets("acme", "tool", acme.new)
    with pytest.raises(SqlghError) as caught:
        db.execute(statement.format(id=acme.notes["id"], release=acme.new))
    text = str(caught.value)
    assert f"redirects to {other_host.url}" in text
    assert "the write was not done" in text
    assert other_host.requests == []
    assert emu.list_assets("acme", "tool", acme.new) == before


def test_a_write_to_a_renamed_repository_follows_its_307(acme: Acme) -> None:
    emu = acme.emu
    emu.rename_repo("acme", "tool", "tool2")
    db = connect_to(emu)
    db.execute(
        "UPDATE release_assets SET label = 'moved' WHERE owner = 'acme' AND repo = 'tool' "
        "AND id = ?",
        (acme.notes["id"],),
    )
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (acme.old_asset["id"],),
    )
    assert emu.get_asset(acme.notes["id"])["label"] == "moved"
    assert emu.get_asset(acme.old_asset["id"]) is None
    assert [r.status for r in emu.log if r.method in ("PATCH", "DELETE")] == [307, 200, 307, 204]


def test_the_storage_redirect_alone_leaves_github_without_the_token(acme: Acme) -> None:
    db = connect_to(acme.emu, cache=False)
    db.execute(
        "SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (acme.tar["id"],),
    ).fetchall()
    origins = {r.origin: r.headers.get("authorization") for r in acme.emu.log}
    assert origins == {"api": f"Bearer {TOKEN}", "storage": None}


# part 4: a Link loop ends ---------------------------------------------------------------


@pytest.mark.parametrize("target_page", ["2", "1"])
def test_a_next_link_loop_stops_with_an_error(acme: Acme, target_page: str) -> None:
    """Page 2 links back to itself, or to page 1: one lap, then an error."""
    emu = acme.emu
    emu.add_fault(
        Fault("rewrite", path=r"/releases$", find="page=3", replace=f"page={target_page}",
              times=-1)
    )
    db = connect_to(emu, per_page=1, max_concurrency=1, cache=False)
    with pytest.raises(SqlghError, match=r'links as rel="next" to a page already read'):
        db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
    assert len(emu.log) <= 4


def _stored_after_a_redirect(emu: Emulator, backend: requests_cache.BaseCache) -> None:
    """A GET of a renamed repository's releases, its 301 followed by requests itself with
    the token (as sqlgh before 0.2 let it), stored in ``backend``."""
    session = requests_cache.CachedSession(backend=backend, allowable_codes=(200,))
    response = session.get(
        emu.api_url + "/repos/acme/tool/releases",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.history  # the redirect's request carried the token
    backend.close()


def test_a_cache_file_written_before_the_fix_loses_its_token(
    acme: Acme, tmp_path: Path
) -> None:
    """Entries an earlier sqlgh stored with a redirect's ``Authorization`` are deleted, and
    the file rewritten, when a connection opens it."""
    path = tmp_path / "http.sqlite"
    acme.emu.rename_repo("acme", "tool", "tool2")
    earlier = SerializerPipeline(
        [
            CattrStage(),
            Stage(dumps=cache._compress_body, loads=cache._decompress_body),
            Stage(pickle),
        ],
        name="pickle+zstd-body",
        is_binary=True,
    )
    _stored_after_a_redirect(acme.emu, requests_cache.SQLiteCache(str(path), serializer=earlier))
    assert TOKEN.encode() in path.read_bytes()  # what an upgrading user has on disk
    db = connect_to(acme.emu, cache_path=str(path))
    assert db.execute(
        "SELECT count(*) FROM releases WHERE owner = 'acme' AND repo = 'tool'"
    ).fetchall() == [(3,)]
    db.close()
    assert [p.name for p in tmp_path.iterdir() if TOKEN.encode() in p.read_bytes()] == []


def test_the_cache_stores_no_credential_of_a_redirect(acme: Acme, tmp_path: Path) -> None:
    """The serializer drops credential headers from a stored redirect history too, for a
    response that did follow a redirect (a session a user hands in, say)."""
    acme.emu.rename_repo("acme", "tool", "tool2")
    path = tmp_path / "http.sqlite"
    backend = cache.open_backend(path)
    assert backend is not None
    _stored_after_a_redirect(acme.emu, backend)
    assert TOKEN.encode() not in path.read_bytes()
    assert b"Bearer" not in path.read_bytes()


def test_first_runs_started_together_share_the_new_cache_directory(tmp_path: Path) -> None:
    """Two processes starting at once both create the missing directory: no error."""
    errors: list[str] = []
    for round_ in range(50):
        target = tmp_path / str(round_) / "a" / "b" / "http.sqlite"

        def make(target: Path = target) -> None:
            try:
                cache.make_private(target)
            except OSError as exc:
                errors.append(type(exc).__name__)

        threads = [threading.Thread(target=make) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


# lists that lie about their pages ---------------------------------------------------------


def test_a_rel_last_that_overstates_the_list_costs_a_window_at_most(acme: Acme) -> None:
    """A 3-page list whose ``rel="last"`` says page 3000: the pages fetched ahead stop at
    the page that links to no next one."""
    emu = acme.emu
    emu.add_fault(
        Fault("rewrite", path=r"/releases$", find="page=3>", replace="page=3000>", times=-1)
    )
    db = connect_to(emu, per_page=1, max_concurrency=4, cache=False)
    rows = db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'")
    assert len(rows.fetchall()) == 3
    assert len(emu.log) <= 3 + 4


def test_a_rel_last_that_understates_the_list_loses_no_page(acme: Acme) -> None:
    """Three pages, ``rel="last"`` says page 2: page 2's ``rel="next"`` is followed on."""
    emu = acme.emu
    emu.add_fault(
        Fault("rewrite", path=r"/releases$", find='page=3>; rel="last"',
              replace='page=2>; rel="last"', times=-1)
    )
    db = connect_to(emu, per_page=1, max_concurrency=4, cache=False)
    rows = db.execute("SELECT tag_name FROM releases WHERE owner = 'acme' AND repo = 'tool'")
    assert sorted(rows.fetchall()) == [("v1.0.0",), ("v1.1.0",), ("v2.0.0-rc.1",)]
    assert len(emu.log) == 3


def test_an_empty_page_that_links_to_a_next_one_ends_the_list(emulator: Emulator) -> None:
    """A server that answers empty pages with ever more ``rel="next"`` links is stopped at
    the first one, not followed until the budget is gone."""
    emulator.add_repo("acme", "empty")
    link = f'<{emulator.api_url}/repositories/1/releases?per_page=100&page=2>; rel="next"'
    emulator.add_fault(Fault("headers", path=r"/releases$", headers={"Link": link}, times=-1))
    db = connect_to(emulator, cache=False)
    with pytest.raises(SqlghError, match=r'page 1 links as rel="next" from an empty page'):
        db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'empty'").fetchall()
    assert len(emulator.log) == 1


def test_a_default_port_is_the_same_origin() -> None:
    """``:443`` / ``:80`` spelled out, or another case, is still GitHub's own host."""
    client = sqlgh.github.client.Client("https://api.github.com", "secret")
    assert client.trusts("https://api.github.com:443/repos/a/b/releases?page=2")
    assert client.trusts("https://UPLOADS.github.com:443/repos/a/b/releases/1/assets")
    assert not client.trusts("https://api.github.com.evil.example/x")
    assert not client.trusts("https://api.github.com:8443/x")
    assert client.display_path("https://api.github.com.evil.example/x") == (
        "https://api.github.com.evil.example/x"
    )


def test_a_token_over_plain_http_to_loopback_never_goes_through_a_proxy(
    emulator: Emulator, other_host: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP_PROXY`` set: the emulator (plain http, loopback) is asked directly, and the
    proxy (the recorder) never sees the token in the clear."""
    seed_acme(emulator)
    monkeypatch.setenv("HTTP_PROXY", other_host.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    db = connect_to(emulator, cache=False)
    rows = db.execute("SELECT count(*) FROM releases WHERE owner = 'acme' AND repo = 'tool'")
    assert rows.fetchall() == [(3,)]
    assert other_host.requests == []
