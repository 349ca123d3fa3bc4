"""download() and download_assets as a gh user expects (issue 17 part 6): existing files
kept unless asked, no directory made by a typo, two assets never on one path, a batch
planned before any byte moves, two requests a file, concurrent, and honest failures."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
import requests
from helpers import NOTES, TAR, Acme

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import InputError, MissingKeysError, RemoteError
from tests.cli_helpers import sqlgh as sqlgh_command
from tests.conftest import TOKEN, connect_to
from tests.test_progress import Recorder

DOWNLOAD = "SELECT download('acme', 'tool', ?, ?, ?)"
BATCH = (
    "SELECT id, name, path, status FROM download_assets "
    "WHERE owner = 'acme' AND repo = 'tool' AND release_id = ? AND destination = ?"
)


def storage(emu: Emulator) -> list:
    return [r for r in emu.log if r.origin == "storage"]


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# --- an existing file --------------------------------------------------------------------
def test_an_existing_file_is_kept_unless_asked(acme: Acme, db, tmp_path: Path) -> None:
    target = tmp_path / "tool-1.1.0.tar.gz"
    target.write_bytes(b"mine")
    with pytest.raises(InputError) as caught:
        db.execute(DOWNLOAD, (acme.tar["id"], f"{tmp_path}/", None)).fetchall()
    assert str(caught.value) == (
        f"download: {str(target)!r} exists; sqlgh keeps an existing file unless told: give "
        "'overwrite' to replace it (gh's --clobber) or 'skip' to keep it (gh's "
        "--skip-existing) as the options argument"
    )
    assert storage(acme.emu) == []  # refused before any byte moved
    skipped = db.execute(DOWNLOAD, (acme.tar["id"], f"{tmp_path}/", "skip")).fetchone()[0]
    assert skipped == str(target) and target.read_bytes() == b"mine"
    assert storage(acme.emu) == []
    db.execute(DOWNLOAD, (acme.tar["id"], f"{tmp_path}/", "overwrite")).fetchall()
    assert files(tmp_path) == {"tool-1.1.0.tar.gz": TAR}


def test_options_that_are_not_understood(acme: Acme, db, tmp_path: Path) -> None:
    for options in ("clobber", "skip overwrite", "5"):
        with pytest.raises(InputError, match=r"^download: the options .* are not understood"):
            db.execute(DOWNLOAD, (acme.tar["id"], f"{tmp_path}/", options)).fetchall()
    assert acme.emu.log == []


# --- the destination directory -----------------------------------------------------------
def test_a_missing_directory_is_an_error_unless_mkdir(acme: Acme, db, tmp_path: Path) -> None:
    typo = tmp_path / "dwnloads"
    with pytest.raises(InputError) as caught:
        db.execute(DOWNLOAD, (acme.tar["id"], f"{typo}/", None)).fetchall()
    assert str(caught.value) == (
        f"download: the directory {str(typo)!r} does not exist; check its spelling, or add "
        "'mkdir' to the options to create it"
    )
    with pytest.raises(InputError, match="end the destination with '/' and add 'mkdir'"):
        db.execute(DOWNLOAD, (acme.tar["id"], f"{typo}/x.tgz", "mkdir")).fetchall()
    assert not typo.exists() and storage(acme.emu) == []
    path = db.execute(DOWNLOAD, (acme.tar["id"], f"{typo}/", "mkdir")).fetchone()[0]
    assert path == f"{typo}/tool-1.1.0.tar.gz" and files(typo) == {"tool-1.1.0.tar.gz": TAR}


def test_download_assets_names_a_missing_directory_in_a_sentence(
    acme: Acme, db, tmp_path: Path
) -> None:
    typo = tmp_path / "dwnloads"
    with pytest.raises(InputError) as caught:
        db.execute(BATCH, (acme.old, f"{typo}/")).fetchall()
    # before: "... to the options to create it No file was written."
    assert str(caught.value) == (
        f"download_assets: the directory {str(typo)!r} does not exist; check its spelling, or "
        "add 'mkdir' to the options to create it. No file was written."
    )
    assert not typo.exists() and storage(acme.emu) == []

# --- two assets, one path ----------------------------------------------------------------
def same_name_in_two_releases(acme: Acme) -> dict:
    return acme.emu.add_asset("acme", "tool", acme.old, "notes.txt", content=b"old notes")


def test_download_refuses_a_second_asset_on_a_path_it_wrote(acme: Acme, db, tmp_path) -> None:
    older = same_name_in_two_releases(acme)
    sql = (
        "SELECT download(owner, repo, id, ?) FROM release_assets WHERE owner = 'acme' "
        "AND repo = 'tool' AND name = 'notes.txt'"
    )
    with pytest.raises(InputError) as caught:
        db.execute(sql, (f"{tmp_path}/",)).fetchall()
    target = f"{tmp_path}/notes.txt"
    kept = files(tmp_path)["notes.txt"]  # the first row's file, not overwritten
    first, second = (acme.notes, older) if kept == NOTES else (older, acme.notes)
    assert str(caught.value) == (
        f"download: assets 'notes.txt' (id {first['id']}) and 'notes.txt' (id "
        f"{second['id']}) would both be written to {target!r}; give each release a "
        "directory of its own (e.g. 'downloads/' || release_id || '/') or a file path per "
        f"asset. Written before it stopped (1, whole and verified): {target} ('notes.txt' "
        f"(id {first['id']}))."
    )
    assert len(storage(acme.emu)) == 1


def test_download_assets_refuses_two_assets_on_a_path_before_any_byte(
    acme: Acme, db, tmp_path: Path
) -> None:
    older = same_name_in_two_releases(acme)
    sql = (
        "SELECT * FROM download_assets WHERE owner = 'acme' AND repo = 'tool' "
        "AND release_id IN (?, ?) AND destination = ? AND id IN (?, ?)"
    )
    with pytest.raises(InputError) as caught:
        db.execute(
            sql, (acme.old, acme.new, f"{tmp_path}/", older["id"], acme.notes["id"])
        ).fetchall()
    assert str(caught.value).startswith(
        f"download_assets: assets 'notes.txt' (id {older['id']}) and 'notes.txt' (id "
        f"{acme.notes['id']}) would both be written to '{tmp_path}/notes.txt'"
    )
    assert str(caught.value).endswith(" No file was written.")
    assert storage(acme.emu) == [] and files(tmp_path) == {}


def test_batches_of_one_statement_never_share_a_path(acme: Acme, db, tmp_path: Path) -> None:
    # A join runs one batch per release; the second batch knows what the first wrote.
    older = same_name_in_two_releases(acme)
    sql = (
        "SELECT d.name, d.release_id FROM (SELECT ? AS r UNION ALL SELECT ?) "
        "JOIN download_assets d ON d.release_id = r WHERE d.owner = 'acme' AND d.repo = 'tool' "
        "AND d.destination = ? AND d.id IN (?, ?)"
    )
    values = (acme.old, acme.new, f"{tmp_path}/", older["id"], acme.notes["id"])
    with pytest.raises(InputError, match=r"would both be written to .* No file was written\.$"):
        db.execute(sql, values).fetchall()
    assert files(tmp_path) == {"notes.txt": b"old notes"}  # the first batch's file, kept


def test_download_on_a_row_uses_its_metadata(acme: Acme, db, tmp_path: Path) -> None:
    rows = db.execute(
        "SELECT download(owner, repo, id, ?) FROM release_assets WHERE owner = 'acme' "
        "AND repo = 'tool' AND release_id = ? AND state = 'uploaded'",
        (f"{tmp_path}/", acme.new),
    ).fetchall()
    assert len(rows) == 2 and files(tmp_path) == {"notes.txt": NOTES, "tool-1.1.0.tar.gz": TAR}
    api = [f"{r.path} {r.status}" for r in acme.emu.log if r.origin == "api"]
    assert api == [  # the release, then per file: the API's redirect (and storage), no GET
        f"/repos/acme/tool/releases/{acme.new} 200",
        f"/repos/acme/tool/releases/assets/{acme.tar['id']} 302",
        f"/repos/acme/tool/releases/assets/{acme.notes['id']} 302",
    ]
    assert len(storage(acme.emu)) == 2
    acme.emu.clear_log()  # without a row to read it from, the asset is fetched first
    db.execute(DOWNLOAD, (acme.notes["id"], f"{tmp_path}/x.txt", None)).fetchall()
    assert [r.status for r in acme.emu.log if r.origin == "api"] == [200, 302]


# --- the batch form ----------------------------------------------------------------------
def test_download_assets_costs_two_requests_a_file(acme: Acme, db, tmp_path: Path) -> None:
    rows = db.execute(
        BATCH + " AND id IN (?, ?)", (acme.new, f"{tmp_path}/", acme.tar["id"], acme.notes["id"])
    ).fetchall()
    assert sorted(rows) == sorted(
        [
            (acme.tar["id"], "tool-1.1.0.tar.gz", f"{tmp_path}/tool-1.1.0.tar.gz", "downloaded"),
            (acme.notes["id"], "notes.txt", f"{tmp_path}/notes.txt", "downloaded"),
        ]
    )
    assert files(tmp_path) == {"notes.txt": NOTES, "tool-1.1.0.tar.gz": TAR}
    api = [f"{r.method} {r.path} {r.status}" for r in acme.emu.log if r.origin == "api"]
    assert sorted(api) == sorted(
        [
            f"GET /repos/acme/tool/releases/{acme.new} 200",  # names, sizes, digests
            f"GET /repos/acme/tool/releases/assets/{acme.tar['id']} 302",
            f"GET /repos/acme/tool/releases/assets/{acme.notes['id']} 302",
        ]
    )
    assert len(storage(acme.emu)) == 2
    assert not [r for r in storage(acme.emu) if "authorization" in r.headers]


def test_download_assets_with_a_subquery_and_skip(acme: Acme, db, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"mine")
    rows = db.execute(
        "SELECT name, status FROM download_assets(?1, 'skip') WHERE owner = 'acme' "
        "AND repo = 'tool' AND release_id = ?2 AND id IN (SELECT id FROM release_assets "
        "WHERE owner = 'acme' AND repo = 'tool' AND release_id = ?2 AND state = 'uploaded') "
        "ORDER BY name",
        (f"{tmp_path}/", acme.new),
    ).fetchall()
    assert rows == [
        ("notes.txt", "skipped: the file exists"),
        ("tool-1.1.0.tar.gz", "downloaded"),
    ]
    assert files(tmp_path) == {"notes.txt": b"mine", "tool-1.1.0.tar.gz": TAR}


def test_download_assets_takes_no_condition_it_cannot_apply(acme: Acme, db, tmp_path) -> None:
    for where in ("AND name LIKE '%.txt'", "AND size > 3", "LIMIT 1"):
        with pytest.raises(MissingKeysError, match="it takes no other condition"):
            db.execute(BATCH + f" {where}", (acme.new, f"{tmp_path}/")).fetchall()
    with pytest.raises(MissingKeysError, match="needs owner, repo and destination"):
        db.execute(
            "SELECT * FROM download_assets WHERE owner = 'acme' AND repo = 'tool' AND id = 1"
        ).fetchall()
    assert acme.emu.log == [] and files(tmp_path) == {}


def test_download_assets_runs_files_concurrently(acme: Acme, tmp_path: Path) -> None:
    # Each of the first two storage requests waits for the other: only concurrent
    # downloads get past the barrier (sequential ones would break it after 5 s).
    both = threading.Barrier(2, timeout=5)
    acme.emu.add_fault(Fault("meanwhile", origin="storage", times=2, call=both.wait))
    recorder = Recorder()
    db = connect_to(acme.emu, max_concurrency=4, progress=recorder)
    rows = db.execute(BATCH + " AND id IN (?, ?)", (acme.new, f"{tmp_path}/", acme.tar["id"],
                                                     acme.notes["id"])).fetchall()  # fmt: skip
    assert len(rows) == 2 and not both.broken
    (bar,) = [b for b in recorder.bars if b["desc"].startswith("download_assets")]
    assert bar == {
        "total": len(TAR) + len(NOTES),
        "desc": "download_assets: 2 files",
        "unit": "B",
        "done": len(TAR) + len(NOTES),
        "closed": True,
    }


# --- assets without bytes, and failures --------------------------------------------------
def test_a_starter_asset_is_named_with_its_state(acme: Acme, db, tmp_path: Path) -> None:
    starter = acme.starter
    expected = (
        f"asset 'broken.bin' (id {starter['id']}) of acme/tool is in state 'starter', not "
        "'uploaded': its upload never finished, so GitHub has no bytes to send"
    )
    with pytest.raises(RemoteError) as caught:
        db.execute(DOWNLOAD, (starter["id"], f"{tmp_path}/", None)).fetchall()
    assert str(caught.value).startswith(f"download: {expected}")
    with pytest.raises(RemoteError) as caught:
        db.execute(BATCH, (acme.new, f"{tmp_path}/")).fetchall()  # the release holds it
    assert str(caught.value).startswith(f"download_assets: {expected}")
    assert storage(acme.emu) == [] and files(tmp_path) == {}
    with pytest.raises(RemoteError, match=r"^download: no asset 999 in acme/tool"):
        db.execute(DOWNLOAD, (999, f"{tmp_path}/", None)).fetchall()


def test_a_storage_error_is_shown_without_its_xml(acme: Acme, db, tmp_path: Path) -> None:
    url = f"{acme.emu.api_url}/repos/acme/tool/releases/assets/{acme.notes['id']}"
    delete = lambda: requests.delete(url, headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: E731
    acme.emu.add_fault(Fault("meanwhile", origin="storage", call=delete))  # gone meanwhile
    with pytest.raises(RemoteError) as caught:
        db.execute(DOWNLOAD, (acme.notes["id"], f"{tmp_path}/", None)).fetchall()
    message = str(caught.value)
    assert "NoSuchKey: The specified key does not exist." in message
    assert "<" not in message and files(tmp_path) == {}


def test_a_failed_batch_names_the_files_it_wrote(acme: Acme, tmp_path: Path) -> None:
    bad = acme.emu.add_asset(
        "acme", "tool", acme.new, "zz-bad.bin", content=b"bytes", digest="sha256:" + "0" * 64
    )
    db = connect_to(acme.emu, max_concurrency=1)  # in id order: tar, notes, then bad
    wanted = (acme.tar["id"], acme.notes["id"], bad["id"])
    with pytest.raises(RemoteError) as caught:
        db.execute(BATCH + " AND id IN (?, ?, ?)", (acme.new, f"{tmp_path}/", *wanted)).fetchall()
    assert str(caught.value) == (
        f"download_assets: download of 'zz-bad.bin' does not match its digest sha256:{'0' * 64}. "
        f"Written before it stopped (2, whole and verified): {tmp_path}/tool-1.1.0.tar.gz "
        f"('tool-1.1.0.tar.gz' (id {acme.tar['id']})); {tmp_path}/notes.txt ('notes.txt' (id "
        f"{acme.notes['id']})). Not written (1): {tmp_path}/zz-bad.bin."
    )
    assert files(tmp_path) == {"notes.txt": NOTES, "tool-1.1.0.tar.gz": TAR}
    # The scalar form, row by row, says the same of the rows before the failure.
    for name in ("notes.txt", "tool-1.1.0.tar.gz"):
        (tmp_path / name).unlink()
    with pytest.raises(RemoteError) as caught:
        db.execute(
            "SELECT download(owner, repo, id, ?) FROM release_assets WHERE owner = 'acme' "
            "AND repo = 'tool' AND release_id = ? AND state = 'uploaded' ORDER BY id",
            (f"{tmp_path}/", acme.new),
        ).fetchall()
    assert str(caught.value).endswith(
        f"Written before it stopped (2, whole and verified): {tmp_path}/tool-1.1.0.tar.gz "
        f"('tool-1.1.0.tar.gz' (id {acme.tar['id']})); {tmp_path}/notes.txt ('notes.txt' (id "
        f"{acme.notes['id']}))."
    )


# --- through the real shell --------------------------------------------------------------
def test_download_assets_in_the_shell_shows_a_progress_bar(acme: Acme, tmp_path: Path) -> None:
    # On a terminal, a batch longer than half a second shows its bar (here one slow file).
    # Standard error is a pseudo-terminal of 100 columns (tqdm draws nothing in 0 columns).
    acme.emu.add_fault(Fault("slow", origin="storage", delay=0.8, times=1))
    sql = (
        f"SELECT name, status FROM download_assets('{tmp_path}/out/', 'mkdir') "
        f"WHERE owner = 'acme' AND repo = 'tool' AND release_id = {acme.new} "
        f"AND id IN ({acme.tar['id']}, {acme.notes['id']})"
    )
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "GITHUB_API_URL": acme.emu.api_url, "GH_TOKEN": TOKEN}
    with subprocess.Popen(
        [sys.executable, "-m", "sqlgh.cli", "--format", "csv", "-c", sql],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=child, env=env,
    ) as process:  # fmt: skip
        os.close(child)
        shown = b""
        while chunk := _read(parent):
            shown += chunk
        out = process.stdout.read().decode() if process.stdout else ""
    os.close(parent)
    assert process.returncode == 0, shown
    assert b"download_assets: 2 files: 100%" in shown
    assert out == "name,status\ntool-1.1.0.tar.gz,downloaded\nnotes.txt,downloaded\n"
    assert files(tmp_path / "out") == {"notes.txt": NOTES, "tool-1.1.0.tar.gz": TAR}


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""


def test_download_assets_in_a_piped_script(acme: Acme, tmp_path: Path) -> None:
    sql = (
        f"SELECT name, status FROM download_assets('{tmp_path}/', 'skip') WHERE owner = 'acme' "
        f"AND repo = 'tool' AND release_id = {acme.old};\n"
    )
    first = sqlgh_command("--format", "csv", api_url=acme.emu.api_url, stdin=sql)
    again = sqlgh_command("--format", "csv", api_url=acme.emu.api_url, stdin=sql)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "name,status\ntool-1.0.0.zip,downloaded\n"
    assert again.stdout == "name,status\ntool-1.0.0.zip,skipped: the file exists\n"
    assert "download_assets" not in first.stderr  # no bar when standard error is a pipe
    assert files(tmp_path) == {"tool-1.0.0.zip": b"old"}


def test_ctrl_c_in_a_batch_stops_its_downloads_and_leaves_no_file(
    acme: Acme, tmp_path: Path
) -> None:
    release_storage = threading.Event()

    def ctrl_c_then_answer() -> None:  # the files are downloading when Ctrl-C comes
        os.kill(os.getpid(), signal.SIGINT)
        release_storage.wait(1.5)  # the main thread must see the Ctrl-C before this ends

    acme.emu.add_fault(Fault("meanwhile", origin="storage", call=ctrl_c_then_answer))
    db = connect_to(acme.emu, max_concurrency=4)
    with pytest.raises(KeyboardInterrupt):
        db.execute(BATCH + " AND id IN (?, ?)", (acme.new, f"{tmp_path}/", acme.tar["id"],
                                                 acme.notes["id"])).fetchall()  # fmt: skip
    assert sorted(os.listdir(tmp_path)) == []  # no temporary file either
    release_storage.set()
    for _ in range(10):  # nothing appears afterwards (before: both files, once answered)
        time.sleep(0.05)
        assert sorted(os.listdir(tmp_path)) == []


def test_a_file_that_appears_during_a_skip_download_is_reported_skipped(
    acme: Acme, db, tmp_path: Path
) -> None:
    target = tmp_path / "notes.txt"
    appear = lambda: target.write_bytes(b"another writer's")  # noqa: E731
    acme.emu.add_fault(Fault("meanwhile", origin="storage", call=appear))
    rows = db.execute(
        "SELECT name, status FROM download_assets('" + f"{tmp_path}/" + "', 'skip') "
        "WHERE owner = 'acme' AND repo = 'tool' AND release_id = ? AND id = ?",
        (acme.new, acme.notes["id"]),
    ).fetchall()
    assert rows == [("notes.txt", "skipped: the file exists")]  # before: "downloaded"
    assert target.read_bytes() == b"another writer's"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_an_asset_name_that_climbs_out_of_the_directory_is_refused_with_advice(
    acme: Acme, db, tmp_path: Path
) -> None:
    def climbing(release: dict) -> dict:  # a hostile server's release, its assets embedded
        return {**release, "assets": [{**a, "name": "../escaped.txt"} for a in release["assets"]]}

    acme.emu.add_fault(
        Fault("rewrite_json", method="GET", path=r"/releases/\d+$", rewrite=climbing)
    )
    inside = tmp_path / "inside"
    inside.mkdir()
    with pytest.raises(RemoteError) as caught:
        db.execute(BATCH + " AND id = ?", (acme.new, f"{inside}/", acme.notes["id"])).fetchall()
    assert (
        f"download_assets: GitHub gave asset {acme.notes['id']} the name '../escaped.txt', "
        "which is not a plain file name (it would be written outside the destination), so "
        "it is not used; give a file path as the destination instead of a directory"
    ) in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["inside"] and not os.listdir(inside)
