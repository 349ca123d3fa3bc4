"""Downloads: the data column, the download() function, verification, readfile/writefile,
and that object storage never sees the token."""

from __future__ import annotations

import hashlib
import os

import apsw
import pytest
import requests
from conftest import TOKEN, connect_to
from helpers import NOTES, TAR, Acme, seed_acme

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import InputError, RemoteError, SqlghError
from sqlgh.github.body import Decoded

KEYED = "WHERE owner = 'acme' AND repo = 'tool' AND id = ?"


def storage_requests(emu: Emulator) -> list:
    return [r for r in emu.log if r.origin == "storage"]


def download(
    db: apsw.Connection, asset_id: int, destination: str, options: str | None = None
) -> str:
    sql = "SELECT download('acme', 'tool', ?, ?, ?)"
    return db.execute(sql, (asset_id, destination, options)).fetchone()[0]


def test_data_column_gives_the_bytes(acme: Acme, db: apsw.Connection) -> None:
    row = db.execute(f"SELECT data, length(data) FROM release_assets {KEYED}", (acme.tar["id"],))
    assert row.fetchone() == (TAR, len(TAR))


def test_data_follows_the_redirect_without_the_token(acme: Acme, db: apsw.Connection) -> None:
    db.execute(f"SELECT data FROM release_assets {KEYED}", (acme.tar["id"],)).fetchall()
    api = [r for r in acme.emu.log if r.origin == "api"]
    assert [r.status for r in api] == [200, 302]
    assert api[1].headers["accept"] == "application/octet-stream"
    assert api[1].headers["authorization"] == "Bearer test-token"
    (storage,) = storage_requests(acme.emu)
    assert storage.status == 200
    assert "authorization" not in storage.headers


def test_data_used_twice_in_a_row_is_downloaded_once(acme: Acme, db: apsw.Connection) -> None:
    row = db.execute(
        f"SELECT length(data), data FROM release_assets {KEYED}", (acme.tar["id"],)
    ).fetchone()
    assert row == (len(TAR), TAR)
    assert len(storage_requests(acme.emu)) == 1


def test_data_is_not_fetched_unless_used(acme: Acme, db: apsw.Connection) -> None:
    sql = "SELECT * FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
    assert len(db.execute(sql).fetchall()) == 4
    assert len(acme.emu.log) == 1


def test_data_of_every_asset_of_a_release(acme: Acme, db: apsw.Connection) -> None:
    rows = db.execute(
        "SELECT name, data FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
        "AND release_id = ? AND state = 'uploaded' ORDER BY name",
        (acme.new,),
    ).fetchall()
    assert rows == [("notes.txt", NOTES), ("tool-1.1.0.tar.gz", TAR)]
    assert len(storage_requests(acme.emu)) == 2
    assert not [r for r in acme.emu.log if r.origin == "storage" and "authorization" in r.headers]


def test_large_asset_length(acme: Acme, db: apsw.Connection) -> None:
    big = acme.emu.add_asset("acme", "tool", acme.new, "big.bin", size=300_000)
    sql = f"SELECT length(data), digest FROM release_assets {KEYED}"
    assert db.execute(sql, (big["id"],)).fetchone() == (300_000, big["digest"])


