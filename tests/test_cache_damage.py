"""A cache file that is damaged, unusable, locked or failing never fails a query: sqlgh
says so in one line on stderr, then starts a new file or runs uncached."""

from __future__ import annotations

import base64
import os
import pickle
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import connect_to
from helpers import seed_one_asset, within

from sqlgh.emulator import Emulator

QUERY = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' ORDER BY name"
NOBODY = 65534


@pytest.fixture
def acme(emulator: Emulator) -> Emulator:
    """The emulator with acme/tool holding one release with one asset, one.bin."""
    seed_one_asset(emulator)
    return emulator


def _add_asset(emu: Emulator, name: str, label: str = "") -> None:
    """A new release with asset ``name``: the next query gets a 200 (stored) for the list."""
    release = emu.add_release("acme", "tool", f"v-{name}")
    emu.add_asset("acme", "tool", release["id"], name, content=b"2", label=label)


def _listing_statuses(emu: Emulator) -> list[tuple[int, bool]]:
    """(status, sent conditionally) of each release-list request (assets are embedded)."""
    return [
        (r.status, "if-none-match" in r.headers) for r in emu.log if r.path.endswith("/releases")
    ]


def _warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _make_cache(emu: Emulator, path: Path) -> None:
    """A cache file at ``path`` holding the asset list, closed (WAL checkpointed)."""
    db = connect_to(emu, cache_path=path)
    assert db.execute(QUERY).fetchall() == [("one.bin",)]
    db.close()


def _query_and_close(emu: Emulator, path: Path, **options: object) -> tuple[list, object]:
    """The query's rows on a new connection with the cache at ``path``, and the client's
    cache backend (None: uncached)."""
    db = connect_to(emu, cache_path=path, **options)
    try:
        return db.execute(QUERY).fetchall(), db.sqlgh.client.cache
    finally:
        db.close()


# a damaged file at open ---------------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(b"\xa5 not a database \x5a" * 300)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize(
    "damage", [_garbage, _truncated, _header_only], ids=["garbage", "truncated", "header only"]
)
def test_a_damaged_cache_file_is_moved_aside_and_started_anew(
    acme: Emulator, tmp_path: Path, capsys, damage
) -> None:
    path = tmp_path / "http-0123456789abcdef01234567.sqlite"  # sqlgh's own name
    _make_cache(acme, path)
    damage(path)
    damaged = path.read_bytes()
    capsys.readouterr()
    rows, backend = _query_and_close(acme, path)
    assert rows == [("one.bin",)] and backend is not None
    moved = tmp_path / f"{path.name}.damaged"
    [line] = _warnings(capsys)
    assert line.startswith(f"sqlgh: the cache file {path} was damaged (")
    assert f"moved it to {moved}; started a new one" in line
    assert moved.read_bytes() == damaged
    # the new file is a working cache: the next run revalidates what the first stored
    acme.clear_log()
    assert _query_and_close(acme, path)[0] == [("one.bin",)]
    assert _listing_statuses(acme) == [(304, True)]
    assert _warnings(capsys) == []


def test_a_damaged_file_that_is_not_sqlgh_s_is_left_alone(
    acme: Emulator, tmp_path: Path, capsys
) -> None:
    """Garbage at a path the user chose, not named as sqlgh names cache files and not an
    SQLite database: sqlgh runs uncached and leaves it as it is, and says so once."""
    path = tmp_path / "notes.txt"
    _garbage(path)
    before = path.read_bytes()
    for _ in range(2):
        rows, backend = _query_and_close(acme, path)
        assert rows == [("one.bin",)] and backend is None
    [line] = _warnings(capsys)
    assert line == (
        f"sqlgh: {path} is not a cache file sqlgh can read (file is not a database); running "
        "without the cache: remove it, or choose another place (SQLGH_CACHE_DIR, or the "
        "cache_path option) or turn it off (sqlgh -o cache=false in the shell, "
        "sqlgh.connect(cache=False) in Python)"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _huge_pickle_frame() -> bytes:
    """A pickle whose frame header claims 2**64 - 1 bytes (pickle raises OverflowError)."""
    frame = pickle.dumps({"a": 1}, protocol=5)
    return frame[:3] + ((1 << 64) - 1).to_bytes(8, "little") + frame[11:]


@pytest.mark.parametrize("garbage", [b"", _huge_pickle_frame()], ids=["empty", "huge frame"])
def test_a_garbage_stored_entry_is_a_miss(acme: Emulator, tmp_path: Path, garbage: bytes) -> None:
    """An entry whose stored bytes are garbage (unpickling raises EOFError or OverflowError,
    which requests-cache lets through) is a miss: the request goes out unconditional."""
    path = tmp_path / "c.sqlite"
    _make_cache(acme, path)
    with sqlite3.connect(path) as con:
        assert con.execute("UPDATE responses SET value = ?", (garbage,)).rowcount == 1
    acme.clear_log()
    assert _query_and_close(acme, path)[0] == [("one.bin",)]
    assert _listing_statuses(acme) == [(200, False)]


def test_a_cache_path_without_a_suffix_is_the_file_guarded(acme: Emulator, tmp_path: Path) -> None:
    """requests-cache adds ``.sqlite`` to a path without a suffix: that file is the one
    made private (it was created 0644, next to an empty 0600 file of the given name)."""
    _query_and_close(acme, tmp_path / "cache")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"cache.sqlite": 0o600}


