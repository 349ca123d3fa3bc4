"""Benchmark of the read path (issue 2): requests per access path, and row production.

Run by hand: ``python bench/read_path.py [--part requests rows release]``. Part one runs
each access path against the emulator (in its own process, ``bench/serve.py``, shape 8 x 6
x 40) and prints the requests made beside the minimum GitHub allows. Part two measures
rows/s from decoded JSON to rows returned by ``SELECT *`` (no HTTP: the access path yields
decoded assets from memory), beside a plain ``sqlite3`` table scan of the same rows. Part
three reads one release of 5,000 assets by ``release_id`` as sqlgh ships (default options,
a first run: an empty cache file; and ``cache=False``: the release, with its assets
embedded, and the check of that array), beside a sequential ``requests`` + ``json`` loop
over the release's ``/assets`` pages (shape ``big``, no added latency), runs
alternating; it prints wall time and the client process's CPU time (``process_time``, all
its threads; the emulator runs in its own process), which stays meaningful on a loaded host.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apsw
import requests
from common import EmulatorProcess, markdown_table
from serve import ORG, TOKEN

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.tables import release_assets
from sqlgh.tables.spec import AccessPath, Api, Batch
from sqlgh.vtab import register

ROWS = 50_000


def access_paths(db: Any, ids: dict[str, Any]) -> list[tuple[str, int]]:
    """(query, minimum requests) for every access path."""
    a, r, t = ids["asset"], ids["release"], ids["tag"]
    w = f"owner = '{ORG}' AND repo = 'repo0'"
    return [
        # GitHub's asset has no link to its release: release_id (in *) costs a lookup.
        (f"SELECT * FROM release_assets WHERE {w} AND id = {a}", 2),
        (f"SELECT name, size FROM release_assets WHERE {w} AND id = {a}", 1),
        (f"SELECT * FROM release_assets WHERE {w} AND release_id = {r} AND id = {a}", 1),
        (f"SELECT * FROM release_assets WHERE {w} AND release_id = {r}", 1),
        (f"SELECT * FROM release_assets WHERE {w}", 1),
        (f"SELECT * FROM release_assets WHERE {w} LIMIT 5", 1),
        (f"SELECT * FROM release_assets WHERE {w} AND release_id IN ({ids['releases']})", 3),
        (f"SELECT * FROM releases WHERE {w} AND id = {r}", 1),
        (f"SELECT * FROM releases WHERE {w} AND tag_name = '{t}'", 1),
        (f"SELECT * FROM releases WHERE {w}", 1),
        (f"SELECT * FROM latest_releases WHERE {w}", 1),
        (f"SELECT * FROM repositories WHERE owner = '{ORG}'", 1),
        (f"SELECT * FROM repositories WHERE owner = '{ORG}' AND name = 'repo0'", 1),
        ("SELECT * FROM rate_limit", 1),
    ]


def requests_table() -> str:
    """Run each access path once; compare the emulator's count with the minimum."""
    rows = []
    with EmulatorProcess("org", 0.0) as emu:
        db = sqlgh.connect(api_url=emu.api_url, token=TOKEN, cache=False)
        found = db.execute(
            f"SELECT release_id, id FROM release_assets WHERE owner = '{ORG}' AND repo = 'repo0'"
        ).fetchall()
        releases = sorted({f[0] for f in found})
        tag = db.execute(
            f"SELECT tag_name FROM releases WHERE owner = '{ORG}' AND repo = 'repo0' "
            f"AND id = {releases[0]}"
        ).fetchone()[0]
        ids = {
            "asset": found[0][1],
            "release": releases[0],
            "tag": tag,
            "releases": ", ".join(map(str, releases[:3])),
        }
        for sql, minimum in access_paths(db, ids):
            fresh = sqlgh.connect(api_url=emu.api_url, token=TOKEN, cache=False)
            emu.served()
            fresh.execute(sql).fetchall()
            rows.append([f"`{sql}`", emu.served(), minimum])
    return markdown_table(["query", "requests made", "minimum"], rows)


def _assets(count: int) -> list[dict]:
    """``count`` decoded assets shaped exactly as the emulator (and GitHub) serve them,
    with the full 19-field ``uploader`` object."""
    with Emulator() as emulator:
        emulator.add_repo("o", "r")
        release = emulator.add_release("o", "r", "v1")
        template = emulator.add_asset(
            "o", "r", release["id"], "tool.tar.gz", size=123456, content_type="application/gzip"
        )
    text = json.dumps([{**template, "id": i + 1, "name": f"tool-{i}.tar.gz"} for i in range(count)])
    return json.loads(text)


