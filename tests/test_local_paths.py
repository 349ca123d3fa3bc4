"""Paths the local-file functions are given (issue 14 review, items 11 and 12): every
mistake is an sqlgh error naming the function, and download() replaces only a regular
file, through a temporary file made with the mode any new file gets."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import connect_to
from helpers import TAR, Acme

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.errors import InputError

DOWNLOAD = "SELECT download('acme', 'tool', ?, ?)"
INSERT_PATH = (
    "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme', 'tool', ?, ?)"
)


@pytest.fixture
def db(acme: Acme) -> sqlgh.Connection:
    return connect_to(acme.emu)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".sqlgh-"))


# --- item 11: raw Python errors --------------------------------------------------------------
@pytest.mark.parametrize("under", ["x.bin", "sub/", "sub/x.bin"])
def test_download_under_a_file_is_an_input_error(
    acme: Acme, db: sqlgh.Connection, tmp_path: Path, under: str
) -> None:
    """Was FileExistsError / NotADirectoryError ("[Errno 17] File exists")."""
    (tmp_path / "afile").write_bytes(b"keep")
    with pytest.raises(InputError) as failure:
        db.execute(DOWNLOAD, (acme.tar["id"], f"{tmp_path}/afile/{under}")).fetchall()
    assert str(failure.value).startswith("download: cannot create a file in ")
    assert "give a destination in a directory you can write" in str(failure.value)
    assert (tmp_path / "afile").read_bytes() == b"keep"


@pytest.mark.parametrize(
    ("sql", "where"),
    [
        ("SELECT readfile(:path)", "readfile"),
        ("SELECT writefile(:path, 'x')", "writefile"),
        ("SELECT download('acme', 'tool', :id, :path)", "download"),
        (INSERT_PATH.replace("?, ?", ":release, :path"), "release_assets.path"),
    ],
)
def test_a_nul_in_a_path_is_an_input_error(
    acme: Acme, db: sqlgh.Connection, tmp_path: Path, sql: str, where: str
) -> None:
    """Was ValueError "embedded null byte" (readfile: NULL, as for a missing file)."""
    path = f"{tmp_path}/a\0b"
    values = {"path": path, "id": acme.tar["id"], "release": acme.new}
    with pytest.raises(InputError) as failure:
        db.execute(sql, values).fetchall()
    assert str(failure.value).startswith(
        f"{where}: the path {path!r} holds a NUL character, which no file name can; give the "
        "path without it"
    )  # an INSERT adds: Nothing was changed on GitHub by this statement.
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("value", "shown"), [(5, "5"), (b"\0", "a blob of 1 bytes")])
def test_download_destination_of_another_type_is_named(
    acme: Acme, db: sqlgh.Connection, value: object, shown: str
) -> None:
    """Was "... not NULL" for any value that is no text."""
    with pytest.raises(InputError, match="^download: destination must be a directory or file "
                       rf"path \(text\), not {shown}$"):  # fmt: skip
        db.execute(DOWNLOAD, (acme.tar["id"], value)).fetchall()


@pytest.mark.parametrize(
    ("target", "why"), [("", "Is a directory"), ("afile/x", "Not a directory")]
)
def test_writefile_that_cannot_write_is_an_input_error(
    db: sqlgh.Connection, tmp_path: Path, target: str, why: str
) -> None:
    (tmp_path / "afile").touch()
    path = f"{tmp_path}/{target}"
    with pytest.raises(InputError) as failure:
        db.execute("SELECT writefile(?, 'x')", (path,)).fetchall()
    assert str(failure.value) == (
        f"writefile: cannot write {path!r} ({why}); give the path of a file you can write, in "
        "a directory that exists"
    )


def test_writefile_path_that_is_no_text_is_refused(db: sqlgh.Connection) -> None:
    """writefile(5, ...) opened file descriptor 5."""
    with pytest.raises(InputError, match=r"^writefile: the path must be text, not 5$"):
        db.execute("SELECT writefile(5, 'x')").fetchall()


def test_readfile_above_max_content_size_points_to_insert_path(
    emulator: Emulator, tmp_path: Path
) -> None:
    big = tmp_path / "sparse"
    with open(big, "wb") as handle:
        handle.truncate(1 << 20)
    db = connect_to(emulator, max_content_size=1000)
    with pytest.raises(InputError) as failure:
        db.execute("SELECT length(readfile(?))", (str(big),)).fetchall()
    assert str(failure.value) == (
        f"readfile: {str(big)!r} is 1048576 bytes = 1.0 MiB, more than sqlgh holds in memory "
        "(max_content_size, 1000 bytes); to upload it, name it in the path column, which "
        "streams it: INSERT INTO release_assets(owner, repo, release_id, path) VALUES (..., "
        f"{str(big)!r}); or raise the max_content_size option (sqlgh -o "
        "max_content_size=1048576 in the shell, sqlgh.connect(max_content_size=1048576) in "
        "Python)"
    )
    small = tmp_path / "small"
    small.write_bytes(b"x" * 1000)
    assert db.execute("SELECT length(readfile(?))", (str(small),)).fetchall() == [(1000,)]


def test_readfile_of_a_huge_sparse_file_is_refused_before_reading(tmp_path: Path) -> None:
    """3 GiB of holes under a 2 GiB address-space limit: refused from its size (the default
    max_content_size, 256 MiB), where it was MemoryError."""
    big = tmp_path / "sparse"
    with open(big, "wb") as handle:
        handle.truncate(3 << 30)
    code = (
        "import resource, sqlgh\n"
        "from sqlgh.errors import SqlghError\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "db = sqlgh.connect(api_url='http://127.0.0.1:9', token='t', cache=False)\n"
        "try:\n"
        f"    db.execute('SELECT length(readfile(?))', ({str(big)!r},)).fetchall()\n"
        "except SqlghError as e: print('sqlgh error:', e)\n"
        "except BaseException as e: print('raw', type(e).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "sqlgh error: readfile: " in done.stdout, done.stdout + done.stderr[-300:]
    assert "is 3221225472 bytes = 3072.0 MiB, more than sqlgh holds in memory" in done.stdout


# --- item 12: download() replaces only regular files, with the umask's mode -----------------
@pytest.fixture
def not_regular(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A FIFO, a listening Unix socket and a symbolic link, in tmp_path (never /dev)."""
    fifo, sock, link = tmp_path / "pipe", tmp_path / "sock", tmp_path / "link"
    os.mkfifo(fifo)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock))
    (tmp_path / "real").write_bytes(b"real")
    link.symlink_to(tmp_path / "real")
    yield {"a FIFO (named pipe)": fifo, "a socket": sock, "a symbolic link": link}
    listener.close()