def test_download_to_a_directory_keeps_the_name(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    written = download(db, acme.tar["id"], f"{tmp_path}/dist/", "mkdir")
    assert written == f"{tmp_path}/dist/tool-1.1.0.tar.gz"
    assert (tmp_path / "dist" / "tool-1.1.0.tar.gz").read_bytes() == TAR
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["tool-1.1.0.tar.gz"]
    assert not [r for r in storage_requests(acme.emu) if "authorization" in r.headers]


def test_download_to_an_existing_directory(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    assert download(db, acme.notes["id"], str(tmp_path)) == str(tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_bytes() == NOTES


def test_download_to_a_file_path(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    target = tmp_path / "renamed.tgz"
    assert download(db, acme.tar["id"], str(target)) == str(target)
    assert target.read_bytes() == TAR
    assert [p.name for p in tmp_path.iterdir()] == ["renamed.tgz"]


def test_download_from_a_query(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    rows = db.execute(
        "SELECT download(owner, repo, id, ?1) FROM release_assets WHERE owner = 'acme' "
        "AND repo = 'tool' AND release_id = ?2 AND name LIKE '%.txt'",
        (f"{tmp_path}/", acme.new),
    )
    assert rows.fetchall() == [(f"{tmp_path}/notes.txt",)]
    assert (tmp_path / "notes.txt").read_bytes() == NOTES


def test_download_of_missing_asset_is_an_error(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    with pytest.raises(SqlghError, match="no asset 999 in acme/tool"):
        download(db, 999, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_digest_mismatch_fails_and_leaves_no_file(
    acme: Acme, db: apsw.Connection, tmp_path
) -> None:
    bad = acme.emu.add_asset(
        "acme", "tool", acme.new, "bad.bin", content=b"content", digest="sha256:" + "0" * 64
    )
    with pytest.raises(SqlghError, match="does not match its digest"):
        download(db, bad["id"], str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SqlghError, match="does not match its digest"):
        db.execute(f"SELECT data FROM release_assets {KEYED}", (bad["id"],)).fetchall()


def test_asset_without_digest_still_downloads(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    plain = acme.emu.add_asset("acme", "tool", acme.new, "plain.bin", content=b"ok", digest=None)
    assert download(db, plain["id"], str(tmp_path)).endswith("plain.bin")
    assert (tmp_path / "plain.bin").read_bytes() == b"ok"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", r"download of 'big\.bin' is incomplete: 100000 of 200000 bytes"),
        ("drop", r"could not complete GET http://127\.0\.0\.1:\d+/"),
    ],
)
def test_cut_download_fails_and_leaves_no_file(
    acme: Acme, db: apsw.Connection, tmp_path, kind: str, message: str
) -> None:
    big = acme.emu.add_asset("acme", "tool", acme.new, "big.bin", size=200_000)
    acme.emu.add_fault(Fault(kind, origin="storage", times=-1))
    with pytest.raises(RemoteError, match=message):
        download(db, big["id"], str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RemoteError, match=f"^release_assets: {message}"):
        db.execute(f"SELECT data FROM release_assets {KEYED}", (big["id"],)).fetchall()


def test_readfile_writefile_round_trip(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(range(256)))
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'round.bin', readfile(?))",
        (acme.new, str(source)),
    )
    new_id = db.last_insert_rowid()
    out = tmp_path / "out.bin"
    sql = f"SELECT writefile(?, data) FROM release_assets {KEYED}"
    assert db.execute(sql, (str(out), new_id)).fetchone() == (256,)
    assert out.read_bytes() == source.read_bytes()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == acme.emu.get_asset(new_id)["digest"][7:]


def test_readfile_of_missing_file_is_null(db: apsw.Connection, tmp_path) -> None:
    assert db.execute("SELECT readfile(?)", (str(tmp_path / "nope"),)).fetchone() == (None,)


def test_insert_of_readfile_of_a_missing_file_names_it(
    acme: Acme, db: apsw.Connection, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    insert = (
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'x.txt', readfile(?))"
    )
    with pytest.raises(InputError) as caught:
        db.execute(insert, (acme.new, "nope"))
    message = str(caught.value)
    assert message.startswith(
        "release_assets.data is NULL: readfile() could not read 'nope' (No such file or "
        f"directory) (relative paths start in {str(tmp_path)!r}); give the path of a file"
    )
    assert "Nothing was changed on GitHub" in message
    assert [r.method for r in acme.emu.log if r.method == "POST"] == []
    # The next statement has its own record: a NULL data of its own is the plain error.
    with pytest.raises(InputError, match="needs exactly one of data"):
        db.execute(insert.replace("readfile(?)", "NULL"), (acme.new,))


def test_ghes_download() -> None:
    with Emulator(ghes=True) as emu:
        acme = seed_acme(emu)
        db = connect_to(emu)
        row = db.execute(f"SELECT data FROM release_assets {KEYED}", (acme.tar["id"],))
        assert row.fetchone() == (TAR,)
        assert not [r for r in storage_requests(emu) if "authorization" in r.headers]


def test_writefile_writes_numbers_and_text_as_text(db: apsw.Connection, tmp_path) -> None:
    number, text = tmp_path / "n.txt", tmp_path / "t.txt"
    assert db.execute(
        "SELECT writefile(?, 5), writefile(?, 'héllo')", (str(number), str(text))
    ).fetchall() == [(1, 6)]
    assert number.read_bytes() == b"5"
    assert text.read_text(encoding="utf-8") == "héllo"


def test_downloads_reuse_the_storage_connection(acme: Acme, tmp_path) -> None:
    db = connect_to(acme.emu, cache=False)  # then downloads use client.session
    big = acme.emu.add_asset("acme", "tool", acme.new, "big.bin", size=3 * (1 << 20) + 5)
    for n in range(3):
        path = download(db, big["id"], f"{tmp_path}/{n}/", "mkdir")
        assert os.path.getsize(path) == big["size"]
    pools = db.sqlgh.client.session.get_adapter(acme.emu.storage_url).poolmanager.pools
    port = int(acme.emu.storage_url.rsplit(":", 1)[1])
    (storage,) = [pools[key] for key in pools.keys() if key.key_port == port]  # noqa: SIM118
    idle = [connection for connection in storage.pool.queue if connection is not None]
    assert storage.num_requests == 3
    assert [connection.is_connected for connection in idle] == [True]  # kept alive


def test_decoded_bodies_fill_buffers_across_pieces() -> None:
    pieces = Decoded(iter([b"abc", b"", b"defgh", b"i"]))
    buffer = memoryview(bytearray(4))
    read = []
    while count := pieces.readinto(buffer):
        read.append(bytes(buffer[:count]))
    assert read == [b"abc", b"defg", b"h", b"i"]
    assert pieces.readinto(buffer) == 0


def test_uploaded_assets_download_whole_by_range_and_cut(acme: Acme, tmp_path) -> None:
    # An uploaded asset is spooled to a file, which the emulator's storage sends with
    # sendfile(2): the bytes, a Range from the middle, and a cut body must all hold.
    db = connect_to(acme.emu)
    content = os.urandom(300_000)
    source = tmp_path / "up.bin"
    source.write_bytes(content)
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme', 'tool', ?, ?)",
        (acme.new, str(source)),
    )
    asset_id = db.last_insert_rowid()
    (data,) = db.execute(f"SELECT data FROM release_assets {KEYED}", (asset_id,)).fetchone()
    assert data == content
    storage = acme.emu.storage_url
    api = f"{acme.emu.api_url}/repos/acme/tool/releases/assets/{asset_id}"
    headers = {"Accept": "application/octet-stream", "Authorization": f"Bearer {TOKEN}"}
    signed = requests.get(api, headers=headers, allow_redirects=False, timeout=10)
    assert signed.status_code == 302 and signed.headers["Location"].startswith(storage)
    ranged = requests.get(signed.headers["Location"], headers={"Range": "bytes=1000-"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == content[1000:]
    acme.emu.add_fault(Fault("drop", origin="storage", times=-1))
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(RemoteError):
        download(db, asset_id, str(target))
    assert list(target.iterdir()) == []


def test_an_empty_uploaded_asset_downloads_as_empty(acme: Acme, tmp_path) -> None:
    # GitHub refuses empty uploads now (422), so such an asset is seeded, not uploaded.
    db = connect_to(acme.emu)
    asset_id = acme.emu.add_asset("acme", "tool", acme.new, "empty.txt", content=b"")["id"]
    assert db.execute(f"SELECT data FROM release_assets {KEYED}", (asset_id,)).fetchone() == (b"",)
    assert download(db, asset_id, str(tmp_path / "empty-copy.txt")).endswith("empty-copy.txt")
    assert (tmp_path / "empty-copy.txt").read_bytes() == b""
