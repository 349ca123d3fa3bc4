"""The cache stays small: entries unused for ``cache_max_age`` days are pruned, the file
has a cap of ``cache_max_size`` MB, least recently used first (sqlgh/github/cache_prune.py).

Days pass on an injected clock: a cache is opened as a connection opens it, used, and
closed, over real HTTP to the emulator."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import connect_to

from sqlgh.emulator import Emulator
from sqlgh.github import cache_prune
from sqlgh.github.cache import ResponseCache, cached_session, open_backend, wire_status
from sqlgh.github.cache_prune import DAY, Retention

T0 = 1_700_000_000.0


class Clock:
    """A wall clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _open(path: Path, clock: Clock, **limits: float) -> ResponseCache:
    backend = open_backend(path, retention=Retention(clock=clock, **limits))
    assert backend is not None
    return backend


def _visit(path: Path, clock: Clock, urls: list[str], **limits: float) -> list[int]:
    """Open the cache as a connection does, GET ``urls`` through it, close it: what GitHub
    answered each (304: revalidated from the cache)."""
    backend = _open(path, clock, **limits)
    session = cached_session(backend)
    try:
        return [wire_status(session.get(url, timeout=10)) for url in urls]
    finally:
        backend.close()


def _uses(path: Path) -> list[float]:
    """The last uses on record, oldest first."""
    with sqlite3.connect(path) as con:
        return [used for (used,) in con.execute("SELECT used FROM sqlgh_usage ORDER BY used")]


def _repos(emu: Emulator, count: int) -> list[str]:
    """The API URLs of ``count`` new repositories of organization acme."""
    emu.add_org("acme")
    names = [emu.add_repo("acme", f"r{number}")["name"] for number in range(count)]
    return [f"{emu.api_url}/repos/acme/{name}" for name in names]


