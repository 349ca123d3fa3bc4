"""A statement keeps only what it still needs (issue 13, part 4): pages handed to SQLite
are released, a replayed inner table is kept only while small, the connection's memo is
bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator

import pytest
from conftest import connect_to

from sqlgh.emulator import Emulator
from sqlgh.fetches import REPLAY_ROWS
from sqlgh.tables.memo import REMEMBERED_ASSETS, Memo

REPOS, RELEASES, ASSETS = 36, 5, 20  # 3,600 assets


@pytest.fixture(scope="module")
def org() -> Iterator[Emulator]:
    with Emulator() as emu:
        emu.add_org("acme")
        for r in range(REPOS):
            emu.add_repo("acme", f"repo{r:02}")
            for k in range(RELEASES):
                release = emu.add_release("acme", f"repo{r:02}", f"v{k}")
                for a in range(ASSETS):
                    emu.add_asset("acme", f"repo{r:02}", release["id"], f"{k}-{a}.tgz", size=a + 1)
        yield emu


def _decoded_bytes() -> int:
    """Bytes alive that were allocated where the client decodes GitHub's JSON."""
    snapshot = tracemalloc.take_snapshot()
    decoded = snapshot.filter_traces([tracemalloc.Filter(True, "*/sqlgh/github/client.py")])
    return sum(stat.size for stat in decoded.statistics("filename"))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM release_assets WHERE owner = 'acme'"
        " AND repo IN (SELECT name FROM repositories WHERE owner = 'acme')",
        "SELECT a.* FROM repositories r JOIN release_assets a"
        " ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = 'acme'",
    ],
    ids=["IN", "JOIN"],
)
def test_a_scan_read_row_by_row_holds_a_bounded_number_of_pages(org: Emulator, sql: str) -> None:
    db = connect_to(org, cache=False)
    held: dict[int, int] = {}
    tracemalloc.start(1)
    try:
        for number, _ in enumerate(db.execute(sql), start=1):
            if number in (900, 3_500):
                held[number] = _decoded_bytes()
    finally:
        tracemalloc.stop()
    assert number == REPOS * RELEASES * ASSETS
    # Holding every page read so far, the second figure would be almost 4 times the first.
    assert held[3_500] < 1.5 * held[900], held


def _release_of(emu: Emulator, assets: int) -> None:
    emu.add_repo("octocat", "tool")
    release = emu.add_release("octocat", "tool", "v1")
    for a in range(assets):
        emu.add_asset("octocat", "tool", release["id"], f"{a}.bin", content=b"x")
    emu.clear_log()


REPLAYED = (
    "SELECT count(*) FROM json_each('[1, 2, 3]') j CROSS JOIN release_assets a"
    " WHERE a.owner = 'octocat' AND a.repo = 'tool'"
)


def test_a_small_inner_table_is_replayed_for_each_outer_row(emulator: Emulator) -> None:
    _release_of(emulator, 30)
    assert connect_to(emulator, cache=False).execute(REPLAYED).fetchall() == [(90,)]
    assert [r.path for r in emulator.log] == ["/repos/octocat/tool/releases"]


def test_a_large_inner_table_is_fetched_again_for_each_outer_row(emulator: Emulator) -> None:
    _release_of(emulator, REPLAY_ROWS + 10)  # more rows than a statement keeps for replays
    db = connect_to(emulator, cache=False)
    assert db.execute(REPLAYED).fetchall() == [(3 * (REPLAY_ROWS + 10),)]
    assert [r.path for r in emulator.log].count("/repos/octocat/tool/releases") == 3


def test_the_memo_keeps_a_bounded_number_of_asset_links() -> None:
    memo = Memo()
    for asset_id in range(1, 3 * REMEMBERED_ASSETS):
        memo.remember_asset(asset_id, 7)
    assert memo.release_of(3 * REMEMBERED_ASSETS - 1) == 7  # the latest are kept
    assert memo.release_of(1) is None
    assert len(memo._release_of_asset) <= REMEMBERED_ASSETS


def test_the_memo_bound_holds_for_pages_of_assets() -> None:
    """Pages (and embedded arrays) are linked in one update each; the bound still holds,
    even for one page larger than it."""
    memo = Memo()
    for start in range(1, 3 * REMEMBERED_ASSETS, 100):
        memo.remember_assets([{"id": n} for n in range(start, start + 100)], 7)
    memo.remember_release("o", "r", {"id": 8, "assets": [{"id": 0}, {"id": "x"}, "x"]})
    assert memo.release_of(0) == 8 and memo.release_of(3 * REMEMBERED_ASSETS - 1) == 7
    assert memo.release_of(1) is None
    assert len(memo._release_of_asset) <= REMEMBERED_ASSETS
    memo.remember_assets([{"id": n} for n in range(2 * REMEMBERED_ASSETS + 1)], 9)
    assert len(memo._release_of_asset) <= REMEMBERED_ASSETS
    assert memo.release_of(2 * REMEMBERED_ASSETS) == 9


GLIBC = (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
# Eight threads started after connect() malloc at once; glibc's malloc_stats() then lists
# the heaps (arenas) on standard error, one "Arena N:" line each (sqlgh/allocator.py).
ARENAS_AFTER_CONNECT = """
import ctypes, threading, sqlgh
sqlgh.connect(api_url="http://127.0.0.1:9", token="t", cache=False).close()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
barrier = threading.Barrier(8)
def grab():
    barrier.wait()
    libc.malloc(1 << 16)
threads = [threading.Thread(target=grab) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.malloc_stats()
"""


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_threads_started_after_connect_share_two_heaps() -> None:
    """With a heap per read thread, the join inventory over 120,000 assets peaked 63.5-64.8
    MiB above its start; with two heaps, 37.2-39.7 MiB (docs/performance.md)."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))
    }
    result = subprocess.run(
        [sys.executable, "-c", ARENAS_AFTER_CONNECT],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=True,
    )
    heaps = [line for line in result.stderr.splitlines() if line.startswith("Arena ")]
    assert len(heaps) == 2, result.stderr
