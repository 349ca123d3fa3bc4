"""Whole-owner access paths: ``release_assets`` and ``releases`` with only ``owner`` list
the owner's repositories, then each one's releases. Over real HTTP with the emulator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from conftest import connect_to
from helpers import paths
from test_progress import Recorder

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import RemoteError

ASSETS = "SELECT owner, repo, release_id, name FROM release_assets WHERE "
RELEASES = "SELECT owner, repo, tag_name FROM releases WHERE "
ACME_ASSETS = [  # (owner, repo, name) by name, in GitHub's spelling
    ("acme", "old", "old.bin"),
    ("acme", "Rocket", "rocket-1.tar.gz"),
    ("acme", "Rocket", "rocket-2.tar.gz"),
    ("acme", "Rocket", "rocket-2.zip"),
]


def seed_org(emu: Emulator) -> None:
    """acme: Rocket (2 releases, 3 assets), empty (no releases), old (archived, 1 release
    with 1 asset), secret (private, 1 release); user mona: dots (1 release), and the
    private vault (1 release)."""
    emu.add_org("acme")
    emu.add_repo("acme", "Rocket", created_at="2024-01-01T00:00:00Z")
    one = emu.add_release("acme", "Rocket", "v1", created_at="2024-01-02T00:00:00Z")["id"]
    two = emu.add_release("acme", "Rocket", "v2", created_at="2024-01-03T00:00:00Z")["id"]
    emu.add_asset("acme", "Rocket", one, "rocket-1.tar.gz", content=b"1")
    emu.add_asset("acme", "Rocket", two, "rocket-2.tar.gz", content=b"22")
    emu.add_asset("acme", "Rocket", two, "rocket-2.zip", content=b"222")
    emu.add_repo("acme", "empty", created_at="2024-02-01T00:00:00Z")
    emu.add_repo("acme", "old", archived=True, created_at="2024-03-01T00:00:00Z")
    old = emu.add_release("acme", "old", "v0")["id"]
    emu.add_asset("acme", "old", old, "old.bin", content=b"0")
    emu.add_repo("acme", "secret", private=True, created_at="2024-04-01T00:00:00Z")
    emu.add_release("acme", "secret", "s1")
    emu.add_user("mona")
    emu.add_repo("mona", "dots")
    dots = emu.add_release("mona", "dots", "d1")["id"]
    emu.add_asset("mona", "dots", dots, "dots.tar", content=b"d")
    emu.add_repo("mona", "vault", private=True)
    emu.add_release("mona", "vault", "x1")
    emu.clear_log()


def release_lists(emu: Emulator) -> Counter[str]:
    """How often each repository's release list was asked for."""
    return Counter(
        p.split("/")[3]
        for p in paths(emu)
        if p.startswith("GET /repos/") and p.endswith("/releases")
    )


def test_release_assets_of_a_whole_organization(emulator: Emulator) -> None:
    seed_org(emulator)
    db = connect_to(emulator)
    rows = db.execute(ASSETS + "owner = 'acme' ORDER BY name").fetchall()
    assert [(o, r, n) for o, r, _, n in rows] == ACME_ASSETS
    # one list of repositories, one release list per repository (the empty one included)
    assert paths(emulator)[0] == "GET /orgs/acme/repos"
    assert len(emulator.log) == 5
    assert release_lists(emulator) == Counter(Rocket=1, empty=1, old=1, secret=1)


def test_releases_of_a_whole_owner_in_githubs_spelling(emulator: Emulator) -> None:
    seed_org(emulator)
    db = connect_to(emulator)
    rows = db.execute(RELEASES + "owner = 'ACME' ORDER BY tag_name").fetchall()
    assert rows == [
        ("acme", "secret", "s1"),
        ("acme", "old", "v0"),
        ("acme", "Rocket", "v1"),
        ("acme", "Rocket", "v2"),
    ]
    assert len(emulator.log) == 5
    # the releases listed serve a join on release_id: no request per release
    emulator.clear_log()
    joined = db.execute(
        "SELECT l.tag_name, a.name FROM release_assets a JOIN releases l "
        "ON l.owner = a.owner AND l.repo = a.repo AND l.id = a.release_id "
        "WHERE a.owner = 'acme' ORDER BY a.name"
    ).fetchall()
    assert joined == [
        ("v0", "old.bin"),
        ("v1", "rocket-1.tar.gz"),
        ("v2", "rocket-2.tar.gz"),
        ("v2", "rocket-2.zip"),
    ]
    assert len(emulator.log) == 5
    assert release_lists(emulator) == Counter(Rocket=1, empty=1, old=1, secret=1)