def test_entries_unused_for_max_age_are_pruned_and_a_304_is_a_use(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Stored on day 0; A revalidated (304) on day 20; on day 40 B, unused for 40 days, is
    gone (asked without If-None-Match) and A is kept. The use of day 20 is written once,
    when the connection closes, not on each lookup."""
    a, b = _repos(emulator, 2)
    path, clock = tmp_path / "c.sqlite", Clock(T0)
    assert _visit(path, clock, [a, b]) == [200, 200]
    assert _uses(path) == [T0, T0]

    clock.now = T0 + 20 * DAY
    backend = _open(path, clock)
    assert wire_status(cached_session(backend).get(a, timeout=10)) == 304
    backend.flush()
    assert _uses(path) == [T0, T0]  # nothing written for a lookup
    backend.close()
    assert _uses(path) == [T0, T0 + 20 * DAY]

    clock.now = T0 + 40 * DAY
    _visit(path, clock, [])  # opening prunes (on the writer thread; closing waits for it)
    assert _uses(path) == [T0 + 20 * DAY]
    emulator.clear_log()
    assert _visit(path, clock, [a, b]) == [304, 200]
    assert ["if-none-match" in r.headers for r in emulator.log] == [True, False]


def test_max_age_zero_keeps_entries(emulator: Emulator, tmp_path: Path) -> None:
    (a,) = _repos(emulator, 1)
    path, clock = tmp_path / "c.sqlite", Clock(T0)
    _visit(path, clock, [a], max_age=0)
    clock.now = T0 + 400 * DAY
    assert _visit(path, clock, [a], max_age=0) == [304]


def test_a_prune_cut_short_by_its_budget_goes_on_at_the_next_open(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pruning is bounded in time: out of budget, it stops and stays due."""
    urls = _repos(emulator, 3)
    path, clock = tmp_path / "c.sqlite", Clock(T0)
    _visit(path, clock, urls)
    clock.now = T0 + 31 * DAY
    monkeypatch.setattr(cache_prune, "BUDGET", 0.0)
    _visit(path, clock, [])
    assert len(_uses(path)) == 3
    monkeypatch.undo()
    clock.now += 60  # a minute later: the prune is still due
    _visit(path, clock, [])
    assert _uses(path) == []


def _release_pages(emu: Emulator, releases: int) -> list[str]:
    """URLs of ``releases`` asset lists of 100 assets each (about 6 KB each, stored)."""
    emu.add_org("acme")
    emu.add_repo("acme", "tool")
    urls = []
    for number in range(releases):
        release = emu.add_release("acme", "tool", f"v{number}")["id"]
        for item in range(100):
            emu.add_asset("acme", "tool", release, f"f{number}-{item}.bin", content=b"%d" % item)
        urls.append(f"{emu.api_url}/repos/acme/tool/releases/{release}/assets?per_page=100")
    return urls


def _file_size(path: Path) -> int:
    with sqlite3.connect(path) as con:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        return pages * con.execute("PRAGMA page_size").fetchone()[0]


def test_the_size_cap_evicts_the_least_recently_used_first(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Six lists stored an hour apart, the first read again last: under a cap below the
    file's size the oldest uses go first, the file ends under the cap (rewritten when the
    connection closes), and the entry read last stays."""
    urls = _release_pages(emulator, 6)
    path, clock = tmp_path / "c.sqlite", Clock(T0)
    for hour, url in enumerate(urls):
        clock.now = T0 + hour * 3600
        assert _visit(path, clock, [url]) == [200]
    clock.now = T0 + 6 * 3600
    assert _visit(path, clock, [urls[0]]) == [304]
    cap = _file_size(path) - 8192

    clock.now = T0 + 7 * 3600
    _visit(path, clock, [], max_size=cap)
    assert path.stat().st_size <= cap

    statuses = dict(zip(urls, _visit(path, clock, urls), strict=True))
    oldest_first = [*urls[1:], urls[0]]
    evicted = [url for url in oldest_first if statuses[url] == 200]
    assert evicted and evicted == oldest_first[: len(evicted)], statuses
    assert statuses[urls[0]] == 304


def test_connect_options_keep_the_file_under_its_cap(emulator: Emulator, tmp_path: Path) -> None:
    """``cache_max_size`` (MB) and ``cache_max_age`` (days) reach the cache; a scan that
    stores more than the cap leaves a file under it when the connection closes."""
    _release_pages(emulator, 1)
    release = emulator.add_release("acme", "tool", "big")["id"]
    for item in range(600):
        emulator.add_asset("acme", "tool", release, f"big-{item}.bin", content=b"%d" % item)
    path = tmp_path / "c.sqlite"
    query = "SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool'"
    db = connect_to(emulator, cache_path=path, cache_max_size=0.064, cache_max_age=7)
    assert db.sqlgh.client.cache.retention.max_age == 7 * DAY
    assert db.sqlgh.client.cache.retention.max_size == 64_000
    assert db.execute(query).fetchone() == (700,)
    db.close()
    assert path.stat().st_size <= 64_000
    again = connect_to(emulator, cache_path=path, cache_max_size=0.064)
    assert again.execute(query).fetchone() == (700,)
    again.close()


@pytest.mark.parametrize("name", ["cache_max_age", "cache_max_size"])
@pytest.mark.parametrize("value", [-1, "30", True])
def test_retention_options_must_be_numbers(emulator: Emulator, name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"option {name} must be a number >= 0"):
        connect_to(emulator, **{name: value})


def test_pruning_at_open_is_off_the_query_path(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prune due when the connection opens runs on the cache's writer thread: the first
    query does not wait for it, and closing does."""
    _repos(emulator, 1)
    gate, pruning = threading.Event(), threading.Event()
    prune: Callable[..., object] = cache_prune.prune

    def held(*args: object, **kwargs: object) -> object:
        pruning.set()
        assert gate.wait(10), "the test never opened the gate"
        return prune(*args, **kwargs)

    monkeypatch.setattr(cache_prune, "prune", held)
    db = connect_to(emulator, cache_path=tmp_path / "c.sqlite")
    assert pruning.wait(10)
    rows = db.execute("SELECT name FROM repositories WHERE owner = 'acme'").fetchall()
    assert rows == [("r0",)] and not gate.is_set()
    threading.Timer(0.1, gate.set).start()
    db.close()
    assert gate.is_set()