def row_production(count: int = ROWS, repeat: int = 9) -> str:
    """rows/s of ``SELECT *`` over decoded JSON, and of a plain sqlite3 scan."""
    assets = _assets(count)
    context = {"owner": "o", "repo": "r", "release_id": 7}

    def from_memory(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
        for start in range(0, count, 100):  # pages of 100, as GitHub serves them
            yield context, assets[start : start + 100]

    path = AccessPath("memory", ("owner", "repo"), from_memory, "0", cost=1, rows=count)
    table = dataclasses.replace(release_assets.TABLE, name="bench_assets", paths=(path,))
    db = sqlgh.connect(cache=False, api_url="http://127.0.0.1:9")
    register(db, db.sqlgh, (table,))
    sql = "SELECT * FROM bench_assets WHERE owner = 'o' AND repo = 'r'"
    rows = db.execute(sql).fetchall()
    assert len(rows) == count

    plain = sqlite3.connect(":memory:")
    columns = [c.name for c in table.columns if not c.hidden]
    plain.execute(f"CREATE TABLE t({', '.join(columns)})")
    plain.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(columns))})", rows)
    floor = _constant_vtab(len(columns), count)
    jobs = {
        "sqlgh `SELECT *` from decoded JSON": lambda: db.execute(sql).fetchall(),
        "floor: a Python vtab returning constants, same width": lambda: floor.execute(
            "SELECT * FROM constant"
        ).fetchall(),
        "plain sqlite3 table scan": lambda: plain.execute("SELECT * FROM t").fetchall(),
    }
    # Rounds interleave the three, so a slow spell of a shared machine hits them alike.
    times: dict[str, list[float]] = {what: [] for what in jobs}
    for _ in range(repeat):
        for what, job in jobs.items():
            started = time.perf_counter()
            job()
            times[what].append(time.perf_counter() - started)
    return markdown_table(
        ["what", "rows", "columns", "median s", "rows/s (median)", "rows/s (best)"],
        [
            [
                what,
                count,
                len(columns),
                f"{statistics.median(t):.3f}",
                f"{count / statistics.median(t):,.0f}",
                f"{count / min(t):,.0f}",
            ]
            for what, t in times.items()
        ],
    )


def _constant_vtab(width: int, count: int) -> apsw.Connection:
    """The least an APSW Python virtual table can cost: every cell a constant string."""
    row = ["x" * 20] * width

    class Cursor:
        def Filter(self, *args: object) -> None:
            self.at = 0

        def Eof(self) -> bool:
            return self.at >= count

        def Next(self) -> None:
            self.at += 1

        def Rowid(self) -> int:
            return self.at

        def Column(self, number: int) -> str:
            return row[number]

        def Close(self) -> None:
            pass

    class Table:
        def BestIndexObject(self, ii: apsw.IndexInfo) -> bool:
            return True

        def Open(self) -> Cursor:
            return Cursor()

        def Disconnect(self) -> None:
            pass

        Destroy = Disconnect

    class Module:
        def Connect(self, *args: object) -> tuple[str, Table]:
            names = ", ".join(f"c{i}" for i in range(width))
            return f"CREATE TABLE constant({names})", Table()

        Create = Connect

    db = apsw.Connection(":memory:")
    db.create_module("constant", Module(), use_bestindex_object=True, eponymous_only=True)
    return db


def release_by_id(repeat: int = 7) -> str:
    """One release of 5,000 assets by ``release_id``: sqlgh (cache on, first run; and
    ``cache=False``) against a sequential requests + json loop, wall and client CPU."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"}
    with EmulatorProcess("big", 0.0) as emu, tempfile.TemporaryDirectory() as tmp:
        releases = f"{emu.api_url}/repos/{ORG}/repo0/releases"
        release = requests.get(releases, headers=headers, timeout=60).json()[0]["id"]
        sql = (
            f"SELECT * FROM release_assets WHERE owner = '{ORG}' AND repo = 'repo0'"
            f" AND release_id = {release}"
        )
        files = iter(range(10**9))

        def sqlgh_run(**options: Any) -> int:
            db = sqlgh.connect(
                api_url=emu.api_url,
                token=TOKEN,
                cache_path=str(Path(tmp) / f"c{next(files)}.sqlite"),  # a first run
                **options,
            )
            try:
                return sum(1 for _ in db.execute(sql))
            finally:
                db.close()  # waits for the cache's queued stores

        def loop() -> int:
            rows: list[dict] = []
            url: str | None = f"{releases}/{release}/assets?per_page=100"
            with requests.Session() as session:
                while url:
                    response = session.get(url, headers=headers, timeout=60)
                    response.raise_for_status()
                    rows += json.loads(response.content)
                    url = response.links.get("next", {}).get("url")
            return len(rows)

        jobs = {
            "requests + json loop, sequential": loop,
            "sqlgh, cache on (first run)": sqlgh_run,
            "sqlgh, cache=False": lambda: sqlgh_run(cache=False),
        }
        served: dict[str, int] = {}
        for what, job in jobs.items():  # untimed: requests and rows
            emu.served()
            assert job() == 5000
            served[what] = emu.served()
        wall: dict[str, list[float]] = {what: [] for what in jobs}
        cpu: dict[str, list[float]] = {what: [] for what in jobs}
        for _ in range(repeat):
            for what, job in jobs.items():
                gc.collect()
                started, used = time.perf_counter(), time.process_time()
                job()
                cpu[what].append(time.process_time() - used)
                wall[what].append(time.perf_counter() - started)
    loop_wall = statistics.median(wall["requests + json loop, sequential"])
    return markdown_table(
        ["contender", "requests", "median s", "best s", "x loop", "CPU median s", "CPU best s"],
        [
            [
                what,
                served[what],
                f"{statistics.median(wall[what]):.3f}",
                f"{min(wall[what]):.3f}",
                f"{statistics.median(wall[what]) / loop_wall:.2f}",
                f"{statistics.median(cpu[what]):.3f}",
                f"{min(cpu[what]):.3f}",
            ]
            for what in jobs
        ],
    )


PARTS = {
    "requests": ("Requests per access path (8 repos x 6 releases x 40 assets)", requests_table),
    "rows": ("Row production", row_production),
    "release": ("One release of 5,000 assets by release_id, first run", release_by_id),
}


def main() -> int:
    """Print the tables of the parts asked for (all by default)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", nargs="+", choices=sorted(PARTS), default=list(PARTS))
    for number, part in enumerate(parser.parse_args().part):
        title, table = PARTS[part]
        print(f"{chr(10) if number else ''}### {title}\n")
        print(table(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
