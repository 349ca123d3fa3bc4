"""Bounded concurrency for reads: same rows, same order, fewer round trips."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import connect_to

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault

ORG = "acme"


def _seed(emu: Emulator, repos: int = 3, releases: int = 2, assets: int = 3) -> list[int]:
    emu.add_org(ORG)
    release_ids = []
    for r in range(repos):
        emu.add_repo(ORG, f"r{r}")
        for k in range(releases):
            release = emu.add_release(ORG, f"r{r}", f"v{k}")
            release_ids.append(release["id"])
            for a in range(assets):
                emu.add_asset(ORG, f"r{r}", release["id"], f"a{a}.bin", size=a + 1)
    return release_ids


QUERIES = [
    "SELECT * FROM release_assets WHERE owner = 'acme' AND repo = 'r0'",
    "SELECT repo, release_id, id, name FROM release_assets WHERE owner = 'acme' "
    "AND repo IN (SELECT name FROM repositories WHERE owner = 'acme')",
    "SELECT r.name, a.name FROM repositories r JOIN release_assets a "
    "ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = 'acme'",
    "SELECT id, tag_name FROM releases WHERE owner = 'acme' AND repo IN ('r2', 'r0', 'r1')",
]


def test_same_rows_in_same_order_with_1_and_8(emulator: Emulator) -> None:
    # A release whose JSON embeds 100 of its 230 assets: its asset list is paged (3 pages,
    # concurrently with 8), by release_id and in the repository's scan alike.
    emulator.embedded_assets_cap = 100
    release_ids = _seed(emulator)
    big = release_ids[0]
    for a in range(3, 230):
        emulator.add_asset(ORG, "r0", big, f"b{a}.bin", size=a)
    in_list = ", ".join(map(str, release_ids[:2]))  # the releases of r0
    queries = [
        *QUERIES,
        f"SELECT release_id, name FROM release_assets WHERE owner = 'acme' AND repo = 'r0' "
        f"AND release_id IN ({in_list})",
    ]
    sequential = connect_to(emulator, max_concurrency=1, cache=False)
    parallel = connect_to(emulator, max_concurrency=8, cache=False)
    for sql in queries:
        expected = sequential.execute(sql).fetchall()
        assert expected, sql
        assert parallel.execute(sql).fetchall() == expected, sql


def test_in_list_is_fetched_concurrently_in_order() -> None:
    with Emulator(latency=0.1) as emu:
        emu.add_org(ORG)
        names = [f"p{i}" for i in range(8)]
        for name in names:
            emu.add_repo(ORG, name)
            emu.add_release(ORG, name, f"{name}-v1")
        db = connect_to(emu, max_concurrency=8, cache=False)
        listed = ", ".join(f"'{n}'" for n in reversed(names))
        started = time.perf_counter()
        rows = db.execute(
            f"SELECT repo, tag_name FROM releases WHERE owner = 'acme' AND repo IN ({listed})"
        ).fetchall()
        elapsed = time.perf_counter() - started
    assert sorted(rows) == [(n, f"{n}-v1") for n in names]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # key order, as sequentially
    assert elapsed < 0.5, f"8 requests of 0.1 s took {elapsed:.2f} s"


def test_pages_after_the_first_are_fetched_concurrently() -> None:
    # A release whose JSON embeds 100 of its assets: its asset list is paged.
    with Emulator(latency=0.1, embedded_assets_cap=100) as emu:
        release_ids = _seed(emu, repos=1, releases=1, assets=0)
        for a in range(600):
            emu.add_asset(ORG, "r0", release_ids[0], f"a{a}.bin", size=1)
        db = connect_to(emu, max_concurrency=8, cache=False)
        started = time.perf_counter()
        rows = db.execute(
            f"SELECT id FROM release_assets WHERE owner = 'acme' AND repo = 'r0' "
            f"AND release_id = {release_ids[0]}"
        ).fetchall()
        elapsed = time.perf_counter() - started
        pages = [r for r in emu.log if r.path.endswith("/assets")]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows) and len(rows) == 600
    assert len(pages) == 6
    # the release, page 1 (the check), then pages 2-6 at once: 3 round trips, not 7
    assert elapsed < 0.55, f"the release and 6 pages of 0.1 s took {elapsed:.2f} s"


@pytest.mark.parametrize("concurrency", [1, 8])
def test_limit_still_stops_early(emulator: Emulator, concurrency: int) -> None:
    # A release whose JSON embeds 100 of its 1000 assets: its asset list is paged (a whole
    # embedded array would be checked with one page, and no window of pages would show).
    emulator.embedded_assets_cap = 100
    release_ids = _seed(emulator, repos=1, releases=1, assets=0)
    for a in range(1000):
        emulator.add_asset(ORG, "r0", release_ids[0], f"a{a}.bin", size=1)
    db = connect_to(emulator, max_concurrency=concurrency, cache=False)
    emulator.clear_log()
    rows = db.execute(
        f"SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'r0' "
        f"AND release_id = {release_ids[0]} LIMIT 5"
    ).fetchall()
    assert len(rows) == 5
    assert len(emulator.log) == 2  # the release and page 1 (the check); no page ahead
    emulator.clear_log()
    rows = db.execute(
        "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'r0' LIMIT 150"
    ).fetchall()
    assert len(rows) == 150
    # the release list, then the release's asset pages: at most a window ahead, not all 10
    assert len(emulator.log) <= 3 + concurrency


def test_errors_from_a_concurrent_fetch_reach_sql(emulator: Emulator) -> None:
    _seed(emulator, repos=3)
    # (a repository that does not exist, among many, gives no rows: tests/test_missing_keys)
    emulator.add_fault(Fault(path="/repos/acme/r1/releases", status=400, times=10))
    db = connect_to(emulator, max_concurrency=8, cache=False)
    with pytest.raises(Exception, match="r1"):
        db.execute(
            "SELECT * FROM releases WHERE owner = 'acme' AND repo IN ('r0', 'r1', 'r2')"
        ).fetchall()


def _read_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sqlgh-read")}


def test_closing_the_connection_stops_its_read_threads(emulator: Emulator) -> None:
    emulator.embedded_assets_cap = 100  # the release's asset list is then paged
    emulator.add_repo("acme", "tool")
    release = emulator.add_release("acme", "tool", "v1")
    for n in range(250):  # three pages: pages 2 and 3 are read on the read threads
        emulator.add_asset("acme", "tool", release["id"], f"f{n}.bin", content=b"x")
    others = _read_threads()  # earlier tests' connections may still have theirs
    db = connect_to(emulator, max_concurrency=4, cache=False)
    sql = "SELECT count(*) FROM release_assets WHERE owner='acme' AND repo='tool' AND release_id=?"
    assert db.execute(sql, (release["id"],)).fetchall() == [(250,)]
    assert _read_threads() - others
    db.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _read_threads() - others:
        time.sleep(0.02)
    assert not _read_threads() - others
