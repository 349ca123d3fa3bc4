"""Immutable releases and GitHub's limits, refused before a byte is sent (issue 15,
parts 2 and 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from sqlgh.emulator import Emulator
from sqlgh.errors import InputError, WriteError
from sqlgh.tables.asset_limits import MAX_ASSET_SIZE
from tests.conftest import TOKEN, connect_to
from tests.helpers import paths

AUTH = {"Authorization": f"Bearer {TOKEN}"}
IMMUTABLE = re.escape("is immutable (published with release immutability on)")


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool", immutable_releases=True)
    emulator.clear_log()
    return emulator


def locked_release(emu: Emulator) -> int:
    """A published (so immutable) release of acme/tool holding one asset."""
    draft = emu.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
    emu.add_asset("acme", "tool", draft, "a.bin", content=b"a")
    url = f"{emu.api_url}/repos/acme/tool/releases/{draft}"
    assert requests.patch(url, json={"draft": False}, headers=AUTH).json()["immutable"] is True
    emu.clear_log()
    return draft


def uploads(emu: Emulator) -> list[str]:
    return [p for p in paths(emu) if p.startswith("POST") and p.endswith("/assets")]


def refused_upload(db: object, release_id: int, *names: str) -> str:
    """The error of an INSERT of one small asset per name into ``release_id``."""
    rows = ", ".join("('acme', 'tool', ?1, ?, 'x')" for _ in names)
    sql = f"INSERT INTO release_assets(owner, repo, release_id, name, data) VALUES {rows}"
    with pytest.raises(WriteError) as failure:
        db.execute(sql, (release_id, *names))  # type: ignore[attr-defined]
    return str(failure.value)


def test_the_immutable_column(emu: Emulator) -> None:
    locked = locked_release(emu)
    emu.add_release("acme", "tool", "v2.0.0", draft=True)
    db = connect_to(emu)
    rows = db.execute(
        "SELECT tag_name, draft, immutable FROM releases WHERE owner = 'acme' AND repo = 'tool' "
        "ORDER BY tag_name"
    ).fetchall()
    assert rows == [("v1.0.0", 0, 1), ("v2.0.0", 1, 0)]
    assert locked


def test_an_upload_to_an_immutable_release_is_refused_before_sending(emu: Emulator) -> None:
    locked = locked_release(emu)
    db = connect_to(emu)
    message = refused_upload(db, locked, "b.bin")
    assert re.search(IMMUTABLE, message) and "Make a new release instead" in message
    assert "Nothing was changed on GitHub" in message
    assert paths(emu) == [f"GET /repos/acme/tool/releases/{locked}"]  # its upload_url


def test_githubs_own_refusal_is_explained_and_leaves_nothing(emu: Emulator) -> None:
    draft = emu.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
    db = connect_to(emu)
    db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
    # published by someone else after this connection saw the draft
    url = f"{emu.api_url}/repos/acme/tool/releases/{draft}"
    requests.patch(url, json={"draft": False}, headers=AUTH)
    emu.clear_log()
    with pytest.raises(WriteError, match=IMMUTABLE):
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, name, data) "
            "VALUES ('acme', 'tool', ?, 'b.bin', 'bytes')",
            (draft,),
        )
    # the refused upload, then the release read again to tell nothing was left
    assert paths(emu)[-2:] == [
        f"POST /repos/acme/tool/releases/{draft}/assets",
        f"GET /repos/acme/tool/releases/{draft}/assets",
    ]
    assert emu.list_assets("acme", "tool", draft) == []


def test_asset_changes_and_a_new_tag_are_refused_before_sending(emu: Emulator) -> None:
    locked = locked_release(emu)
    db = connect_to(emu)
    where = f"owner = 'acme' AND repo = 'tool' AND release_id = {locked}"
    db.execute(f"SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool' AND id = {locked}")
    emu.clear_log()
    with pytest.raises(WriteError, match=IMMUTABLE):
        db.execute(f"DELETE FROM release_assets WHERE {where}")
    with pytest.raises(WriteError, match=IMMUTABLE):
        db.execute(f"UPDATE release_assets SET label = 'x' WHERE {where}")
    with pytest.raises(WriteError, match="cannot change its tag"):
        db.execute(
            "UPDATE releases SET tag_name = 'v1.0.1' "
            f"WHERE owner = 'acme' AND repo = 'tool' AND id = {locked}"
        )
    assert not any(p.startswith(("DELETE", "PATCH")) for p in paths(emu))
    # notes may still change
    db.execute(
        "UPDATE releases SET body = 'notes' "
        f"WHERE owner = 'acme' AND repo = 'tool' AND id = {locked}"
    )


def test_the_emulator_refuses_what_github_refuses(emu: Emulator) -> None:
    locked = locked_release(emu)
    base = f"{emu.api_url}/repos/acme/tool/releases"
    asset = emu.list_assets("acme", "tool", locked)[0]["id"]
    deleted = requests.delete(f"{base}/assets/{asset}", headers=AUTH)
    assert deleted.status_code == 422
    back = requests.patch(f"{base}/{locked}", json={"draft": True}, headers=AUTH)
    assert back.json()["message"] == "state cannot be changed when release is immutable"
    requests.delete(f"{base}/{locked}", headers=AUTH)
    again = requests.post(base, json={"tag_name": "v1.0.0"}, headers=AUTH)
    assert again.json()["errors"][0]["message"] == "tag_name was used by an immutable release"


def test_a_file_over_2_gib_is_refused_before_any_request(emu: Emulator, tmp_path: Path) -> None:
    draft = emu.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
    emu.clear_log()
    big = tmp_path / "big.iso"
    with open(big, "wb") as handle:
        handle.truncate(MAX_ASSET_SIZE + 1)  # sparse: no disk used
    db = connect_to(emu)
    with pytest.raises(WriteError) as failure:
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, path) "
            "VALUES ('acme', 'tool', ?, ?)",
            (draft, str(big)),
        )
    assert "release_assets.path: 'big.iso' is 2,147,483,649 bytes" in str(failure.value)
    assert "at most 2,147,483,648 bytes (2 GiB)" in str(failure.value)
    assert paths(emu) == []


def test_the_emulator_refuses_a_file_over_2_gib_on_its_length(emu: Emulator) -> None:
    import http.client
    from urllib.parse import urlsplit

    draft = emu.add_release("acme", "tool", "v1.0.0", draft=True)
    target = urlsplit(draft["upload_url"].split("{")[0])
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
    connection.putrequest("POST", f"{target.path}?name=big.iso")
    connection.putheader("Authorization", AUTH["Authorization"])
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(MAX_ASSET_SIZE + 1))
    connection.endheaders()
    answer = connection.getresponse()
    body = answer.read().decode()
    connection.close()
    assert answer.status == 422
    assert "size must be less than or equal to 2147483648" in body


def full_draft(emu: Emulator, assets: int) -> int:
    draft = emu.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
    for number in range(assets):
        emu.add_asset("acme", "tool", draft, f"f{number}.bin", content=b"x")
    emu.clear_log()
    return draft


def test_a_multi_row_insert_past_1000_assets_fails_before_its_first_upload(emu: Emulator) -> None:
    draft = full_draft(emu, 999)
    db = connect_to(emu)
    message = refused_upload(db, draft, "last.bin", "over.bin")
    assert f"release {draft} of acme/tool holds 999 assets; 2 more would pass" in message
    assert "limit of 1000 assets per release" in message
    assert "Nothing was changed on GitHub" in message
    assert uploads(emu) == []
    # the release, for its upload URL and count; then its asset list (10 pages of 100)
    assert len(paths(emu)) == 11


def test_rows_that_cannot_be_seen_ahead_meet_githubs_refusal_explained(emu: Emulator) -> None:
    draft = full_draft(emu, 999)
    db = connect_to(emu)
    sql = "INSERT INTO release_assets(owner, repo, release_id, name, data) VALUES (?, ?, ?, ?, ?)"
    rows = [("acme", "tool", draft, name, "x") for name in ("last.bin", "over.bin")]
    with pytest.raises(WriteError) as failure:
        db.executemany(sql, rows)  # a statement per row: no look-ahead, no count taken
    message = str(failure.value)
    assert f"release {draft} of acme/tool is full; 1 more would pass GitHub's limit" in message
    assert len(uploads(emu)) == 2  # the second refused by GitHub, leaving nothing
    assert len(emu.list_assets("acme", "tool", draft)) == 1000


@pytest.mark.parametrize(
    ("second", "refusal"),
    [
        (None, r"release_assets\.path: '.*second.txt' cannot be read"),
        (b"", r"release_assets\.path: '.*second.txt' is an empty file \(0 bytes\)"),
    ],
    ids=["missing", "empty"],
)
def test_a_bad_row_stops_a_multi_row_insert_before_its_first_upload(
    emu: Emulator, tmp_path: Path, second: bytes | None, refusal: str
) -> None:
    draft = full_draft(emu, 0)
    (tmp_path / "a.txt").write_text("a")
    if second is not None:
        (tmp_path / "second.txt").write_bytes(second)
    db = connect_to(emu)
    files = [str(tmp_path / "a.txt"), str(tmp_path / "second.txt")]
    with pytest.raises(InputError, match=refusal):
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, path) "
            "SELECT 'acme', 'tool', :id, value FROM json_each(:files)",
            {"id": draft, "files": json.dumps(files)},
        )
    assert uploads(emu) == []


def test_max_content_size_cannot_pass_sqlites_blob_limit(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="upload with the path column and download with download"):
        connect_to(emu, max_content_size=1_000_000_001)
    connect_to(emu, max_content_size=1_000_000_000)


def test_a_draft_cannot_be_published_under_a_tag_an_immutable_release_used(
    emu: Emulator,
) -> None:
    locked = locked_release(emu)
    db = connect_to(emu)
    db.execute(f"DELETE FROM releases WHERE owner = 'acme' AND repo = 'tool' AND id = {locked}")
    db.execute(
        "INSERT INTO releases(owner, repo, tag_name, draft) VALUES ('acme', 'tool', 'v1.0.0', 1)"
    )
    draft = db.last_insert_rowid()
    with pytest.raises(WriteError, match="was used by an immutable release"):
        db.execute(
            f"UPDATE releases SET draft = 0 WHERE owner = 'acme' AND repo = 'tool' AND id = {draft}"
        )

