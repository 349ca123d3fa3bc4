"""The checksum_entries table over the emulator, and queries/checksum_audit.sql on the demo."""

from __future__ import annotations

import hashlib
import json
import time
import tracemalloc

import pytest
from cli_helpers import QUERIES, sqlgh
from conftest import connect_to

from sqlgh.checksums import MAX_FILE_SIZE
from sqlgh.emulator import Emulator
from sqlgh.errors import SqlghError

A = hashlib.sha256(b"linux").hexdigest()
ENTRIES = (
    "SELECT file, asset_name, algorithm, expected, source_asset, line FROM checksum_entries "
    "WHERE owner = 'acme' AND repo = 'tool' ORDER BY source_asset, line"
)


def release(emu: Emulator, *assets: tuple[str, bytes]) -> int:
    """acme/tool v1 with the given (name, content) assets."""
    emu.add_org("acme")
    emu.add_repo("acme", "tool")
    created = emu.add_release("acme", "tool", "v1")
    for name, content in assets:
        emu.add_asset("acme", "tool", created["id"], name, content=content)
    return int(created["id"])


def downloads(emu: Emulator) -> list[str]:
    return [r.path for r in emu.log if r.origin == "storage"]


def test_the_checksum_files_of_a_release_are_read(emulator: Emulator) -> None:
    sha512 = hashlib.sha512(b"mac").hexdigest()
    release(
        emulator,
        ("tool-linux.tar.gz", b"linux"),
        ("tool-mac.zip", b"mac"),
        ("SHA256SUMS", f"{A}  ./dist/tool-linux.tar.gz\r\n".encode()),
        ("tool-mac.zip.sha512", f"{sha512}\n".encode()),
        ("SHA256SUMS.sig", b"signature"),
    )
    rows = connect_to(emulator).execute(ENTRIES).fetchall()
    assert rows == [
        ("./dist/tool-linux.tar.gz", "tool-linux.tar.gz", "sha256", A, "SHA256SUMS", 1),
        ("tool-mac.zip", "tool-mac.zip", "sha512", sha512, "tool-mac.zip.sha512", 1),
    ]
    assert len(downloads(emulator)) == 2  # the two checksum files, nothing else


def test_a_join_downloads_each_checksum_file_once_per_statement(emulator: Emulator) -> None:
    release(
        emulator,
        *[(f"tool-{n}.tar.gz", b"x") for n in range(5)],
        ("checksums.txt", f"{A}  tool-0.tar.gz\n".encode()),
    )
    db = connect_to(emulator)
    joined = db.execute(
        "SELECT count(*) FROM release_assets AS a JOIN checksum_entries AS c "
        "ON c.owner = a.owner AND c.repo = a.repo AND c.release_id = a.release_id "
        "WHERE a.owner = 'acme' AND a.repo = 'tool'"
    ).fetchall()
    assert joined == [(6,)]  # 6 assets x 1 line
    assert len(downloads(emulator)) == 1


def test_a_hostile_checksum_file_fails_fast_naming_the_table_and_release(
    emulator: Emulator,
) -> None:
    release_id = release(emulator, ("SHA256SUMS", b"\n" * 1_000_000))
    started = time.monotonic()
    with pytest.raises(SqlghError) as failure:
        connect_to(emulator).execute(ENTRIES).fetchall()
    assert time.monotonic() - started < 10
    assert str(failure.value) == (
        f"checksum_entries: release {release_id} of acme/tool: SHA256SUMS has 1000000 lines, "
        f"more than 20000; the file is not read. Leave the release out (AND release_id <> "
        f"{release_id}), or check the file with release_assets.data"
    )


def test_a_huge_checksum_file_is_refused_before_it_is_downloaded(emulator: Emulator) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    created = emulator.add_release("acme", "tool", "v1")
    emulator.add_asset("acme", "tool", created["id"], "checksums.txt", size=MAX_FILE_SIZE + 1)
    with pytest.raises(SqlghError, match=r"checksums\.txt is 4194305 bytes, more than a"):
        connect_to(emulator).execute(ENTRIES).fetchall()
    assert downloads(emulator) == []


