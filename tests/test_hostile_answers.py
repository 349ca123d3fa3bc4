"""Answers GitHub does not send (garbled headers, malformed bodies) and local files sqlgh
cannot use: each is a sqlgh error naming the table, column or function, never a raw
Python exception. Over real HTTP, with the emulator's ``headers`` and ``rewrite_json``
faults.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import connect_to

import sqlgh
from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import InputError, RemoteError, SqlghError, WriteError

RELEASE = r"/releases/\d+$"  # a release's assets are read with the release (embedded)
FAST = {"retry_backoff": 0, "secondary_rate_limit_wait": 0.05, "cache": False}
SELECT = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = ?"
INSERT_DATA = (
    "INSERT INTO release_assets(owner, repo, release_id, name, data) "
    "VALUES ('acme', 'tool', ?, ?, ?)"
)
INSERT_PATH = (
    "INSERT INTO release_assets(owner, repo, release_id, path) VALUES ('acme', 'tool', ?, ?)"
)


def seed(emu: Emulator) -> int:
    """acme/tool with release v1 holding a.txt; return the release id."""
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")
    emu.add_asset("acme", "tool", release["id"], "a.txt", content=b"abc")
    emu.clear_log()
    return int(release["id"])


def embedded(rewrite: Callable[[list], list]) -> Callable[[dict], dict]:
    """A rewrite of a release's embedded assets, for a fault on the release."""
    return lambda release: {**release, "assets": rewrite(release["assets"])}


def posts(emu: Emulator) -> int:
    return sum(1 for r in emu.log if r.method == "POST")


# --- rate-limit headers that are no numbers GitHub sends ------------------------------------
@pytest.mark.parametrize("retry_after", ["-5", "nan", "inf", "1e30"])
def test_unusable_retry_after_is_ignored(emulator: Emulator, capsys, retry_after: str) -> None:
    release_id = seed(emulator)
    headers = {"Retry-After": retry_after}
    emulator.add_fault(Fault("secondary_rate_limit", method="GET", path=RELEASE, headers=headers))
    db = connect_to(emulator, **FAST)
    assert db.execute(SELECT, (release_id,)).fetchall() == [("a.txt",)]
    # secondary_rate_limit_wait (0.05 s) instead of the header's value
    assert "secondary rate limit is reached; waiting 0.1 s" in capsys.readouterr().err


@pytest.mark.parametrize("reset", ["nan", "1e30", "soon"])
def test_unusable_reset_is_reported_not_invented(emulator: Emulator, reset: str) -> None:
    release_id = seed(emulator)
    headers = {"X-RateLimit-Reset": reset}
    emulator.add_fault(Fault("primary_rate_limit", method="GET", path=RELEASE, headers=headers))
    db = connect_to(emulator, max_rate_limit_wait=5, **FAST)
    with pytest.raises(RemoteError) as failure:
        db.execute(SELECT, (release_id,)).fetchall()
    message = str(failure.value)
    assert message.startswith("release_assets: GitHub's rate limit is reached; its answer")
    assert f"does not say when it resets (x-ratelimit-reset: {reset!r})" in message
    assert "longer than max_rate_limit_wait (5 s) allows" in message