# a file that cannot be used ------------------------------------------------------------------


def _file_in_the_way(tmp_path: Path) -> Path:
    (tmp_path / "cache").write_text("a file where the directory should be")
    return tmp_path / "cache" / "c.sqlite"


def _directory_in_the_way(tmp_path: Path) -> Path:
    (tmp_path / "c.sqlite").mkdir()
    return tmp_path / "c.sqlite"


def _companion_is_a_directory(suffix: str) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        (tmp_path / f"c.sqlite{suffix}").mkdir()
        return tmp_path / "c.sqlite"

    return make


@pytest.mark.parametrize(
    "make",
    [
        _file_in_the_way,
        _directory_in_the_way,
        _companion_is_a_directory("-wal"),
        _companion_is_a_directory("-shm"),
    ],
    ids=["file where the directory should be", "directory at the file", "-wal", "-shm"],
)
def test_a_cache_path_that_cannot_be_used_means_uncached(
    acme: Emulator, tmp_path: Path, capsys, make
) -> None:
    """The query answers uncached, with one line naming the path; the second connection
    says nothing more. (A -shm directory made requests-cache retry forever.)"""
    path = make(tmp_path)
    for _ in range(2):
        rows, backend = within(10, lambda: _query_and_close(acme, path))
        assert rows == [("one.bin",)] and backend is None
    [line] = _warnings(capsys)
    assert line.startswith(f"sqlgh: cannot use the cache file {path} (")
    assert line.endswith("running without the cache: fix it, or choose another place "
                         "(SQLGH_CACHE_DIR, or the cache_path option) or turn it off (sqlgh "
                         "-o cache=false in the shell, sqlgh.connect(cache=False) in Python)")


