"""``sqlgh snapshot`` and queries/snapshot.sql: daily download counts in a local table, and
the views over them (download_trend, downloads_by_platform)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from cli_helpers import QUERIES, ROOT, TOKEN, sqlgh
from conftest import connect_to

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.snapshot import BUSY_TIMEOUT, SCHEMA, STAGE, STORE, insert_statement, snapshot_statements


def seed(emu: Emulator) -> int:
    """acme/tool v1 with tool-linux-amd64.tar.gz (5 downloads) and tool.msi (2)."""
    emu.add_org("acme")
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")
    emu.add_asset("acme", "tool", release["id"], "tool-linux-amd64.tar.gz", content=b"linux",
                  download_count=5)
    emu.add_asset("acme", "tool", release["id"], "tool-x64.msi", content=b"msi", download_count=2)
    return int(release["id"])


def snapshot(db, owner: str = "acme") -> None:
    db.execute("\n".join(snapshot_statements([owner])))


def download(emu: Emulator, asset_id: int) -> None:
    """One download through GitHub's API, as a user's would count."""
    response = requests.get(
        f"{emu.api_url}/repos/acme/tool/releases/assets/{asset_id}",
        headers={"Accept": "application/octet-stream", "Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    response.raise_for_status()


def core_used(db) -> int:
    return db.execute("SELECT used FROM rate_limit WHERE resource = 'core'").fetchall()[0][0]


def test_two_runs_in_a_day_keep_one_row_per_asset_with_the_later_count(
    emulator: Emulator, tmp_path: Path
) -> None:
    seed(emulator)
    db = connect_to(emulator, cache=False)
    snapshot(db)
    linux = db.execute("SELECT asset_id FROM asset_downloads WHERE name GLOB '*linux*'")
    (asset_id,) = linux.fetchall()[0]
    download(emulator, asset_id)
    snapshot(db)
    rows = db.execute(
        "SELECT name, download_count, tag_name FROM asset_downloads ORDER BY name"
    ).fetchall()
    assert rows == [("tool-linux-amd64.tar.gz", 6, "v1"), ("tool-x64.msi", 2, "v1")]


def test_a_replaced_asset_and_a_lower_count_are_resets(emulator: Emulator) -> None:
    release_id = seed(emulator)
    db = connect_to(emulator, cache=False)
    db.execute("\n".join(SCHEMA))
    old = emulator.list_assets("acme", "tool", release_id)
    linux, msi = sorted(old, key=lambda a: a["name"])
    # Two earlier days: the .tar.gz had 40 then 45 downloads, the .msi 1 then 9.
    for day, counts in (("2026-01-01", (40, 1)), ("2026-01-02", (45, 9))):
        for asset, count in zip((linux, msi), counts, strict=True):
            db.execute(
                "INSERT INTO asset_downloads(taken_at, owner, repo, release_id, tag_name, "
                "asset_id, name, download_count) VALUES (?, 'acme', 'tool', ?, 'v1', ?, ?, ?)",
                (f"{day}T06:00:00Z", release_id, asset["id"], asset["name"], count),
            )
    # The .tar.gz is replaced (a new upload under the same name: 0 downloads, then 3).
    db.execute("DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
               (linux["id"],))
    emulator.add_asset("acme", "tool", release_id, linux["name"], content=b"new",
                       download_count=3)
    snapshot(db)
    trend = db.execute(
        "SELECT name, download_count, delta, reset FROM download_trend ORDER BY name, day"
    ).fetchall()
    assert trend == [
        ("tool-linux-amd64.tar.gz", 40, None, 0),
        ("tool-linux-amd64.tar.gz", 45, 5, 0),
        ("tool-linux-amd64.tar.gz", 3, 3, 1),  # replaced: its 3 downloads are new
        ("tool-x64.msi", 1, None, 0),
        ("tool-x64.msi", 9, 8, 0),
        ("tool-x64.msi", 2, 2, 1),  # the count went down: counted afresh
    ]
    platforms = db.execute(
        "SELECT os, arch, packaging, sum(downloads) FROM downloads_by_platform "
        "GROUP BY os, arch, packaging ORDER BY os"
    ).fetchall()
    assert platforms == [("linux", "amd64", "tar.gz", 8), ("windows", "amd64", "msi", 10)]


def test_a_second_run_over_unchanged_data_costs_no_rate_limit_units(
    emulator: Emulator, tmp_path: Path
) -> None:
    seed(emulator)
    for index in range(3):  # more repositories, more requests to revalidate
        emulator.add_repo("acme", f"lib{index}")
        emulator.add_release("acme", f"lib{index}", "v1")
    cache = str(tmp_path / "cache.sqlite")
    db = connect_to(emulator, cache_path=cache)
    before = core_used(db)
    snapshot(db)
    first = core_used(db) - before
    assert first >= 5  # the repository list and each repository's releases
    db.close()
    db = connect_to(emulator, cache_path=cache)  # tomorrow's cron job: a new process
    before = core_used(db)
    snapshot(db)
    assert core_used(db) - before == 0
    assert db.execute("SELECT count(*) FROM asset_downloads").fetchall() == [(2,)]


def test_snapshot_sql_is_the_command_s_job() -> None:
    text = (QUERIES / "snapshot.sql").read_text()
    for statement in [*SCHEMA, BUSY_TIMEOUT, STAGE, insert_statement("acme"), STORE]:
        assert statement in text


def test_snapshot_sql_runs_on_a_database_file(emulator: Emulator, tmp_path: Path) -> None:
    seed(emulator)
    database = str(tmp_path / "history.db")
    for _ in range(2):
        result = sqlgh(database, str(QUERIES / "snapshot.sql"), api_url=emulator.api_url)
        assert result.returncode == 0, result.stderr
    check = sqlgh(database, "SELECT count(*), sum(download_count) FROM asset_downloads;",
                  "--format", "csv", api_url=emulator.api_url)
    assert check.stdout.splitlines()[-1] == "2,7"


def test_the_command_creates_its_database_in_the_data_directory(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(emulator)
    emulator.add_repo("acme", "other")
    monkeypatch.setenv("SQLGH_DATA_DIR", str(tmp_path / "data"))
    first = sqlgh("snapshot", "--owner", "acme", "--repo", "tool", "--format", "csv",
                  api_url=emulator.api_url)
    assert first.returncode == 0, first.stderr
    database = tmp_path / "data" / "downloads.db"
    assert f"snapshot: creating {database}" in first.stderr
    assert first.stdout.startswith("owner,repositories,assets,downloads,taken_at\nacme,1,2,7,")
    again = sqlgh("snapshot", "--owner", "acme", api_url=emulator.api_url)
    assert again.returncode == 0, again.stderr
    assert "creating" not in again.stderr


def test_the_command_needs_an_owner_and_no_sql() -> None:
    missing = sqlgh("snapshot", "history.db")
    assert missing.returncode == 2
    assert "snapshot needs --owner OWNER" in missing.stderr
    extra = sqlgh("snapshot", "history.db", "--owner", "acme", "SELECT 1;")
    assert extra.returncode == 2
    assert "snapshot runs no SQL of its own" in extra.stderr
    demo = sqlgh("snapshot", "--owner", "acme", "--demo")
    assert demo.returncode == 2
    assert "snapshot --demo needs a DATABASE file, e.g. demo.db" in demo.stderr


def test_downloads_last_30_days_draws_each_release_s_days(tmp_path: Path) -> None:
    database = str(tmp_path / "history.db")
    rows = [(2, 1, "a.zip", 10), (1, 1, "a.zip", 18), (0, 1, "a.zip", 22), (0, 2, "b.zip", 5),
            (1, 3, "c.zip", 1), (0, 3, "c.zip", 2), (40, 4, "old.zip", 9), (0, 4, "old.zip", 9)]
    values = ", ".join(
        f"(strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-{ago} days'), 'acme', 'tool', 7, "
        f"'v{1 if asset_id < 3 else 2}', {asset_id}, '{name}', {count})"
        for ago, asset_id, name, count in rows
    )
    setup = sqlgh(
        database,
        "\n".join(SCHEMA) + "\nINSERT INTO asset_downloads(taken_at, owner, repo, release_id, "
        f"tag_name, asset_id, name, download_count) VALUES {values};",
    )
    assert setup.returncode == 0, setup.stderr
    result = sqlgh("--format", "jsonl", database, str(QUERIES / "downloads_last_30_days.sql"))
    assert result.returncode == 0, result.stderr
    report = [json.loads(line) for line in result.stdout.splitlines()]
    # v1: +8 yesterday, +4 today (a.zip; b.zip is new today). v2: c.zip +1 today; old.zip's
    # delta is 40 days back, outside the period, and 0 today.
    assert report == [
        {"owner": "acme", "repo": "tool", "release": "v1", "last_30_days": " " * 28 + "█▄",
         "downloads": 12},
        {"owner": "acme", "repo": "tool", "release": "v2", "last_30_days": " " * 29 + "█",
         "downloads": 1},
    ]


def test_a_demo_snapshot_brings_a_month_of_history(tmp_path: Path) -> None:
    database = str(tmp_path / "demo.db")
    for _ in range(2):
        result = sqlgh("snapshot", database, "--owner", "initech", "--demo")
        assert result.returncode == 0, result.stderr
    check = sqlgh(
        "--format", "csv", database,
        "SELECT count(DISTINCT day), count(*) / count(DISTINCT asset_id), "
        "sum(delta < 0), sum(reset) FROM download_trend;",
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines()[-1] == "30,30,0,0"


def test_owners_fetched_across_a_second_boundary_share_one_taken_at(emulator: Emulator) -> None:
    seed(emulator)
    emulator.add_org("globex")
    emulator.add_repo("globex", "gadget")
    release = emulator.add_release("globex", "gadget", "v1")
    emulator.add_asset("globex", "gadget", release["id"], "gadget.zip", content=b"g",
                       download_count=4)
    # globex's first request waits for the next second (under one second: 'now' has whole
    # seconds), so the owners' counts are taken in two different seconds.
    next_second = lambda: time.sleep(1.02 - time.time() % 1)  # noqa: E731
    emulator.add_fault(Fault("meanwhile", path="globex", call=next_second))
    db = connect_to(emulator, cache=False)
    summary = db.execute("\n".join(snapshot_statements(["acme", "globex"]))).fetchall()
    assert [row[:4] for row in summary] == [("acme", 1, 2, 7), ("globex", 1, 1, 4)]
    assert db.execute("SELECT count(DISTINCT taken_at) FROM asset_downloads").fetchall() == [
        (1,)
    ]


def test_a_snapshot_started_while_another_fetches_waits_for_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    seed(emulator)
    database = str(tmp_path / "history.db")
    db = connect_to(emulator, database=database, cache=False)
    db.setbusytimeout(60_000)  # as the command's BUSY_TIMEOUT
    db.execute("\n".join(SCHEMA))
    second_fetching = threading.Event()
    second: list[subprocess.Popen[str]] = []

    def start_the_second_snapshot() -> None:
        # Another process (an overlapping cron job) starts while this one's first request
        # is held; this one goes on once that one fetches too, or has stopped.
        emulator.add_fault(Fault("meanwhile", origin="api", call=second_fetching.set))
        env = {**os.environ, "GITHUB_API_URL": emulator.api_url, "GH_TOKEN": TOKEN}
        second.append(subprocess.Popen(
            [sys.executable, "-m", "sqlgh.cli", "snapshot", database, "--owner", "acme",
             "--format", "csv", "-o", "cache=false"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        ))  # fmt: skip
        while not second_fetching.wait(0.05) and second[0].poll() is None:
            pass

    emulator.add_fault(Fault("meanwhile", origin="api", call=start_the_second_snapshot))
    snapshot(db)
    out, err = second[0].communicate(timeout=60)
    assert second[0].returncode == 0, err  # not "database is locked"
    assert out.startswith("owner,repositories,assets,downloads,taken_at\nacme,1,2,7,")
    assert db.execute("SELECT count(*) FROM asset_downloads").fetchall() == [(2,)]


def test_a_renamed_asset_continues_its_series(emulator: Emulator) -> None:
    release_id = seed(emulator)
    db = connect_to(emulator, cache=False)
    db.execute("\n".join(SCHEMA))
    linux = next(a for a in emulator.list_assets("acme", "tool", release_id)
                 if a["name"] == "tool-linux-amd64.tar.gz")  # fmt: skip
    db.execute(  # yesterday: 3 downloads under its first name
        "INSERT INTO asset_downloads(taken_at, owner, repo, release_id, tag_name, asset_id, "
        "name, download_count) VALUES ('2026-01-01T06:00:00Z', 'acme', 'tool', ?, 'v1', ?, "
        "'tool-linux.tgz', 3)",
        (release_id, linux["id"]),
    )
    snapshot(db)  # today: 5, under the name it has now (the asset was renamed)
    trend = db.execute(
        "SELECT name, download_count, delta, reset FROM download_trend WHERE asset_id = ? "
        "ORDER BY day", (linux["id"],)
    ).fetchall()
    assert trend == [("tool-linux.tgz", 3, None, 0), ("tool-linux-amd64.tar.gz", 5, 2, 0)]
    platforms = db.execute(
        "SELECT os, sum(downloads) FROM downloads_by_platform GROUP BY os ORDER BY os"
    ).fetchall()
    assert platforms == [("linux", 2)]  # the .msi has no earlier day: no delta yet