@pytest.mark.parametrize("reset", ["nan", "1e30"])
def test_unusable_reset_on_a_success_does_not_pace(emulator: Emulator, reset: str) -> None:
    """A 200 that leaves 1 request (below the reserve) and no usable reset: nothing to
    spread the requests over, so the next one is sent without a wait."""
    release_id = seed(emulator)
    headers = {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": reset}
    emulator.add_fault(Fault("headers", method="GET", path=RELEASE, headers=headers))
    db = connect_to(emulator, max_concurrency=1, **FAST)
    for _ in range(2):
        assert db.execute(SELECT, (release_id,)).fetchall() == [("a.txt",)]


def test_negative_remaining_is_a_rate_limit_not_a_permission(emulator: Emulator) -> None:
    release_id = seed(emulator)
    headers = {"X-RateLimit-Remaining": "-3"}
    emulator.add_fault(
        Fault("primary_rate_limit", method="GET", path=RELEASE, retry_after=3600, headers=headers)
    )
    db = connect_to(emulator, max_rate_limit_wait=5, **FAST)
    with pytest.raises(RemoteError, match="rate limit is reached; it resets at") as failure:
        db.execute(SELECT, (release_id,)).fetchall()
    assert "permission" not in str(failure.value)


# --- upload answers that are no asset -------------------------------------------------------
@pytest.mark.parametrize(
    "rewrite",
    [
        lambda asset: {},
        lambda asset: [asset],
        lambda asset: {**asset, "id": f"A{asset['id']}"},
        lambda asset: {**asset, "name": None},
    ],
    ids=["empty object", "list", "string id", "no name"],
)
def test_upload_with_a_malformed_answer_reports_what_github_has(
    emulator: Emulator, capsys, rewrite
) -> None:
    """The upload landed, its answer did not: sqlgh reads the release again and reports
    the asset GitHub has, without uploading twice (nor a rename GitHub did not make)."""
    release_id = seed(emulator)
    emulator.add_fault(Fault("rewrite_json", method="POST", origin="uploads", rewrite=rewrite))
    db = connect_to(emulator, **FAST)
    db.execute(INSERT_DATA, (release_id, "n.txt", b"new bytes"))
    stored = {a["name"]: a for a in emulator.list_assets("acme", "tool", release_id)}
    assert sorted(stored) == ["a.txt", "n.txt"]
    assert db.last_insert_rowid() == stored["n.txt"]["id"]
    assert posts(emulator) == 1
    assert "stored 'n.txt' as" not in capsys.readouterr().err


def test_upload_answered_with_no_asset_and_none_made_fails_clearly(emulator: Emulator) -> None:
    """A 201 whose body is no asset, from a server that stored nothing: nothing to find,
    so after its attempts the INSERT fails and says nothing was left behind."""
    release_id = seed(emulator)
    emulator.add_fault(Fault("status", status=201, method="POST", origin="uploads", times=-1))
    db = connect_to(emulator, upload_attempts=2, **FAST)
    with pytest.raises(WriteError) as failure:
        db.execute(INSERT_DATA, (release_id, "n.txt", b"new bytes"))
    message = str(failure.value)
    assert message.startswith("release_assets: upload of 'n.txt' to release")
    assert "failed 2 times" in message and "the answer was not an asset" in message
    assert "nothing half-uploaded was left behind" in message
    assert [a["name"] for a in emulator.list_assets("acme", "tool", release_id)] == ["a.txt"]


# --- a JSON object where a column holds a value ---------------------------------------------
def test_asset_name_that_is_an_object_names_the_column(emulator: Emulator) -> None:
    release_id = seed(emulator)

    def object_names(page: list) -> list:
        return [{**asset, "name": {"evil": True}} for asset in page]

    emulator.add_fault(
        Fault("rewrite_json", method="GET", path=RELEASE, rewrite=embedded(object_names), times=2)
    )
    db = connect_to(emulator, **FAST)
    with pytest.raises(RemoteError) as failure:
        db.execute(SELECT, (release_id,)).fetchall()
    message = str(failure.value)
    assert message.startswith("release_assets.name: GitHub's answer holds an object where")
    assert "leave the column out of the query" in message
    # the other columns of the same answer still read
    rows = db.execute(
        "SELECT size FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
        "AND release_id = ?",
        (release_id,),
    ).fetchall()
    assert rows == [(3,)]


def test_array_in_a_nested_column_names_the_column(emulator: Emulator) -> None:
    release_id = seed(emulator)

    def array_login(page: list) -> list:
        return [{**asset, "uploader": {"login": ["a", "b"]}} for asset in page]

    emulator.add_fault(
        Fault("rewrite_json", method="GET", path=RELEASE, rewrite=embedded(array_login))
    )
    db = connect_to(emulator, **FAST)
    query = SELECT.replace("SELECT name", "SELECT uploader_login")
    with pytest.raises(RemoteError, match=r"^release_assets\.uploader_login: .* an array where"):
        db.execute(query, (release_id,)).fetchall()


# --- local files sqlgh cannot read or write -------------------------------------------------
_CAP_VERSION_3 = 0x20080522
_CAP_DAC = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


@contextlib.contextmanager
def file_permissions_apply() -> Iterator[None]:
    """Make this thread subject to file permissions, as a normal user is, even as root.

    Root reads a file of mode 000 through CAP_DAC_OVERRIDE; this drops that capability
    (and CAP_DAC_READ_SEARCH) from the calling thread's effective set only (Linux keeps
    capabilities per thread, so the emulator's threads keep theirs), then restores it.
    """
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(_CAP_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip(f"capget failed: {os.strerror(ctypes.get_errno())}")
    saved = data[0].effective
    data[0].effective &= ~_CAP_DAC
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip(f"capset failed: {os.strerror(ctypes.get_errno())}")
    try:
        yield
    finally:
        data[0].effective = saved
        libc.capset(ctypes.byref(header), data)


def test_unreadable_path_is_refused_before_any_write(emulator: Emulator, tmp_path: Path) -> None:
    release_id = seed(emulator)
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"secret")
    secret.chmod(0)
    db = connect_to(emulator, **FAST)
    with file_permissions_apply(), pytest.raises(InputError) as failure:
        db.execute(INSERT_PATH, (release_id, str(secret)))
    message = str(failure.value)
    assert message.startswith(f"release_assets.path: {str(secret)!r} cannot be read")
    assert "Permission denied" in message and "make it readable" in message
    assert "Nothing was changed on GitHub" in message
    assert emulator.log == []  # refused before any request


def test_directory_as_path_says_so(emulator: Emulator, tmp_path: Path) -> None:
    release_id = seed(emulator)
    db = connect_to(emulator, **FAST)
    directory = r"^release_assets\.path: .* is a directory, not a regular file"
    with pytest.raises(InputError, match=directory):
        db.execute(INSERT_PATH, (release_id, str(tmp_path)))
    assert emulator.log == []


def download(db: sqlgh.Connection, asset_id: int, destination: str) -> str:
    query = "SELECT download('acme', 'tool', ?, ?)"
    return db.execute(query, (asset_id, destination)).fetchone()[0]


def test_download_onto_a_directory_of_the_assets_name(emulator: Emulator, tmp_path: Path) -> None:
    release_id = seed(emulator)
    (asset,) = emulator.list_assets("acme", "tool", release_id)
    (tmp_path / "a.txt").mkdir()
    db = connect_to(emulator, **FAST)
    with pytest.raises(InputError, match=r"^download: .*a\.txt' is a directory; give a file"):
        download(db, asset["id"], str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no partial file left
    assert download(db, asset["id"], str(tmp_path / "copy.txt")) == str(tmp_path / "copy.txt")


def test_download_of_an_asset_named_empty(emulator: Emulator, tmp_path: Path) -> None:
    release_id = seed(emulator)
    (asset,) = emulator.list_assets("acme", "tool", release_id)

    def nameless(answer: dict) -> dict:
        return {**answer, "name": ""}

    emulator.add_fault(
        Fault("rewrite_json", method="GET", path=r"/assets/\d+$", rewrite=nameless, times=-1)
    )
    db = connect_to(emulator, **FAST)
    with pytest.raises(SqlghError, match=r"^download: GitHub gave asset \d+ no usable name"):
        download(db, asset["id"], str(tmp_path) + "/")
    assert list(tmp_path.iterdir()) == []
    # a file path needs no name
    target = str(tmp_path / "named.txt")
    assert download(db, asset["id"], target) == target
    assert Path(target).read_bytes() == b"abc"


# --- ids that are no rowid -------------------------------------------------------------------
@pytest.mark.parametrize("bad_id", [None, 2**70, "12", 1.5])
def test_an_asset_id_that_is_no_rowid_is_a_sqlgh_error(emulator: Emulator, bad_id: object) -> None:
    """An asset list whose ids are null, past 2**63, text or fractional: a RemoteError
    naming the column (it was TypeError / OverflowError from Rowid)."""
    release_id = seed(emulator)
    emulator.add_fault(Fault("rewrite_json", path=RELEASE, times=-1,
                             rewrite=embedded(lambda page: [{**a, "id": bad_id} for a in page])))
    db = connect_to(emulator, **FAST)
    with pytest.raises(RemoteError) as failure:
        db.execute(
            "SELECT rowid FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
            "AND release_id = ?", (release_id,),
        ).fetchall()
    message = str(failure.value)  # 2**70 arrives as a float: JSON numbers past 64 bits do
    assert message.startswith("release_assets.id: the API answered a row whose id is ")
    assert ", not a GitHub id (a whole number below 2**63" in message