def test_a_user_owner_lists_public_repositories(emulator: Emulator) -> None:
    seed_org(emulator)
    db = connect_to(emulator)  # the token is octocat's, not mona's
    rows = db.execute(ASSETS + "owner = 'mona'").fetchall()
    assert [(o, r, n) for o, r, _, n in rows] == [("mona", "dots", "dots.tar")]
    assert paths(emulator) == [
        "GET /orgs/mona/repos",  # 404: not an organization
        "GET /user",  # whose token is this? (once per connection)
        "GET /users/mona/repos",  # mona's public repositories
        "GET /repos/mona/dots/releases",
    ]
    emulator.clear_log()
    assert db.execute(RELEASES + "owner = 'mona'").fetchall() == [("mona", "dots", "d1")]
    assert paths(emulator) == [
        "GET /orgs/mona/repos",
        "GET /users/mona/repos",
        "GET /repos/mona/dots/releases",
    ]


@pytest.fixture
def as_mona() -> Iterator[Emulator]:
    """The organization and user of ``seed_org``, on an emulator whose token is mona's."""
    with Emulator(tokens={"mona-token": {"login": "mona"}}) as emu:
        seed_org(emu)
        yield emu


def test_the_tokens_own_account_lists_its_private_repositories(as_mona: Emulator) -> None:
    db = connect_to(as_mona, token="mona-token")
    rows = db.execute(RELEASES + "owner = 'Mona' ORDER BY tag_name").fetchall()
    assert rows == [("mona", "dots", "d1"), ("mona", "vault", "x1")]
    assert paths(as_mona)[:3] == ["GET /orgs/Mona/repos", "GET /user", "GET /user/repos"]
    assert release_lists(as_mona) == Counter(dots=1, vault=1)
    assert len(as_mona.log) == 5


def test_repositories_of_the_tokens_own_account_include_private_ones(as_mona: Emulator) -> None:
    db = connect_to(as_mona, token="mona-token")
    names = db.execute("SELECT name, private FROM repositories WHERE owner = 'mona' ORDER BY 1")
    assert names.fetchall() == [("dots", 0), ("vault", 1)]
    assert paths(as_mona) == ["GET /orgs/mona/repos", "GET /user", "GET /user/repos"]
    as_mona.clear_log()
    db.execute("SELECT name FROM repositories WHERE owner = 'mona'").fetchall()
    assert paths(as_mona) == ["GET /orgs/mona/repos", "GET /user/repos"]  # /user once


def test_private_repositories_only_with_a_token(emulator: Emulator) -> None:
    seed_org(emulator)
    anonymous = connect_to(emulator, token="")
    tags = anonymous.execute("SELECT tag_name FROM releases WHERE owner = 'acme' ORDER BY 1")
    assert tags.fetchall() == [("v0",), ("v1",), ("v2",)]
    assert release_lists(emulator) == Counter(Rocket=1, empty=1, old=1)
    assert len(emulator.log) == 4
    emulator.clear_log()
    assert anonymous.execute(RELEASES + "owner = 'mona'").fetchall() == [("mona", "dots", "d1")]
    assert "GET /user" not in paths(emulator)  # no token: no login to compare with
    assert release_lists(emulator) == Counter(dots=1)


def test_in_list_of_owners(emulator: Emulator) -> None:
    seed_org(emulator)
    db = connect_to(emulator)
    rows = db.execute(ASSETS + "owner IN ('mona', 'acme') ORDER BY name").fetchall()
    assert [(o, r, n) for o, r, _, n in rows] == [("mona", "dots", "dots.tar"), *ACME_ASSETS]
    assert release_lists(emulator) == Counter(Rocket=1, empty=1, old=1, secret=1, dots=1)
    # acme: 1 + 4; mona: /orgs (404), /user, /users, 1 release list
    assert len(emulator.log) == 9


def test_owner_and_repo_still_pick_the_repository(emulator: Emulator) -> None:
    seed_org(emulator)
    db = connect_to(emulator)
    rows = db.execute(ASSETS + "owner = 'acme' AND repo = 'Rocket'").fetchall()
    assert len(rows) == 3
    assert paths(emulator) == ["GET /repos/acme/Rocket/releases"]
    emulator.clear_log()
    assert db.execute(RELEASES + "owner = 'acme' AND repo IN ('old', 'empty')").fetchall() == [
        ("acme", "old", "v0")
    ]
    assert sorted(paths(emulator)) == [
        "GET /repos/acme/empty/releases",
        "GET /repos/acme/old/releases",
    ]


def test_a_join_from_repositories_filters_before_any_release_list(emulator: Emulator) -> None:
    """The planner keeps repositories outside: ``r.archived = 0`` drops the archived
    repository before its release list is asked for."""
    seed_org(emulator)
    db = connect_to(emulator)
    sql = (
        "SELECT a.repo, a.name FROM repositories r JOIN release_assets a "
        "ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = 'acme' AND r.archived = 0 "
        "ORDER BY a.name"
    )
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
    assert plan[0].startswith("SCAN r ") and plan[1].startswith("SCAN a ")
    assert db.execute(sql).fetchall() == [
        ("Rocket", "rocket-1.tar.gz"),
        ("Rocket", "rocket-2.tar.gz"),
        ("Rocket", "rocket-2.zip"),
    ]
    assert release_lists(emulator) == Counter(Rocket=1, empty=1, secret=1)
    assert len(emulator.log) == 4


