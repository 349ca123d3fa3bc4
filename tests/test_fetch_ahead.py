"""Fetches across joins (issue 13): every spelling of an org-wide query runs its requests
concurrently, guesses SQLite never uses cost at most ``max_concurrency`` requests, and
what a statement listed serves its lookups by id, tag and name."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import connect_to
from helpers import paths

from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import seed_demo
from sqlgh.emulator.faults import Fault
from sqlgh.errors import InputError
from sqlgh.fetches import StatementFetches
from sqlgh.tables import release_assets
from sqlgh.vtab import Cursor

QUERIES = Path(__file__).resolve().parent.parent / "queries"
REPOS_OF_ACME = "SELECT name FROM repositories WHERE owner = 'acme'"

SPELLINGS = {
    "repositories JOIN release_assets": (
        "SELECT r.name, a.release_id, a.id, a.name, a.size FROM repositories r "
        "JOIN release_assets a ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = 'acme'"
    ),
    "release_assets JOIN releases by id, repo IN (SELECT ...)": (
        "SELECT a.repo, l.tag_name, a.id, a.name FROM release_assets a JOIN releases l"
        " ON l.owner = a.owner AND l.repo = a.repo AND l.id = a.release_id"
        f" WHERE a.owner = 'acme' AND a.repo IN ({REPOS_OF_ACME})"
    ),
    "repo IN (SELECT ...)": (
        f"SELECT * FROM release_assets WHERE owner = 'acme' AND repo IN ({REPOS_OF_ACME})"
    ),
    "correlated subquery": (
        "SELECT r.name, (SELECT count(*) FROM release_assets a"
        " WHERE a.owner = r.owner AND a.repo = r.name) FROM repositories r WHERE r.owner = 'acme'"
    ),
    "CTE": (
        "WITH repos AS (SELECT owner, name FROM repositories WHERE owner = 'acme')"
        " SELECT repos.name, l.tag_name FROM repos"
        " JOIN releases l ON l.owner = repos.owner AND l.repo = repos.name"
    ),
    **{
        f"queries/{name}.sql": (QUERIES / f"{name}.sql").read_text()
        for name in (
            "inventory",
            "largest_assets",
            "missing_checksums",
            "org_storage",
            "stale_uploads",
            "top_downloads",
        )
    },
}


class InFlight:
    """Holds each request ``hold`` seconds on the emulator and counts how many were held
    at once (a ``meanwhile`` fault runs it on each request's own thread)."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.hold)
        with self._lock:
            self.now -= 1


@pytest.fixture(scope="module")
def demo_emu() -> Iterator[Emulator]:
    """The demo organizations (acme has 12 repositories, each with releases)."""
    with Emulator() as emu:
        seed_demo(emu)
        yield emu


@pytest.fixture
def flight(demo_emu: Emulator) -> Iterator[InFlight]:
    held = InFlight(0.03)
    demo_emu.add_fault(Fault("meanwhile", times=-1, call=held))
    demo_emu.clear_log()
    yield held
    demo_emu.clear_faults()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_runs_its_requests_concurrently(
    demo_emu: Emulator, spelling: str
) -> None:
    sql = SPELLINGS[spelling]
    loop = connect_to(demo_emu, max_concurrency=1, cache=False)
    demo_emu.clear_log()
    expected = loop.execute(sql).fetchall()
    sequential_requests = len(demo_emu.log)
    held = InFlight(0.03)
    demo_emu.add_fault(Fault("meanwhile", times=-1, call=held))
    try:
        demo_emu.clear_log()
        rows = connect_to(demo_emu, max_concurrency=8, cache=False).execute(sql).fetchall()
    finally:
        demo_emu.clear_faults()
    assert sorted(rows, key=repr) == sorted(expected, key=repr)
    assert len(demo_emu.log) == sequential_requests  # no more requests than the loop
    assert held.peak >= 4, f"at most {held.peak} request(s) at once"


def _wide_org(emu: Emulator, repos: int, archived: bool = False) -> None:
    emu.add_org("wide")
    for r in range(repos):
        emu.add_repo("wide", f"r{r:02}", archived=archived and r % 2 == 1)
        release = emu.add_release("wide", f"r{r:02}", "v1")
        emu.add_asset("wide", f"r{r:02}", release["id"], "a.bin", content=b"a")
    emu.clear_log()


JOIN_WIDE = (
    "SELECT r.name, a.name FROM repositories r JOIN release_assets a"
    " ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = 'wide'"
)


def _long_releases(emu: Emulator, repos: tuple[str, ...], releases: int) -> None:
    """Organization long: each repository with ``releases`` releases of 100 assets (each
    release's embedded array is checked by one request to its asset list)."""
    emu.add_org("long")
    for repo in repos:
        emu.add_repo("long", repo)
        for k in range(releases):
            release = emu.add_release("long", repo, f"v{k}")["id"]
            for a in range(100):
                emu.add_asset("long", repo, release, f"a{a}.bin", size=1)
    emu.clear_log()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT name FROM release_assets WHERE owner = 'long' AND repo IN ('one', 'two')",
        "SELECT name FROM release_assets WHERE owner = 'long'",
        "SELECT a.name FROM repositories r JOIN release_assets a"
        " ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = 'long'",
    ],
    ids=["IN list", "whole owner", "join"],
)
def test_a_repository_fetched_ahead_checks_its_long_releases_concurrently(
    emulator: Emulator, sql: str
) -> None:
    """The second repository is started on a read thread, ahead of SQLite; its other
    releases' checks then run concurrently, not one after another in the reader's thread
    (where they used to run as the read thread had chosen: sequentially)."""
    _long_releases(emulator, ("one", "two"), 4)
    held = InFlight(0.05)
    emulator.add_fault(
        Fault("meanwhile", path=r"^/repos/long/two/releases/\d+/assets", times=-1, call=held)
    )
    rows = connect_to(emulator, cache=False).execute(sql).fetchall()
    assert len(rows) == 2 * 4 * 100
    assert len([p for p in paths(emulator) if "/two/releases/" in p]) == 4  # one check each
    assert held.peak >= 2, f"at most {held.peak} check(s) of repository two at once"


