"""Every file in queries/ runs through the real ``sqlgh`` command against the demo data.

Read-only reports share one demo emulator (``--api-url``); the write jobs run with
``--demo`` so each gets fresh data. Expected values are computed from the emulator's
API with plain ``requests``, not through sqlgh.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import DIGESTS_SINCE
from tests.cli_helpers import QUERIES, demo_assets, demo_repositories, sqlgh


@pytest.fixture(scope="module")
def assets(demo: Emulator) -> list[dict]:
    """Every asset of acme, globex and initech, read with plain HTTP."""
    return demo_assets(demo.api_url)


def rows_of(stdout: str) -> list[dict]:
    """The JSON-lines rows of a run (other output lines, e.g. ``.print``, skipped)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def report(demo: Emulator, name: str) -> list[dict]:
    """Run queries/NAME.sql against the shared demo; return its rows."""
    result = sqlgh("--format", "jsonl", str(QUERIES / f"{name}.sql"), api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    return rows_of(result.stdout)


def test_every_query_file_is_commented_and_tested() -> None:
    names = sorted(p.stem for p in QUERIES.glob("*.sql"))
    assert names == sorted(
        [
            "inventory",
            "largest_assets",
            "top_downloads",
            "stale_uploads",
            "missing_checksums",
            "org_storage",
            "prune_stale_uploads",
            "relabel",
            "upload_dist",
            "snapshot",
            "checksum_audit",
            "downloads_last_30_days",
            "lint_releases",
            "verify_downloads",
            "publish_release",
            "stale_drafts",
        ]
    )
    for name in names:
        head = (QUERIES / f"{name}.sql").read_text().splitlines()[:3]
        assert head[0].startswith(f"-- {name}.sql: "), name
        assert "Adapt it" in (QUERIES / f"{name}.sql").read_text(), name


def test_inventory(demo: Emulator, assets: list[dict]) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for asset in assets:
        if asset["owner"] == "acme":
            groups[(asset["repo"], asset["release_created_at"], asset["tag_name"])].append(asset)
    expected = [
        {
            "repository": repo,
            "release": tag,
            "created": created[:10],
            "assets": len(group),
            "bytes": sum(a["size"] for a in group),
            "downloads": sum(a["download_count"] for a in group),
        }
        # ORDER BY repository, created_at DESC: by time first, then stably by repository
        for (repo, created, tag), group in sorted(
            sorted(groups.items(), key=lambda kv: kv[0][1], reverse=True), key=lambda kv: kv[0][0]
        )
    ]
    rows = report(demo, "inventory")
    assert [(r["repository"], r["release"]) for r in rows] == [
        (r["repository"], r["release"]) for r in expected
    ]
    assert rows == expected
    firmware = [r for r in rows if r["repository"] == "firmware"]
    assert firmware[0]["assets"] == 132  # the big release is paged, not cut at 100


def test_largest_assets(demo: Emulator, assets: list[dict]) -> None:
    expected = sorted(assets, key=lambda a: -a["size"])[:10]
    rows = report(demo, "largest_assets")
    assert [(r["owner"], r["repo"], r["name"], r["size"]) for r in rows] == [
        (a["owner"], a["repo"], a["name"], a["size"]) for a in expected
    ]
    assert rows[0]["mib"] == round(expected[0]["size"] / 1048576, 1)


def test_top_downloads(demo: Emulator, assets: list[dict]) -> None:
    expected = sorted(assets, key=lambda a: (-a["download_count"], a["id"]))[:10]
    rows = report(demo, "top_downloads")
    assert [(r["repo"], r["name"], r["downloads"]) for r in rows] == [
        (a["repo"], a["name"], a["download_count"]) for a in expected
    ]


def test_stale_uploads_finds_exactly_the_seeded_starters(
    demo: Emulator, assets: list[dict]
) -> None:
    starters = sorted(
        (a for a in assets if a["state"] == "starter"),
        key=lambda a: (a["owner"], a["repo"], a["id"]),
    )
    assert len(starters) == 10
    assert all(a["name"].endswith("-freebsd-amd64.tar.gz") for a in starters)
    rows = report(demo, "stale_uploads")
    assert [(r["owner"], r["repo"], r["id"], r["name"], r["state"]) for r in rows] == [
        (a["owner"], a["repo"], a["id"], a["name"], "starter") for a in starters
    ]
    assert all(r["size"] == 0 for r in rows)


def test_missing_checksums_lists_the_releases_from_before_digests(
    demo: Emulator, assets: list[dict]
) -> None:
    # The demo gives releases before DIGESTS_SINCE neither a checksum file nor digests.
    since = DIGESTS_SINCE.strftime("%Y-%m-%dT%H:%M:%SZ")
    old = {}
    for a in assets:
        if a["release_created_at"] < since:
            old.setdefault((a["owner"], a["repo"], a["release_id"]), []).append(a)
    rows = report(demo, "missing_checksums")
    assert {
        (r["owner"], r["repo"], r["release_id"]): r["binaries_without_digest"] for r in rows
    } == {key: len(group) for key, group in old.items()}
    assert len(rows) > 20


def test_org_storage(demo: Emulator, assets: list[dict]) -> None:
    repositories = demo_repositories(demo.api_url, "globex")
    rows = report(demo, "org_storage")
    assert {r["repository"] for r in rows} == {r["name"] for r in repositories}
    for row in rows:
        mine = [a for a in assets if a["owner"] == "globex" and a["repo"] == row["repository"]]
        assert row["bytes"] == sum(a["size"] for a in mine)
        assert row["assets"] == len(mine)
        assert row["releases"] == len({a["release_id"] for a in mine})
    assert [r["bytes"] for r in rows] == sorted((r["bytes"] for r in rows), reverse=True)
    private = {r["name"] for r in repositories if r["private"]}
    assert {r["repository"] for r in rows if r["visibility"] == "private"} == private


def test_prune_stale_uploads_deletes_exactly_the_starters(assets: list[dict]) -> None:
    # Archived repositories are left alone: GitHub refuses writes to them.
    starters = {a["id"] for a in assets if a["state"] == "starter" and not a["repo_archived"]}
    archived = {a["id"] for a in assets if a["state"] == "starter" and a["repo_archived"]}
    assert starters and archived
    result = sqlgh(
        "--demo",
        "--format",
        "jsonl",
        "queries/prune_stale_uploads.sql",
        "queries/stale_uploads.sql",
        "-c",
        "SELECT method, path, status FROM sqlgh_requests WHERE method <> 'GET'",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Deleting these unfinished uploads:\n")
    rows = rows_of(result.stdout)
    listed = [r for r in rows if "state" in r]
    pruned, still_stale = listed[: len(starters)], listed[len(starters) :]
    assert {r["id"] for r in pruned} == starters
    assert {"deleted": len(starters)} in rows
    deletes = [r for r in rows if "method" in r]
    assert len(deletes) == len(starters)
    assert {int(r["path"].rsplit("/", 1)[1]) for r in deletes} == starters
    assert {(r["method"], r["status"]) for r in deletes} == {("DELETE", 204)}
    # the stale_uploads.sql run after the prune lists only the archived repositories' ones
    assert {r["id"] for r in still_stale} == archived
    assert len(rows) == len(listed) + 1 + len(deletes)


def test_relabel_sets_labels_from_platforms() -> None:
    result = sqlgh("--demo", "--format", "jsonl", "queries/relabel.sql")
    assert result.returncode == 0, result.stderr
    by_platform = {r["name"]: r["label"] for r in rows_of(result.stdout) if "amd64" in r["name"]}
    assert any(n.endswith("-darwin-amd64.tar.gz") for n in by_platform)
    for name, label in by_platform.items():
        if name.endswith("-linux-amd64.tar.gz"):
            assert label == "Linux (x86-64)"
        elif name.endswith("-darwin-amd64.tar.gz"):
            assert label == "macOS (Intel)"  # had no label in the demo data
        elif name.endswith("-windows-amd64.zip"):
            assert label == "Windows (x86-64)"
    others = [r for r in rows_of(result.stdout) if r["name"].startswith("checksums")]
    assert others and all(r["label"] is None for r in others)


def test_upload_dist_uploads_then_replaces(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    archive = b"rocket for freebsd\n" * 100
    (dist / "rocket-freebsd-amd64.tar.gz").write_bytes(archive)
    sums = f"{hashlib.sha256(archive).hexdigest()}  rocket-freebsd-amd64.tar.gz\n".encode()
    (dist / "SHA256SUMS").write_bytes(sums)
    script = str(QUERIES / "upload_dist.sql")
    result = sqlgh(
        "--demo",
        "--format",
        "jsonl",
        script,
        script,  # the second run replaces both files
        "-c",
        "SELECT method, count(*) AS n FROM sqlgh_requests WHERE method <> 'GET' GROUP BY 1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = rows_of(result.stdout)
    listings = [r for r in rows if "name" in r]
    half = len(listings) // 2
    first, second = listings[:half], listings[half:]
    for listing in (first, second):
        names = [r["name"] for r in listing]
        assert len(names) == len(set(names))  # replaced, never duplicated
        files = {r["name"]: r for r in listing}
        assert files["rocket-freebsd-amd64.tar.gz"]["size"] == len(archive)
        assert files["rocket-freebsd-amd64.tar.gz"]["label"] == "FreeBSD (x86-64)"
        assert files["rocket-freebsd-amd64.tar.gz"]["content_type"] == "application/gzip"
        assert files["SHA256SUMS"]["size"] == len(sums)
        assert all(r["state"] == "uploaded" for r in listing)
        assert not any(n.startswith("sqlgh-") for n in names)  # no temporary names left
    methods = {r["method"]: r["n"] for r in rows if "method" in r}
    # 2 first uploads; then per file: upload aside, 2 renames, delete the old one
    assert methods == {"POST": 4, "PATCH": 4, "DELETE": 2}
