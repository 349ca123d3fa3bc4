"""The conditional-request cache: revalidated GETs, 304s that cost no rate limit."""

from __future__ import annotations

import pickle
import sqlite3
import struct
import threading
import tracemalloc
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zstandard
from conftest import TOKEN, connect_to
from helpers import seed_one_asset, stores_per_transaction

from sqlgh.emulator import Emulator, Fault
from sqlgh.github.cache import SERIALIZER, cache_file, cached_session, open_backend

QUERY = "SELECT id, name, size FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"


def _core_remaining(db) -> int:
    return db.execute("SELECT remaining FROM rate_limit WHERE resource = 'core'").fetchone()[0]


def _stored(path: Path) -> dict[str, bytes]:
    """The cache file's stored responses as they are on disk, by key."""
    with sqlite3.connect(path) as con:
        return dict(con.execute("SELECT key, value FROM responses"))


def _body(blob: bytes) -> bytes:
    """The body of a stored response, which is kept Zstandard-compressed."""
    return zstandard.decompress(pickle.loads(blob)["_content_zstd"])


def test_second_query_revalidates_and_costs_nothing(emulator: Emulator, tmp_path: Path) -> None:
    seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    first = db.execute(QUERY).fetchall()
    before = _core_remaining(db)
    emulator.clear_log()
    assert db.execute(QUERY).fetchall() == first
    sent = [r for r in emulator.log if r.path.endswith("/releases")]
    assert sent and all("if-none-match" in r.headers for r in sent)
    assert [r.status for r in sent] == [304]
    assert _core_remaining(db) == before
    record = [r for r in db.sqlgh.client.log if r.path.startswith("/repos/")][-1]
    assert record.from_cache and record.status == 304
    # a new connection (a re-run of the report) reuses the file
    again = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    assert again.execute(QUERY).fetchall() == first
    assert _core_remaining(db) == before


def test_data_stays_current(emulator: Emulator, tmp_path: Path) -> None:
    release = seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    assert len(db.execute(QUERY).fetchall()) == 1
    emulator.add_asset("acme", "tool", release["id"], "two.bin", content=b"22")
    assert [r[1] for r in db.execute(QUERY).fetchall()] == ["one.bin", "two.bin"]


def test_file_per_token_identity(emulator: Emulator, tmp_path: Path, monkeypatch) -> None:
    seed_one_asset(emulator)
    monkeypatch.setenv("SQLGH_CACHE_DIR", str(tmp_path))
    db = connect_to(emulator)
    db.execute(QUERY).fetchall()
    anonymous = connect_to(emulator, token="")
    anonymous.execute(QUERY).fetchall()
    files = sorted(p.name for p in tmp_path.glob("*.sqlite"))
    assert files == sorted([cache_file(TOKEN, tmp_path).name, "http-anonymous.sqlite"])
    assert cache_file("other-token", tmp_path) != cache_file(TOKEN, tmp_path)
    for path in tmp_path.iterdir():
        assert TOKEN not in path.name
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes()
    db.close()
    # the bodies are compressed on disk: look inside them too
    blobs = _stored(cache_file(TOKEN, tmp_path)).values()
    assert blobs and all(TOKEN.encode() not in blob + _body(blob) for blob in blobs)


def test_downloads_and_writes_are_not_cached(emulator: Emulator, tmp_path: Path) -> None:
    release = seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    asset = emulator.list_assets("acme", "tool", release["id"])[0]
    for _ in range(2):
        data = db.execute(
            f"SELECT data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
            f"AND id = {asset['id']}"
        ).fetchone()[0]
        assert data == b"1"
    db.execute(
        f"UPDATE release_assets SET label = 'L' WHERE owner = 'acme' AND repo = 'tool' "
        f"AND id = {asset['id']}"
    )
    cached = db.sqlgh.client.cache.responses
    urls = [response.url for response in cached.values()]
    assert urls and not any("storage" in u or u.startswith(emulator.storage_url) for u in urls)
    downloads = [r for r in emulator.log if r.headers.get("accept") == "application/octet-stream"]
    assert downloads and not any("if-none-match" in r.headers for r in downloads)
    assert all(r.method == "GET" for r in cached.values() for r in [r.request])