@pytest.mark.parametrize(
    "where", ["owner = 'long' AND repo = 'one'", "owner = 'long'"], ids=["repo", "whole owner"]
)
def test_releases_whose_embedded_assets_need_no_request_stay_on_the_readers_thread(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A release of fewer than 100 assets is read from its embedded array: sending it to a
    read thread and back cost more CPU than reading it (4,000 releases at 200
    repositories); the long ones are still checked there, concurrently."""
    emulator.add_org("long")
    emulator.add_repo("long", "one")
    for k in range(3):  # listed after the long ones (newest first)
        short = emulator.add_release("long", "one", f"short{k}")["id"]
        emulator.add_asset("long", "one", short, "s.bin", size=1)
    for k in range(3):
        release = emulator.add_release("long", "one", f"v{k}")["id"]
        for a in range(100):
            emulator.add_asset("long", "one", release, f"a{a}.bin", size=1)
    emulator.clear_log()
    threads: dict[str, set[str]] = {}
    assets_of = release_assets._assets_of

    def recorded(api: object, facts: object, owner: str, repo: str, listed: tuple) -> object:
        threads.setdefault(listed[1]["tag_name"], set()).add(threading.current_thread().name)
        return assets_of(api, facts, owner, repo, listed)  # type: ignore[arg-type]

    monkeypatch.setattr(release_assets, "_assets_of", recorded)
    held = InFlight(0.05)
    emulator.add_fault(Fault("meanwhile", path=r"/releases/\d+/assets", times=-1, call=held))
    db = connect_to(emulator, cache=False)
    assert len(db.execute(f"SELECT name FROM release_assets WHERE {where}").fetchall()) == 303
    main = threading.current_thread().name
    assert {tag: names for tag, names in threads.items() if tag.startswith("short")} == {
        f"short{k}": {main} for k in range(3)
    }
    # the long releases' checks at once (but the first's, in a fetch started ahead)
    assert held.peak >= 2


def test_a_join_starts_as_many_fetches_ahead_as_max_concurrency(emulator: Emulator) -> None:
    # The key SQLite asks for next has most often been fetched ahead already: a window of
    # max_concurrency - 1 left one request slot idle while SQLite read its rows.
    _wide_org(emulator, 30)
    for concurrency, window in ((4, 4), (2, 2), (1, 0)):
        db = connect_to(emulator, max_concurrency=concurrency, cache=False)
        rows = db.execute(JOIN_WIDE)
        assert next(rows)[1] == "a.bin"
        assert len(db.sqlgh.statement.fetches._ahead) == window, concurrency
        rows.close()
        db.close()


def test_a_limit_wastes_at_most_max_concurrency_requests(emulator: Emulator) -> None:
    _wide_org(emulator, 30)
    db = connect_to(emulator, max_concurrency=4, cache=False)
    ((repo, _),) = db.execute(JOIN_WIDE + " LIMIT 1").fetchall()
    needed = ["GET /orgs/wide/repos", f"GET /repos/wide/{repo}/releases"]
    assert set(needed) <= set(paths(emulator))
    assert len(emulator.log) <= len(needed) + 4


def test_a_where_on_the_outer_rows_wastes_at_most_max_concurrency_requests(
    emulator: Emulator,
) -> None:
    _wide_org(emulator, 40, archived=True)  # every other repository is archived
    db = connect_to(emulator, max_concurrency=4, cache=False)
    rows = db.execute(JOIN_WIDE + " AND NOT r.archived").fetchall()
    assert sorted(rows) == [(f"r{r:02}", "a.bin") for r in range(0, 40, 2)]
    assert len(emulator.log) <= 1 + 20 + 4


def test_an_equality_on_the_outer_rows_is_guessed_around(emulator: Emulator) -> None:
    _wide_org(emulator, 40, archived=True)
    held = InFlight(0.03)
    emulator.add_fault(Fault("meanwhile", times=-1, call=held))
    db = connect_to(emulator, max_concurrency=4, cache=False)
    rows = db.execute(JOIN_WIDE + " AND r.archived = 0").fetchall()
    assert sorted(rows) == [(f"r{r:02}", "a.bin") for r in range(0, 40, 2)]
    # SQLite tests archived = 0 itself; sqlgh guesses only the repositories that pass.
    assert len(emulator.log) == 1 + 20
    assert held.peak >= 3


def test_fetches_not_started_are_cancelled_when_the_statement_ends(
    emulator: Emulator,
) -> None:
    _wide_org(emulator, 10)
    db = connect_to(emulator, max_concurrency=4, cache=False)
    # Every read thread is busy: what the statement starts ahead waits in the queue.
    release = threading.Event()
    busy = [db.sqlgh.client.submit(release.wait, 5) for _ in range(4)]
    sql = (
        "SELECT r.name, l.tag_name FROM repositories r JOIN releases l"
        " ON l.owner = r.owner AND l.repo = r.name WHERE r.owner = 'wide' LIMIT 1"
    )
    ((repo, _),) = db.execute(sql).fetchall()
    release.set()
    for task in busy:
        task.result()
    time.sleep(0.2)  # a queued fetch would run now
    assert paths(emulator) == ["GET /orgs/wide/repos", f"GET /repos/wide/{repo}/releases"]


def test_no_guess_for_a_unique_lookup(emulator: Emulator) -> None:
    _wide_org(emulator, 10)
    db = connect_to(emulator, cache=False)
    sql = (
        "SELECT r.name, l.tag_name FROM repositories r JOIN latest_releases l"
        " ON l.owner = r.owner AND l.repo = r.name WHERE r.owner = 'wide' LIMIT 1"
    )
    ((repo, _),) = db.execute(sql).fetchall()
    assert paths(emulator) == ["GET /orgs/wide/repos", f"GET /repos/wide/{repo}/releases/latest"]


def test_no_guess_for_an_updates_target(emulator: Emulator) -> None:
    _wide_org(emulator, 10)
    held = InFlight(0.02)
    emulator.add_fault(Fault("meanwhile", path="/releases$", times=-1, call=held))
    db = connect_to(emulator, cache=False)
    # SQLite reads the repositories, then release_assets (the target) for each of them.
    db.execute(
        "UPDATE release_assets SET label = 'seen' FROM repositories r"
        " WHERE release_assets.owner = r.owner AND release_assets.repo = r.name"
        " AND r.owner = 'wide' AND r.name IN ('r00', 'r01', 'r02')"
    )
    assert held.peak == 1
    assert [r.method for r in emulator.log].count("PATCH") == 3


# lookups served from what the statement listed ------------------------------------------


def test_releases_by_id_joined_to_listed_assets_cost_no_request(demo_emu: Emulator) -> None:
    sql = SPELLINGS["release_assets JOIN releases by id, repo IN (SELECT ...)"]
    db = connect_to(demo_emu, cache=False)
    demo_emu.clear_log()
    rows = db.execute(sql).fetchall()
    assert rows
    listed = [p for p in paths(demo_emu) if p.endswith("/releases") or p.endswith("/repos")]
    assert len(listed) == 1 + len(db.execute(REPOS_OF_ACME).fetchall())
    # Besides the lists, only the checks of long embedded asset arrays; no release by id.
    assert all(p.endswith("/assets") for p in paths(demo_emu) if p not in listed)


def test_an_inner_lookup_filtered_again_with_the_same_keys_checks_them_once(
    demo_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite filters ``releases`` by id once per asset row, mostly with the keys of the
    row before: they are checked once (at 120,000 assets, 5 us a row, issue 13)."""
    sql = SPELLINGS["release_assets JOIN releases by id, repo IN (SELECT ...)"]
    db = connect_to(demo_emu, cache=False)
    checked: list[tuple[str, tuple]] = []
    key_tuples = Cursor._key_tuples

    def counted(self: Cursor, plan: object, args: tuple) -> list:
        checked.append((self.table.name, args))
        return key_tuples(self, plan, args)  # type: ignore[arg-type]

    monkeypatch.setattr(Cursor, "_key_tuples", counted)
    rows = db.execute(sql).fetchall()
    assets = db.execute(SPELLINGS["repo IN (SELECT ...)"]).fetchall()
    lookups = [args for table, args in checked if table == "releases"]
    releases = {(row[1], row[2]) for row in assets}  # (repo, release_id)
    assert len(rows) == len(assets) > len(releases) >= 2
    assert len(lookups) == len(set(lookups)) == len(releases)


def test_a_unique_lookup_asked_again_with_the_same_keys_is_served_its_row_again(
    demo_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``releases`` by id is filtered once per asset row; the statement's fetches are asked
    once per run of equal keys, the rows after it get the same row back (at 120,000 assets,
    2.97 -> 2.35 s of client CPU, issue 13)."""
    sql = SPELLINGS["release_assets JOIN releases by id, repo IN (SELECT ...)"]
    db = connect_to(demo_emu, cache=False)
    asked: list[str] = []
    scan = StatementFetches.scan

    def counted(self: StatementFetches, reader: Cursor, *args: Any) -> Iterator[Any]:
        asked.append(reader.table.name)
        return scan(self, reader, *args)

    monkeypatch.setattr(StatementFetches, "scan", counted)
    rows = db.execute(sql).fetchall()
    lookups = asked.count("releases")
    monkeypatch.undo()
    assets = db.execute(SPELLINGS["repo IN (SELECT ...)"]).fetchall()
    releases = db.execute(
        "SELECT repo, id, tag_name FROM releases"
        f" WHERE owner = 'acme' AND repo IN ({REPOS_OF_ACME})"
    ).fetchall()
    tags = {(repo, release_id): tag for repo, release_id, tag in releases}
    joined = [(a[1], tags[a[1], a[2]], a[3], a[4]) for a in assets if (a[1], a[2]) in tags]
    assert rows == joined
    assert len(rows) > len(tags) >= 2
    assert lookups == len({(a[1], a[2]) for a in assets})


def test_a_unique_lookup_served_again_tells_an_integer_key_from_a_real_one(
    emulator: Emulator,
) -> None:
    """1.0 equals 1 in SQL, but it is no id: the row of the integer is not served for it."""
    emulator.add_repo("octocat", "tool")
    release = emulator.add_release("octocat", "tool", "v1")["id"]
    db = connect_to(emulator, cache=False)
    sql = (
        "SELECT l.tag_name FROM (SELECT ? AS v UNION ALL SELECT ? UNION ALL SELECT ?) k"
        " JOIN releases l ON l.owner = 'octocat' AND l.repo = 'tool' AND l.id = k.v"
    )
    assert db.execute(sql, (release, release, release)).fetchall() == [("v1",)] * 3
    with pytest.raises(InputError, match=r"^releases\.id: .* is not an integer id"):
        db.execute(sql, (release, release, float(release))).fetchall()
    # a key asked again after another one (which GitHub has not): its row again
    assert db.execute(sql, (release, release + 1, release)).fetchall() == [("v1",)] * 2


def test_a_repository_by_name_is_served_from_the_statements_listing(
    demo_emu: Emulator,
) -> None:
    db = connect_to(demo_emu, cache=False)
    demo_emu.clear_log()
    rows = db.execute(
        "SELECT a.repo, r.archived FROM release_assets a JOIN repositories r"
        " ON r.owner = a.owner AND r.name = a.repo"
        f" WHERE a.owner = 'acme' AND a.repo IN ({REPOS_OF_ACME})"
    ).fetchall()
    assert {repo for repo, _ in rows} <= {name for (name,) in db.execute(REPOS_OF_ACME)}
    assert not [p for p in paths(demo_emu) if p.startswith("GET /repos/") and p.count("/") == 3]


def test_a_release_by_tag_is_served_from_the_statements_listing(emulator: Emulator) -> None:
    emulator.add_repo("octocat", "tool")
    emulator.add_release("octocat", "tool", "v1")
    emulator.add_release("octocat", "tool", "v2")
    draft = emulator.add_release("octocat", "tool", "v3", draft=True)
    db = connect_to(emulator, cache=False)
    emulator.clear_log()
    sql = (
        "SELECT l.tag_name, p.id FROM releases l CROSS JOIN releases p"
        " ON p.owner = l.owner AND p.repo = l.repo AND p.tag_name = ?"
        " WHERE l.owner = 'octocat' AND l.repo = 'tool'"
    )
    published = db.execute(sql, ("v1",)).fetchall()
    assert sorted(tag for tag, _ in published) == ["v1", "v2", "v3"]
    assert paths(emulator) == ["GET /repos/octocat/tool/releases"]
    # A draft's tag, and a tag no release has, are answered from the whole list too (no
    # 404 of GitHub's by-tag lookup, then the list again, as before).
    emulator.clear_log()
    assert {i for _, i in db.execute(sql, ("v3",))} == {draft["id"]}
    assert db.execute(sql, ("v9",)).fetchall() == []
    assert paths(emulator) == ["GET /repos/octocat/tool/releases"] * 2
