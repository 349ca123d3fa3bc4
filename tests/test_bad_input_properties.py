"""Bad input, broadly: every value is either sent to the right endpoint or refused clearly.

One emulator serves every example. For each query the emulator's log is cleared first;
afterwards either an ``InputError`` naming ``table.column`` was raised and nothing was
sent, or every request went to the expected route with path segments (and the upload's
``name`` parameter) that decode back to exactly the values given. The emulator's record
of requests no route knows stays empty throughout.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import apsw
import pytest
from conftest import connect_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgh.emulator import Emulator
from sqlgh.errors import InputError, SqlghError

SPECIAL_TEXT = [
    "",
    " ",
    "acme",
    " acme",
    "tool ",
    "a/b",
    "..",
    ".",
    "...",
    "%2F",
    "a%2Fb",
    "../../etc/passwd",
    "a?b=c",
    "a#b",
    "x" * 101,
    "é" * 300,
    "日本語",
    "a\x00b",
    "a\nb",
    "v1.2.0",
    "release/1.0",
    "-leading",
    "_under",
]
texts = st.one_of(st.none(), st.sampled_from(SPECIAL_TEXT), st.text(max_size=40))
ids = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, -1, 1, 2**63 - 1, 2**31]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1", "1.0", " 1", "0x10", "9" * 40]),
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
    derandomize=bool(os.environ.get("CI")),  # CI runs the same examples every time
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_repo("acme", "tool")
        release = emulator.add_release("acme", "tool", "v1")
        emulator.add_asset("acme", "tool", release["id"], "a.txt", content=b"a")
        yield emulator


@pytest.fixture(scope="module")
def release_id(emu: Emulator) -> int:
    """A release to upload into."""
    return int(emu.add_release("acme", "tool", "v2")["id"])


def run(emu: Emulator, sql: str, params: tuple[Any, ...]) -> Exception | None:
    """Run ``sql`` on a fresh connection with a cleared log; return the error, if any."""
    db = connect_to(emu, retries=0, upload_attempts=1)
    emu.clear_log()
    try:
        db.execute(sql, params).fetchall()
    except (SqlghError, apsw.Error, OverflowError) as exc:
        return exc
    return None


def api_segments(emu: Emulator) -> list[list[str]]:
    """The decoded path segments of every API/uploads request since the log was cleared."""
    assert emu.unknown == []
    return [
        [unquote(s) for s in r.path.split("?")[0].split("/")[1:]]
        for r in emu.log
        if r.origin in ("api", "uploads")
    ]


def null_key(error: Exception | None, emu: Emulator, keys: tuple[Any, ...]) -> bool:
    """True when a key is NULL: in SQL it equals nothing, so no row and no request.
    (SQLite binds a float NaN as NULL.)"""
    if not any(key is None or (isinstance(key, float) and math.isnan(key)) for key in keys):
        return False
    assert error is None, error
    assert emu.log == [], "a NULL key must not reach GitHub"
    return True


def check_refused(error: Exception | None, emu: Emulator, table: str, columns: set[str]) -> bool:
    """True when ``error`` is a clear refusal naming one of ``table.column``, before any
    request; False when there was no InputError (then the requests must be checked)."""
    if not isinstance(error, InputError):
        return False
    assert any(f"{table}.{c}" in str(error) for c in columns), error
    assert emu.log == [], "an input error must stop the query before any request"
    return True


@SETTINGS
@given(owner=texts, repo=texts)
def test_owner_and_repo(emu: Emulator, owner: Any, repo: Any) -> None:
    error = run(
        emu,
        "SELECT id FROM releases WHERE owner = ? AND repo = ?",
        (owner, repo),
    )
    if check_refused(error, emu, "releases", {"owner", "repo"}) or null_key(
        error, emu, (owner, repo)
    ):
        return
    assert error is None or "does not exist" in str(error), error
    for segments in api_segments(emu):
        assert segments == ["repos", owner, repo, "releases"]


@SETTINGS
@given(tag=texts)
def test_tag(emu: Emulator, tag: Any) -> None:
    error = run(
        emu,
        "SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?",
        (tag,),
    )
    if check_refused(error, emu, "releases", {"tag_name"}) or null_key(error, emu, (tag,)):
        return
    assert error is None, error
    by_tag, *rest = api_segments(emu)
    assert by_tag == ["repos", "acme", "tool", "releases", "tags", tag]
    # no published release has that tag: the release list is searched for a draft
    assert rest in ([], [["repos", "acme", "tool", "releases"]])


@SETTINGS
@given(asset_id=ids)
def test_asset_id(emu: Emulator, asset_id: Any) -> None:
    error = run(
        emu,
        "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (asset_id,),
    )
    if isinstance(error, OverflowError):
        return  # Python refused to bind it: nothing reached sqlgh
    if check_refused(error, emu, "release_assets", {"id"}) or null_key(error, emu, (asset_id,)):
        return
    assert error is None, error
    assert isinstance(asset_id, int) and asset_id > 0
    assert api_segments(emu) == [["repos", "acme", "tool", "releases", "assets", str(asset_id)]]


@SETTINGS
@given(release=ids)
def test_release_id_on_delete(emu: Emulator, release: Any) -> None:
    error = run(
        emu,
        "DELETE FROM release_assets WHERE owner='acme' AND repo='tool' AND release_id=? "
        "AND name = 'no-such-name'",
        (release,),
    )
    if (
        isinstance(error, OverflowError)
        or check_refused(error, emu, "release_assets", {"release_id"})
        or null_key(error, emu, (release,))
    ):
        return
    assert isinstance(release, int) and release > 0
    assert error is None or "does not exist" in str(error), error
    for segments in api_segments(emu):
        assert segments == ["repos", "acme", "tool", "releases", str(release)]
    assert all(r.method == "GET" for r in emu.log)  # nothing matched: nothing deleted


@SETTINGS
@given(name=texts)
def test_upload_name(emu: Emulator, release_id: int, name: Any) -> None:
    error = run(
        emu,
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, ?, x'00')",
        (release_id, name),
    )
    if check_refused(error, emu, "release_assets", {"name"}):
        return
    posts = [r for r in emu.log if r.method == "POST"]
    assert emu.unknown == []
    for post in posts:
        assert post.origin == "uploads"
        assert post.query["name"] == [name]
        assert post.path.endswith(f"/repos/acme/tool/releases/{release_id}/assets")
    if error is not None:  # GitHub refused the name (or it is taken): clearly said
        assert "release_assets:" in str(error)


@SETTINGS
@given(owner=texts, asset_id=ids)
def test_download_function(emu: Emulator, owner: Any, asset_id: Any, tmp_path_factory) -> None:
    target = str(tmp_path_factory.mktemp("dl")) + "/"
    error = run(emu, "SELECT download(?, 'tool', ?, ?)", (owner, asset_id, target))
    if isinstance(error, OverflowError) or check_refused(error, emu, "download", {"owner", "id"}):
        return
    assert isinstance(asset_id, int) and asset_id > 0
    for segments in api_segments(emu):
        assert segments == ["repos", owner, "tool", "releases", "assets", str(asset_id)]
    assert error is None or "no asset" in str(error), error