def test_cache_off_and_clear(emulator: Emulator, tmp_path: Path) -> None:
    seed_one_asset(emulator)
    off = connect_to(emulator, cache=False, cache_path=tmp_path / "never.sqlite")
    off.execute(QUERY).fetchall()
    emulator.clear_log()
    off.execute(QUERY).fetchall()
    assert all("if-none-match" not in r.headers for r in emulator.log)
    assert off.sqlgh.client.cache is None
    assert not (tmp_path / "never.sqlite").exists()
    assert off.execute("SELECT sqlgh_clear_cache()").fetchone() == (0,)

    on = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    on.execute(QUERY).fetchall()
    assert on.execute("SELECT sqlgh_clear_cache()").fetchone()[0] >= 1
    emulator.clear_log()
    on.execute(QUERY).fetchall()
    assert all("if-none-match" not in r.headers for r in emulator.log)


def test_upload_with_the_cache_on_streams_from_disk(emulator: Emulator, tmp_path: Path) -> None:
    """requests-cache hashes request bodies for its keys: uploads must not go through it."""
    release = seed_one_asset(emulator)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (32 << 20))
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    tracemalloc.start()
    try:
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme','tool',?,?)",
            (release["id"], str(big)),
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"the upload held {peak >> 20} MiB in memory"
    assert [
        a["size"]
        for a in emulator.list_assets("acme", "tool", release["id"])
        if a["name"] == "big.bin"
    ] == [32 << 20]


def test_stored_compressed_and_kept_as_is_on_304(emulator: Emulator, tmp_path: Path) -> None:
    """A 304 leaves the stored entry alone (requests-cache would rewrite it, body and all,
    since the 304's headers differ: here its X-GitHub-Request-Id)."""
    seed_one_asset(emulator)
    path = tmp_path / "c.sqlite"
    db = connect_to(emulator, cache_path=path)
    first = db.execute(QUERY).fetchall()
    db.close()
    before = _stored(path)
    assert before and all(_body(blob).startswith(b"[") for blob in before.values())
    again = connect_to(emulator, cache_path=path)
    emulator.clear_log()
    assert again.execute(QUERY).fetchall() == first
    assert [r.status for r in emulator.log if r.path.endswith("/releases")] == [304]
    again.close()
    assert _stored(path) == before


def _rerun_with_bodies_changed(emulator: Emulator, path: Path, change) -> tuple[list, list]:
    """Run the query, rewrite every stored response's fields (pickled, as on disk) with
    ``change``, and run it again on a new connection: (first rows, rows again)."""
    seed_one_asset(emulator)
    db = connect_to(emulator, cache_path=path)
    first = db.execute(QUERY).fetchall()
    db.close()
    with sqlite3.connect(path) as con:
        for key, blob in con.execute("SELECT key, value FROM responses").fetchall():
            fields = change(pickle.loads(blob))
            con.execute("UPDATE responses SET value = ? WHERE key = ?", (pickle.dumps(fields), key))
    emulator.clear_log()
    return first, connect_to(emulator, cache_path=path).execute(QUERY).fetchall()


def test_bodies_stored_with_zlib_are_still_served(emulator: Emulator, tmp_path: Path) -> None:
    """A cache file written by an earlier sqlgh (bodies zlib-compressed) keeps serving."""

    def to_zlib(fields: dict) -> dict:
        fields["_content_zlib"] = zlib.compress(zstandard.decompress(fields.pop("_content_zstd")))
        return fields

    first, again = _rerun_with_bodies_changed(emulator, tmp_path / "c.sqlite", to_zlib)
    assert again == first
    assert [r.status for r in emulator.log if r.path.endswith("/releases")] == [304]


def _flip_a_bit(packed: bytes) -> bytes:
    """The stored body with one bit flipped in the middle of its compressed data."""
    middle = len(packed) // 2
    return packed[:middle] + bytes([packed[middle] ^ 0x10]) + packed[middle + 1 :]


def _declare_a_huge_size(packed: bytes) -> bytes:
    """The stored body with its Zstandard frame header claiming 32 TiB of content."""
    descriptor = packed[4]
    single_segment = (descriptor >> 5) & 1
    start = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3]
    width = (single_segment, 2, 4, 8)[descriptor >> 6]
    return (
        packed[:4]
        + bytes([(3 << 6) | (descriptor & 0x3F)])
        + packed[5:start]
        + struct.pack("<Q", 1 << 45)
        + packed[start + width :]
    )


@pytest.mark.parametrize(
    "damage",
    [lambda _: b"not zstandard", _flip_a_bit, _declare_a_huge_size],
    ids=["garbage", "one bit flipped", "huge declared size"],
)
def test_a_damaged_body_is_a_miss(emulator: Emulator, tmp_path: Path, damage) -> None:
    """A damaged stored body is never served: the request goes out unconditional, and the
    rows are right (a flipped bit is caught by the stored checksum)."""

    def change(fields: dict) -> dict:
        fields["_content_zstd"] = damage(fields["_content_zstd"])
        return fields

    first, again = _rerun_with_bodies_changed(emulator, tmp_path / "c.sqlite", change)
    assert again == first
    sent = [r for r in emulator.log if r.path.endswith("/releases")]
    assert [r.status for r in sent] == [200] and "if-none-match" not in sent[0].headers


