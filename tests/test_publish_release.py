"""queries/publish_release.sql end to end, its helpers sha256() and filesize(), script
parameters (-p) and queries/stale_drafts.sql (issue 15, parts 4 and 5)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import apsw
import pytest
import requests

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.errors import InputError
from tests.cli_helpers import QUERIES, TOKEN, sqlgh
from tests.conftest import connect_to

SCRIPT = str(QUERIES / "publish_release.sql")


def dist(tmp_path: Path, count: int) -> list[str]:
    """``count`` small files under tmp_path/dist; their paths relative to tmp_path."""
    (tmp_path / "dist").mkdir()
    names = [f"dist/rocket-{number}.tar.gz" for number in range(count)]
    for number, name in enumerate(names):
        (tmp_path / name).write_bytes(f"rocket part {number}\n".encode() * (number + 1))
    return names


def publish(emulator: Emulator, tmp_path: Path, files: list[str]) -> subprocess.CompletedProcess:
    """Run the publish script on ``files`` against ``emulator``, in tmp_path."""
    return sqlgh(
        "-p",
        f"files={json.dumps(files)}",
        SCRIPT,
        api_url=emulator.api_url,
        uploads_url=emulator.uploads_url,
        cwd=tmp_path,
    )


def test_the_publish_script_runs_on_the_demo_in_n_plus_3_requests(tmp_path: Path) -> None:
    files = dist(tmp_path, 10)
    result = sqlgh(
        "--demo",
        "--format",
        "jsonl",
        "-p",
        f"files={json.dumps(files)}",
        SCRIPT,
        "-c",
        "SELECT method, count(*) AS n FROM sqlgh_requests GROUP BY 1 ORDER BY 1",
        "-c",
        "SELECT draft, immutable, assets_count FROM releases "
        "WHERE owner = 'acme' AND repo = 'rocket' AND tag_name = 'v9.0.0'",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert rows[:3] == [
        {"method": "GET", "n": 1},  # the draft's assets, for the check
        {"method": "PATCH", "n": 1},  # publish
        {"method": "POST", "n": 11},  # the draft and 10 uploads
    ]
    assert rows[3] == {"draft": 0, "immutable": 0, "assets_count": 10}


def test_a_mismatch_stops_the_script_before_publishing(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "rocket")
    files = dist(tmp_path, 3)

    def tampered(release: dict) -> dict:  # the draft, read with its assets embedded
        for asset in release["assets"]:
            if asset["name"] == "rocket-1.tar.gz":
                asset["digest"] = "sha256:" + "0" * 64
        return release

    emulator.add_fault(
        Fault("rewrite_json", method="GET", path=r"/releases/\d+$", rewrite=tampered)
    )
    result = publish(emulator, tmp_path, files)
    assert result.returncode == 1
    assert (
        "publish_release.sql: dist/rocket-1.tar.gz: no uploaded asset of the draft" in result.stderr
    )
    assert "the release was left a draft" in result.stderr
    assert not any(r.method == "PATCH" for r in emulator.log)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = requests.get(f"{emulator.api_url}/repos/acme/rocket/releases", headers=auth).json()
    assert [(r["tag_name"], r["draft"]) for r in listed] == [("v9.0.0", True)]


def test_sha256_and_filesize(tmp_path: Path, db: apsw.Connection) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc" * 1000)
    expected = "sha256:" + hashlib.sha256(b"abc" * 1000).hexdigest()
    row = db.execute(
        "SELECT sha256(?), sha256(readfile(?)), sha256(NULL), filesize(?), filesize(NULL)",
        (str(path), str(path), str(path)),
    ).fetchone()
    assert row == (expected, expected, None, 3000, None)
    with pytest.raises(InputError, match=r"sha256: '.*nope' cannot be read"):
        db.execute("SELECT sha256(?)", (str(tmp_path / "nope"),)).fetchall()
    with pytest.raises(InputError, match=r"filesize: .* cannot be read"):
        db.execute("SELECT filesize(?)", (str(tmp_path / "nope"),)).fetchall()


def test_parameters_bind_named_values() -> None:
    result = sqlgh(
        "--demo",
        "--format",
        "jsonl",
        "-p",
        "n=41",
        "-p",
        ":who=acme",
        "-c",
        "SELECT :n + 1 AS n, $who AS who",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"n": 42, "who": "acme"}
    bad = sqlgh("-p", "no-equals", "-c", "SELECT 1")
    assert bad.returncode == 2 and "-p needs NAME=VALUE" in bad.stderr


def test_stale_drafts_lists_old_drafts(emulator: Emulator) -> None:
    for org in ("acme", "globex", "initech"):
        emulator.add_org(org)
    emulator.add_repo("acme", "tool")
    old = emulator.add_release("acme", "tool", "v1", draft=True, created_at="2024-01-01T00:00:00Z")
    emulator.add_release("acme", "tool", "v2", draft=True)  # today: not stale
    emulator.add_release("acme", "tool", "v0", created_at="2023-01-01T00:00:00Z")  # published
    result = sqlgh(
        "--format",
        "jsonl",
        "-p",
        "days=30",
        str(QUERIES / "stale_drafts.sql"),
        api_url=emulator.api_url,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(r["repo"], r["id"], r["tag_name"]) for r in rows] == [("tool", old["id"], "v1")]


def test_an_upload_to_a_draft_and_its_deletion(emulator: Emulator) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")
    draft = emulator.add_release("acme", "tool", "v1", draft=True)["id"]
    db = connect_to(emulator)
    db.execute(
        "INSERT INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, 'a.txt', 'a')",
        (draft,),
    )
    names = db.execute(
        "SELECT a.name FROM releases AS r JOIN release_assets AS a "
        "ON a.owner = r.owner AND a.repo = r.repo AND a.release_id = r.id "
        "WHERE r.owner = 'acme' AND r.repo = 'tool' AND r.tag_name = 'v1'"
    ).fetchall()
    assert names == [("a.txt",)]
    db.execute(
        "DELETE FROM releases "
        "WHERE owner = 'acme' AND repo = 'tool' AND tag_name = 'v1' AND draft = 1"
    )
    assert emulator.get_asset(db.last_insert_rowid()) is None


@pytest.mark.parametrize("given", [["-p", "files=[]"], []], ids=["empty-list", "no-list"])
def test_no_files_stops_the_script_before_anything_is_made(
    emulator: Emulator, tmp_path: Path, given: list[str]
) -> None:
    # Before: files=[] published an empty release (exit 0), which an immutable release
    # can never fill; no -p at all left a stray draft.
    emulator.add_org("acme")
    emulator.add_repo("acme", "rocket")
    result = sqlgh(
        *given, SCRIPT, api_url=emulator.api_url, uploads_url=emulator.uploads_url, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "files" in result.stderr
    if given:
        assert "publish_release.sql: files: no file given" in result.stderr
        assert "nothing was created" in result.stderr
    assert not any(r.method in ("POST", "PATCH") for r in emulator.log)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = requests.get(f"{emulator.api_url}/repos/acme/rocket/releases", headers=auth).json()
    assert listed == []


def test_an_asset_without_a_digest_is_named_as_such(emulator: Emulator, tmp_path: Path) -> None:
    # Before: "no uploaded asset of the draft has its size (N) and digest (sha256:...)",
    # as if the bytes differed, when GitHub gave no digest to compare with.
    emulator.add_org("acme")
    emulator.add_repo("acme", "rocket")
    files = dist(tmp_path, 2)

    def undigested(release: dict) -> dict:  # the draft, read with its assets embedded
        return {**release, "assets": [{**a, "digest": None} for a in release["assets"]]}

    emulator.add_fault(
        Fault("rewrite_json", method="GET", path=r"/releases/\d+$", rewrite=undigested)
    )
    result = publish(emulator, tmp_path, files)
    assert result.returncode == 1
    assert "publish_release.sql: rocket-0.tar.gz: GitHub gave asset" in result.stderr
    assert "no digest" in result.stderr and "the release was left a draft" in result.stderr
    assert not any(r.method == "PATCH" for r in emulator.log)