@pytest.mark.parametrize("kind", ["a FIFO (named pipe)", "a socket", "a symbolic link"])
def test_download_does_not_replace_what_is_not_a_regular_file(
    acme: Acme, db: sqlgh.Connection, tmp_path: Path, not_regular: dict[str, Path], kind: str
) -> None:
    target = not_regular[kind]
    before = os.lstat(target)
    with pytest.raises(InputError) as failure:
        db.execute(DOWNLOAD, (acme.tar["id"], str(target))).fetchall()
    assert str(failure.value) == (
        f"download: {str(target)!r} is {kind}, not a regular file; sqlgh replaces only "
        "regular files: give another file path, or a directory"
    )
    after = os.lstat(target)
    assert after.st_ino == before.st_ino
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert (tmp_path / "real").read_bytes() == b"real"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_downloaded_file_has_the_mode_the_umask_gives(
    acme: Acme, db: sqlgh.Connection, tmp_path: Path, umask: int
) -> None:
    """It was 0600 whatever the umask (tempfile.mkstemp)."""
    previous = os.umask(umask)
    try:
        path = db.execute(DOWNLOAD, (acme.tar["id"], f"{tmp_path}/")).fetchone()[0]
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    assert Path(path).read_bytes() == TAR


def test_a_regular_file_is_still_replaced_whole(
    acme: Acme, db: sqlgh.Connection, tmp_path: Path
) -> None:
    """The temp-then-rename stays: a new inode in place of the old file, nothing left."""
    target = tmp_path / "tool.tgz"
    target.write_bytes(b"old")
    before = os.stat(target).st_ino
    overwrite = DOWNLOAD.replace("?)", "?, 'overwrite')")
    with open(target, "rb") as held:  # a reader of the old file keeps its old bytes
        assert db.execute(overwrite, (acme.tar["id"], str(target))).fetchall() == [(str(target),)]
        assert held.read() == b"old"
    assert target.read_bytes() == TAR and os.stat(target).st_ino != before
    assert leftovers(tmp_path) == []