def test_storing_is_off_the_query_path(emulator: Emulator, tmp_path: Path, monkeypatch) -> None:
    """A query does not wait for its responses to be stored; a lookup of a response still
    being stored waits for it (so the second query revalidates); close() stores the rest."""
    seed_one_asset(emulator)
    gate, storing = threading.Event(), threading.Event()
    dumps = SERIALIZER.dumps

    def held(value: object) -> object:
        storing.set()
        assert gate.wait(10), "the test never opened the gate"
        return dumps(value)

    monkeypatch.setattr(SERIALIZER, "dumps", held)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    rows = db.execute(QUERY).fetchall()  # would hang here if stores were on the way
    assert rows and storing.wait(10) and not gate.is_set()
    emulator.clear_log()
    threading.Timer(0.2, gate.set).start()
    assert db.execute(QUERY).fetchall() == rows
    sent = [r for r in emulator.log if r.path.endswith("/releases")]
    assert [r.status for r in sent] == [304]
    db.close()
    assert len(_stored(tmp_path / "c.sqlite")) == 1  # the release list, stored once



def test_pages_queued_behind_a_store_are_stored_in_one_transaction(
    emulator: Emulator, tmp_path: Path, monkeypatch
) -> None:
    """While the writer stores one page, the pages that arrive wait in its queue, and are
    then stored together: one SQLite commit for them all, not one a page."""
    seed_one_asset(emulator)
    for n in range(3):
        emulator.add_release("acme", "tool", f"v2.{n}")
    gate = threading.Event()
    dumps = SERIALIZER.dumps

    def held(value: object) -> object:
        assert gate.wait(10), "the test never opened the gate"
        return dumps(value)

    monkeypatch.setattr(SERIALIZER, "dumps", held)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite", per_page=1, max_concurrency=1)
    statements: list[str] = []
    with db.sqlgh.client.cache.responses.connection() as connection:
        connection.set_trace_callback(statements.append)
    rows = db.execute(
        "SELECT tag_name FROM releases WHERE owner = 'acme' AND repo = 'tool'"
    ).fetchall()
    assert len(rows) == 4  # 4 pages of 1; the first one's store holds the writer
    gate.set()
    db.close()
    # The first page alone (or with the second, had it come before the writer started),
    # the rest together: at most 2 transactions for 4 pages.
    stored = stores_per_transaction(statements)
    assert sum(stored) == 4 and len(stored) <= 2, stored
    assert len(_stored(tmp_path / "c.sqlite")) == 4


def test_a_response_arriving_after_close_is_not_stored(emulator: Emulator, tmp_path: Path) -> None:
    # A read thread can finish its request after the connection closed the cache: the
    # store is dropped instead of reopening the file on a new writer thread.
    emulator.add_repo("octocat", "late")
    backend = open_backend(tmp_path / "late.sqlite")
    session = cached_session(backend)
    backend.close()
    response = session.get(f"{emulator.api_url}/repos/octocat/late", timeout=10)
    assert response.status_code == 200
    assert backend._writer is None
    reopened = sqlite3.connect(tmp_path / "late.sqlite")
    assert reopened.execute("SELECT count(*) FROM responses").fetchone() == (0,)


def test_every_page_of_a_clean_up_listing_is_read_past_the_cache(
    emulator: Emulator, tmp_path: Path
) -> None:
    # After a failed upload the release is listed afresh; a release of 101 assets has two
    # pages, and two failed attempts list it twice. No page may come from the cache.
    release = seed_one_asset(emulator)
    for n in range(100):
        emulator.add_asset("acme", "tool", release["id"], f"more-{n}.txt", content=b"x")
    emulator.add_fault(Fault("status", status=502, origin="uploads", method="POST", times=2))
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'new.txt', 'bytes')",
        (release["id"],),
    )
    listed = [r for r in emulator.log if r.method == "GET" and r.path.endswith("/assets")]
    assert [r.query.get("page", ["1"]) for r in listed] == [["1"], ["2"]] * 2
    assert not any("if-none-match" in r.headers for r in listed)
    db.sqlgh.client.cache.flush()  # stores land on the writer thread
    stored = [urlsplit(r.url).path for r in db.sqlgh.client.cache.responses.values()]
    assert stored and not any(path.endswith("/assets") for path in stored)  # the release
