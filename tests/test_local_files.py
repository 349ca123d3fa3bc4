"""Local files (issue 14, part 12): readfile() and INSERT ... path read regular files only,
and an upload whose file changes size stops, deletes what it left, and says so."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw
import pytest
from conftest import connect_to
from helpers import Acme

from sqlgh.emulator import Emulator
from sqlgh.errors import InputError, WriteError
from sqlgh.github.progress import NoProgress
from sqlgh.local_files import FileChanged, SizedBody

INSERT_PATH = (
    "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme', 'tool', ?, ?)"
)
KINDS = {"fifo": "a FIFO (named pipe)", "device": "a character device", "directory": "a directory"}


def not_regular(kind: str, tmp_path: Path) -> str:
    """A path that is not a regular file: a FIFO, /dev/null or a directory."""
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return str(tmp_path / "pipe")
    return os.devnull if kind == "device" else str(tmp_path)


def bounded(call: Callable[[], Any], path: str) -> Any:
    """``call()`` on a thread; if it still runs after 10 s (blocked opening a FIFO, as
    readfile did), a writer opens and closes the FIFO to free it. Returns the result or
    the exception."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail(f"blocked for 10 s on {path}, then returned {outcome}")
    return outcome[0]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_readfile_refuses_what_is_not_a_regular_file(
    db: apsw.Connection, tmp_path: Path, kind: str
) -> None:
    path = not_regular(kind, tmp_path)
    outcome = bounded(lambda: db.execute("SELECT readfile(?)", (path,)).fetchall(), path)
    assert isinstance(outcome, InputError), outcome
    assert str(outcome) == (
        f"readfile: {path!r} is {KINDS[kind]}, not a regular file; sqlgh reads only regular "
        "files (copy the bytes to a file first)"
    )


def test_readfile_still_reads_files_and_gives_null_for_missing_ones(
    db: apsw.Connection, tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"\x00bytes")
    os.symlink(tmp_path / "f", tmp_path / "link")
    rows = db.execute(
        "SELECT readfile(?), readfile(?), readfile(?), readfile(NULL)",
        (str(tmp_path / "f"), str(tmp_path / "link"), str(tmp_path / "missing")),
    ).fetchall()
    assert rows == [(b"\x00bytes", b"\x00bytes", None, None)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_insert_path_refuses_what_is_not_a_regular_file(
    acme: Acme, db: apsw.Connection, tmp_path: Path, kind: str
) -> None:
    path = not_regular(kind, tmp_path)
    insert = lambda: db.execute(INSERT_PATH, (acme.new, path))  # noqa: E731
    outcome = bounded(insert, path)
    assert isinstance(outcome, InputError), outcome
    assert str(outcome).startswith(f"release_assets.path: {path!r} is {KINDS[kind]}, not a ")
    assert acme.emu.log == []


def wait_for(condition: Callable[[], Any]) -> None:
    """Wait (10 s at most) until the emulator's threads have done what ``condition`` sees."""
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


class ChangeDuringUpload:
    """A progress factory whose upload bar changes the file once the first piece of the
    body was read, and once GitHub holds the ``starter`` asset the upload began (so the
    moment is the same in every run)."""

    def __init__(self, emu: Emulator, release_id: int, change: Callable[[], None]) -> None:
        self.emu, self.release_id, self.change = emu, release_id, change
        self.changed = False

    def __call__(self, *, total: int | None = None, desc: str = "", unit: str = "") -> Any:
        return self if desc.startswith("upload") else NoProgress()

    def update(self, n: int = 1) -> None:
        if self.changed:
            return
        wait_for(self.starters)
        self.change()
        self.changed = True

    def close(self) -> None:
        pass

    def starters(self) -> list[dict]:
        assets = self.emu.list_assets("acme", "tool", self.release_id)
        return [a for a in assets if a["name"] == "grows.bin" and a["state"] == "starter"]


SIZE = 1 << 16  # four pieces of the 16 KiB urllib3 reads a body in


def grow(path: Path) -> None:
    with path.open("ab") as out:
        out.write(b"0123456789")


def shrink(path: Path) -> None:
    os.truncate(path, 20_000)


@pytest.mark.parametrize(("change", "how"), [(grow, "grew"), (shrink, "shrank")])
def test_a_file_that_changes_size_during_its_upload_is_not_uploaded(
    acme: Acme, tmp_path: Path, change: Callable[[Path], None], how: str
) -> None:
    source = tmp_path / "grows.bin"
    source.write_bytes(bytes(range(256)) * (SIZE // 256))
    hook = ChangeDuringUpload(acme.emu, acme.new, lambda: change(source))
    # A short read_timeout bounds the run on code that waits for bytes that never come.
    db = connect_to(acme.emu, progress=hook, read_timeout=2, upload_attempts=1)
    with pytest.raises(WriteError) as raised:
        db.execute(INSERT_PATH, (acme.new, str(source)))
    assert hook.changed
    now = source.stat().st_size
    message = str(raised.value)
    assert message.startswith(
        f"release_assets.path: {str(source)!r} {how} from {SIZE} to {now} bytes while it was "
        "being uploaded; the upload was stopped and the half-made asset GitHub kept (id "
    )
    assert message.endswith(
        "was deleted, so nothing was uploaded. Nothing was changed on GitHub by this statement."
    )
    assert "grows.bin" not in [a["name"] for a in acme.emu.list_assets("acme", "tool", acme.new)]
    posts = lambda: [r for r in acme.emu.log if r.method == "POST"]  # noqa: E731
    wait_for(posts)  # the emulator logs the POST once its thread saw the body end short
    assert [r.status for r in posts()] == [0]  # cut short, never answered
    deletes = [r for r in acme.emu.log if r.method == "DELETE"]
    assert [r.status for r in deletes] == [204]


def test_sized_body_reads_exactly_the_size_and_raises_before_the_last_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abcdef")
    with SizedBody(str(path), 6, "t.path") as body:
        assert [body.read(4), body.read(4), body.read(4)] == [b"abcd", b"ef", b""]
        assert body.seek(0) == 0 and body.read() == b"abcdef"  # a resent body rewinds
        grow(path)  # after the last bytes went out: the upload was of the file as it was
        assert body.read(4) == b""
    with SizedBody(str(path), 16, "t.path") as body, pytest.raises(FileChanged, match="grew"):
        path.write_bytes(b"x" * 17)
        body.read(16)  # the 16 bytes are all there, but the file goes on
    path.write_bytes(b"x" * 4)
    with pytest.raises(FileChanged, match=r"^t.path: .* shrank from 16 to 4 bytes while"):
        SizedBody(str(path), 16, "t.path")  # changed before the upload began
    path.unlink()
    with pytest.raises(FileChanged, match="can no longer be read"):
        SizedBody(str(path), 4, "t.path")