def test_limit_stops_before_every_release_list(emulator: Emulator) -> None:
    emulator.add_org("big")
    for i in range(12):
        emulator.add_repo("big", f"r{i:02}")
        emulator.add_release("big", f"r{i:02}", "v1")
    emulator.clear_log()
    sequential = connect_to(emulator, max_concurrency=1)
    assert len(sequential.execute(RELEASES + "owner = 'big' LIMIT 1").fetchall()) == 1
    assert len(emulator.log) == 2  # the repository list, the first repository's releases
    emulator.clear_log()
    concurrent = connect_to(emulator, max_concurrency=3)
    assert len(concurrent.execute(RELEASES + "owner = 'big' LIMIT 1").fetchall()) == 1
    assert 2 <= len(emulator.log) <= 1 + 3  # at most max_concurrency release lists


def test_more_than_100_repositories_are_paged(emulator: Emulator) -> None:
    org_id = emulator.add_org("many")["id"]
    for i in range(103):
        emulator.add_repo("many", f"r{i:03}")
    emulator.add_release("many", "r102", "v1")
    emulator.clear_log()
    db = connect_to(emulator)
    assert db.execute(RELEASES + "owner = 'many'").fetchall() == [("many", "r102", "v1")]
    pages = [p for p in paths(emulator) if p.endswith("/repos")]
    assert pages == ["GET /orgs/many/repos", f"GET /organizations/{org_id}/repos"]  # 100, 3
    assert sorted(release_lists(emulator)) == [f"r{i:03}" for i in range(103)]
    assert len(emulator.log) == 2 + 103


def test_unknown_and_empty_owners(emulator: Emulator) -> None:
    emulator.add_org("void")
    db = connect_to(emulator)
    assert db.execute(ASSETS + "owner = 'void'").fetchall() == []
    assert paths(emulator) == ["GET /orgs/void/repos"]
    for table in ("release_assets", "releases"):
        with pytest.raises(RemoteError) as failure:
            db.execute(f"SELECT * FROM {table} WHERE owner = 'nobody'").fetchall()
        assert str(failure.value).startswith(
            f"{table}: owner nobody does not exist, or it is not visible to this token"
        )
    with pytest.raises(RemoteError, match=r"^repositories: owner nobody does not exist"):
        db.execute("SELECT * FROM repositories WHERE owner = 'nobody'").fetchall()


def test_a_listed_name_that_is_no_repository_stops_the_scan(emulator: Emulator) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool")

    def hostile(repositories: list) -> list:
        return [{**repositories[0], "name": ".."}]

    emulator.add_fault(Fault("rewrite_json", method="GET", path="/orgs/", rewrite=hostile))
    db = connect_to(emulator, cache=False)
    with pytest.raises(RemoteError) as failure:
        db.execute(RELEASES + "owner = 'acme'").fetchall()
    assert str(failure.value) == (
        "releases: the repository list of acme holds {'owner': 'acme', 'name': '..'}, which "
        "is not a GitHub repository; the scan stopped before asking for its releases"
    )
    assert paths(emulator) == ["GET /orgs/acme/repos"]


def test_a_progress_bar_counts_the_repositories(emulator: Emulator) -> None:
    seed_org(emulator)
    recorder = Recorder()
    db = connect_to(emulator, progress=recorder)
    db.execute(ASSETS + "owner = 'acme'").fetchall()
    assert recorder.bars == [
        {"total": 4, "desc": "release assets of acme", "unit": "repo", "done": 4, "closed": True}
    ]
    recorder.bars.clear()
    db.execute(RELEASES + "owner = 'acme' LIMIT 1").fetchall()
    assert [(b["total"], b["closed"]) for b in recorder.bars] == [(4, True)]
    assert recorder.bars[0]["done"] <= 1


def test_a_whole_owner_delete_reaches_every_repository(emulator: Emulator) -> None:
    seed_org(emulator)
    emulator.set_archived("acme", "old", False)  # GitHub refuses writes to an archived one
    db = connect_to(emulator)
    db.execute("DELETE FROM release_assets WHERE owner = 'ACME' AND name <> 'rocket-2.zip'")
    deletes = sorted(p.rsplit("/", 1)[0] for p in paths(emulator) if p.startswith("DELETE"))
    assert deletes == ["DELETE /repos/acme/Rocket/releases/assets"] * 2 + [
        "DELETE /repos/acme/old/releases/assets"
    ]
    left = db.execute("SELECT repo, name FROM release_assets WHERE owner = 'acme'").fetchall()
    assert left == [("Rocket", "rocket-2.zip")]