def _cache_with_wal(emu: Emulator, path: Path) -> None:
    """A cache file at ``path`` and its WAL (copied while open: closing checkpoints it)."""
    db = connect_to(emu, cache_path=path)
    db.execute(QUERY).fetchall()
    db.sqlgh.client.cache.flush()
    copies = {suffix: Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal")}
    db.close()
    for suffix, data in copies.items():
        Path(f"{path}{suffix}").write_bytes(data)


def _refused_and_left_alone(
    emu: Emulator, path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """Run the query with the cache at ``path``: uncached, one line naming ``path``, and
    ``target`` keeps its owner and mode. Returns the line."""
    before = target.stat()
    rows, backend = within(10, lambda: _query_and_close(emu, path))
    assert rows == [("one.bin",)] and backend is None
    [line] = _warnings(capsys)
    assert line.startswith(f"sqlgh: cannot use the cache file {path} (")
    after = target.stat()
    assert (after.st_uid, after.st_mode) == (before.st_uid, before.st_mode)
    return line


@pytest.mark.parametrize("suffix", ["", "-wal"], ids=["file", "its -wal"])
def test_a_cache_file_of_another_user_is_not_used(
    acme: Emulator, tmp_path: Path, capsys, suffix: str
) -> None:
    """The file (or its WAL) belongs to another user, who could read it or change it (a
    pickled entry could run code): refused, even by root, who used to narrow it to 0600
    and use it."""
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    path = tmp_path / "c.sqlite"
    _cache_with_wal(acme, path)
    target = Path(f"{path}{suffix}")
    target.chmod(0o666)  # writable for us all the same: the owner alone decides
    os.chown(target, NOBODY, NOBODY)
    line = _refused_and_left_alone(acme, path, target, capsys)
    assert f"({target.name} belongs to another user (uid {NOBODY}), who could " in line


@pytest.fixture
def modes_bind(tmp_path: Path) -> None:
    """Skip the test unless file modes bind this process (they do not bind root, unless it
    runs without CAP_DAC_OVERRIDE, e.g. under ``setpriv --bounding-set=-dac_override``)."""
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    try:
        (probe / "file").touch()
    except PermissionError:
        return
    finally:
        probe.chmod(0o700)
    pytest.skip("file modes do not bind this process (root); see the test of another user")


@pytest.mark.parametrize("suffix", ["", "-wal"], ids=["file", "its -wal"])
@pytest.mark.usefixtures("modes_bind")
def test_a_read_only_cache_file_is_not_used(
    acme: Emulator, tmp_path: Path, capsys, suffix: str
) -> None:
    path = tmp_path / "c.sqlite"
    _cache_with_wal(acme, path)
    target = Path(f"{path}{suffix}")
    target.chmod(0o400)
    _refused_and_left_alone(acme, path, target, capsys)


@pytest.mark.parametrize("layout", ["new file", "existing file", "missing directory"])
@pytest.mark.usefixtures("modes_bind")
def test_a_read_only_cache_directory_means_uncached(
    acme: Emulator, tmp_path: Path, capsys, layout: str
) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "c.sqlite"
    if layout == "existing file":
        _make_cache(acme, path)
    elif layout == "missing directory":
        path = directory / "sub" / "c.sqlite"
    directory.chmod(0o500)
    try:
        rows, backend = within(10, lambda: _query_and_close(acme, path))
    finally:
        directory.chmod(0o700)
    assert rows == [("one.bin",)] and backend is None
    [line] = _warnings(capsys)
    assert line.startswith(f"sqlgh: cannot use the cache file {path} (")


# failing mid-session ---------------------------------------------------------------------------


def _overwrite_with_garbage(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            with companion.open("r+b") as file:
                file.write(b"\xa5" * companion.stat().st_size)


def test_a_cache_damaged_mid_session_falls_back_to_github(
    acme: Emulator, tmp_path: Path, capsys
) -> None:
    """Another process overwrites the open cache (file, WAL and index) with garbage: the
    lookups fail, the requests go to GitHub unconditional, one line says so; closing moves
    the file aside, and the next connection starts a new one."""
    path = tmp_path / "c.sqlite"
    db = connect_to(acme, cache_path=path)
    assert db.execute(QUERY).fetchall() == [("one.bin",)]
    db.sqlgh.client.cache.flush()
    _overwrite_with_garbage(path)
    acme.clear_log()
    assert db.execute(QUERY).fetchall() == [("one.bin",)]
    _add_asset(acme, "two.bin")
    assert db.execute(QUERY).fetchall() == [("one.bin",), ("two.bin",)]
    assert _listing_statuses(acme) == [(200, False), (200, False)]
    [line] = _warnings(capsys)
    assert line == (
        f"sqlgh: the cache file {path} failed (file is not a database); running without the "
        "cache for the rest of this connection; it is moved aside when the connection closes"
    )
    db.close()
    moved = tmp_path / "c.sqlite.damaged"
    [line] = _warnings(capsys)
    assert line.endswith(f"moved it to {moved}; the next connection starts a new one")
    assert moved.exists()
    acme.clear_log()
    for _ in range(2):
        assert _query_and_close(acme, path)[0] == [("one.bin",), ("two.bin",)]
    assert _listing_statuses(acme) == [(200, False), (304, True)]


def test_a_cache_deleted_mid_session_does_not_matter(
    acme: Emulator, tmp_path: Path, capsys
) -> None:
    """The cache directory removed while the connection is open: queries still answer
    (SQLite keeps writing to the unlinked files), and the next connection starts anew."""
    directory = tmp_path / "cache"
    path = directory / "c.sqlite"
    db = connect_to(acme, cache_path=path)
    assert db.execute(QUERY).fetchall() == [("one.bin",)]
    db.sqlgh.client.cache.flush()
    for file in directory.iterdir():
        file.unlink()
    directory.rmdir()
    _add_asset(acme, "two.bin")
    assert db.execute(QUERY).fetchall() == [("one.bin",), ("two.bin",)]
    assert db.execute(QUERY).fetchall() == [("one.bin",), ("two.bin",)]
    db.close()
    assert _query_and_close(acme, path)[0] == [("one.bin",), ("two.bin",)]
    assert path.exists()
    assert _warnings(capsys) == []


def test_a_full_disk_mid_session_turns_the_cache_off(
    acme: Emulator, tmp_path: Path, capsys
) -> None:
    """A store that fails with SQLITE_FULL (here: the file may not grow, SQLite's
    max_page_count) is said once; the connection goes on uncached."""
    path = tmp_path / "c.sqlite"
    db = connect_to(acme, cache_path=path)
    assert db.execute(QUERY).fetchall() == [("one.bin",)]
    backend = db.sqlgh.client.cache
    backend.flush()
    with backend.responses.connection() as con:
        con.execute("PRAGMA max_page_count = 1")  # as small as it goes: the current size
    _add_asset(acme, "two.bin", label=base64.b64encode(os.urandom(12_000)).decode())
    acme.clear_log()
    for _ in range(2):
        assert db.execute(QUERY).fetchall() == [("one.bin",), ("two.bin",)]
        backend.flush()
    [line] = _warnings(capsys)
    assert line == (
        f"sqlgh: the cache file {path} failed (database or disk is full); running without "
        "the cache for the rest of this connection"
    )
    # the second query did not read the cache any more: nothing conditional was sent
    assert _listing_statuses(acme) == [(200, True), (200, False)]
    db.close()


# another process holding the lock ------------------------------------------------------------


def _hold_lock(path: Path) -> sqlite3.Connection:
    """A second connection holding the write lock on ``path`` (as another process would)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


@pytest.mark.parametrize("existing", [True, False], ids=["existing cache", "new file"])
def test_a_locked_cache_file_is_waited_for_a_bounded_time(
    acme: Emulator, tmp_path: Path, capsys, existing: bool
) -> None:
    """Another process holds BEGIN EXCLUSIVE: connect() waits cache_lock_timeout, then runs
    uncached with one line (requests-cache waited as long as the lock was held)."""
    path = tmp_path / "c.sqlite"
    if existing:
        _make_cache(acme, path)
    else:
        path.touch()
    holder = _hold_lock(path)
    try:
        started = time.monotonic()
        rows, backend = within(10, lambda: _query_and_close(acme, path, cache_lock_timeout=0.2))
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
    assert rows == [("one.bin",)] and backend is None
    assert 0.2 <= elapsed < 3
    [line] = _warnings(capsys)
    assert line == (
        f"sqlgh: the cache file {path} is locked by another process; waited 0.2 s (the "
        "cache_lock_timeout option; sqlgh -o cache_lock_timeout=30 in the shell, "
        "sqlgh.connect(cache_lock_timeout=30) in Python), running without the cache"
    )


def test_a_lock_taken_mid_session_is_waited_for_a_bounded_time(
    acme: Emulator, tmp_path: Path, capsys
) -> None:
    """The lock taken after connect(): the store waits cache_lock_timeout, then the cache
    is off; the next query (whose lookup waited for that store) and close() do not hang."""
    path = tmp_path / "c.sqlite"
    db = connect_to(acme, cache_path=path, cache_lock_timeout=0.2)
    assert db.execute(QUERY).fetchall() == [("one.bin",)]
    db.sqlgh.client.cache.flush()
    holder = _hold_lock(path)
    try:
        _add_asset(acme, "two.bin")
        expected = [("one.bin",), ("two.bin",)]
        assert within(10, lambda: db.execute(QUERY).fetchall()) == expected
        assert within(10, lambda: db.execute(QUERY).fetchall()) == expected
        within(10, db.close)
    finally:
        holder.rollback()
    [line] = _warnings(capsys)
    assert line == (
        f"sqlgh: the cache file {path} stayed locked by another process for 0.2 s (the "
        "cache_lock_timeout option; sqlgh -o cache_lock_timeout=30 in the shell, "
        "sqlgh.connect(cache_lock_timeout=30) in Python); running without the cache for the "
        "rest of this connection"
    )


def test_cache_lock_timeout_must_be_a_number(acme: Emulator) -> None:
    with pytest.raises(ValueError, match="cache_lock_timeout must be a number >= 0"):
        connect_to(acme, cache_lock_timeout="soon")