@pytest.fixture(scope="module")
def audit_rows(demo: Emulator) -> list[dict]:
    result = sqlgh(
        "--format", "jsonl", str(QUERIES / "checksum_audit.sql"), api_url=demo.api_url
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_audit_finds_the_demo_s_mismatch_and_missing_entry(
    demo: Emulator, audit_rows: list[dict]
) -> None:
    assert [(r["owner"], r["repo"], r["release"], r["problem"], r["file"]) for r in audit_rows] == [
        ("acme", "rocket", "v2.6.0", "digest differs", "rocket-2.6.0-linux-amd64.tar.gz"),
        ("acme", "rocket", "v2.6.0", "not in checksums", "rocket_2.6.0_amd64.deb"),
    ]
    assert audit_rows[0]["detail"].startswith("checksums.txt line 1 gives ")


def test_the_audit_names_every_kind_of_problem(emulator: Emulator) -> None:
    for org in ("acme", "globex", "initech"):  # the owners the query names
        emulator.add_org(org)
    emulator.add_repo("acme", "tool")
    created = emulator.add_release("acme", "tool", "v1")
    for name, content, digest in [
        ("tool-linux.tar.gz", b"linux", "computed"),  # listed, matches
        ("tool-mac.zip", b"mac", "computed"),  # listed with a wrong digest
        ("tool-old.zip", b"old", None),  # listed, but GitHub has no digest
        ("tool-win.zip", b"win", "computed"),  # not listed
        ("tool-win.zip.asc", b"sig", "computed"),  # a signature: needs no line
        ("SHA256SUMS", f"{A}  tool-linux.tar.gz\n{A}  tool-mac.zip\n{A}  tool-old.zip\n"
         f"{A}  tool-bsd.tar.gz\n".encode(), "computed"),
    ]:
        no_digest = {"digest": None} if digest is None else {}
        emulator.add_asset("acme", "tool", created["id"], name, content=content, **no_digest)
    result = sqlgh("--format", "jsonl", str(QUERIES / "checksum_audit.sql"),
                   api_url=emulator.api_url)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["problem"], r["file"]) for r in rows] == [
        ("digest differs", "tool-mac.zip"),
        ("no digest", "tool-old.zip"),
        ("not attached", "tool-bsd.tar.gz"),
        ("not in checksums", "tool-win.zip"),
    ]


def test_assets_without_a_digest_are_verified_by_streaming_them(emulator: Emulator) -> None:
    for org in ("acme", "globex", "initech"):  # the owners the query names
        emulator.add_org(org)
    emulator.add_repo("acme", "tool")
    created = emulator.add_release("acme", "tool", "v1")
    big = 3 << 20  # generated bytes: the emulator does not hold them either
    sums = f"{A}  tool-linux.tar.gz\n{'0' * 64}  tool-big.iso\n{A}  tool-new.zip\n"
    for name, content, size, digest in [
        ("tool-linux.tar.gz", b"linux", None, None),  # its line is right
        ("tool-big.iso", None, big, None),  # its line is wrong
        ("tool-new.zip", b"new", None, "computed"),  # has a digest: the audit checks it
        ("SHA256SUMS", sums.encode(), None, "computed"),
    ]:
        no_digest = {"digest": None} if digest is None else {}
        emulator.add_asset("acme", "tool", created["id"], name, content=content, size=size,
                           **no_digest)
    result = sqlgh("--format", "jsonl", str(QUERIES / "verify_downloads.sql"),
                   api_url=emulator.api_url)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["file"], r["verdict"]) for r in rows] == [
        ("tool-big.iso", "differs"),
        ("tool-linux.tar.gz", "matches"),
    ]
    (iso,) = [a for a in emulator.list_assets("acme", "tool", created["id"])
              if a["name"] == "tool-big.iso"]
    actual = hashlib.sha256(emulator.asset_content(iso["id"])).hexdigest()
    assert rows[0]["detail"] == (
        f"SHA256SUMS line 2 gives {'0' * 64}; the bytes hash to {actual}"
    )


def test_asset_sha256_streams_without_holding_the_asset(emulator: Emulator) -> None:
    release_id = release(emulator)
    size = 64 << 20  # generated by the emulator as it is sent
    asset = emulator.add_asset("acme", "tool", release_id, "big.iso", size=size, digest=None)
    expected = hashlib.sha256(emulator.asset_content(asset["id"])).hexdigest()
    db = connect_to(emulator)
    tracemalloc.start()
    try:
        found = db.execute(
            "SELECT asset_sha256('acme', 'tool', ?), asset_sha256('acme', 'tool', 99)",
            (asset["id"],),
        ).fetchall()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == [(expected, None)]
    assert peak < size / 4, peak  # a few read buffers, not the asset
