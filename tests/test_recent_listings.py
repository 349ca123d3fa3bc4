"""Lookups answered from what an earlier statement of the connection listed (issue 13,
part 2): a release by id or tag, or a repository by name, right after a statement listed
them, costs no request while the listing is fresh (GitHub's ``max-age=60``), and never
after this connection wrote anything."""

from __future__ import annotations

import apsw
import pytest
import requests
from conftest import TOKEN, connect_to
from helpers import Acme, paths, seed_acme

from sqlgh.emulator import Emulator
from sqlgh.tables import memo, recent_listings

LIST = "SELECT id, tag_name FROM releases WHERE owner = 'acme' AND repo = 'tool'"
BY_ID = "SELECT id, name FROM releases WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
BY_TAG = "SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool' AND tag_name = ?"
COUNT = (
    "SELECT assets_count, assets ->> '$[0].label' FROM releases"
    " WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
)
REPOS = "SELECT name FROM repositories WHERE owner = 'acme'"
REPO = "SELECT name, description FROM repositories WHERE owner = 'acme' AND name = ?"


@pytest.fixture
def seeded(emulator: Emulator) -> tuple[Acme, int]:
    """acme/tool (helpers.seed_acme) with a draft of tag v3.0.0 too, and the draft's id."""
    acme = seed_acme(emulator)
    draft = emulator.add_release("acme", "tool", "v3.0.0", draft=True)["id"]
    emulator.clear_log()
    return acme, draft


@pytest.fixture
def acme(seeded: tuple[Acme, int]) -> Acme:
    return seeded[0]


def _listed(db: apsw.Connection, emu: Emulator) -> None:
    """Run the listing statement, then forget its requests."""
    assert db.execute(LIST).fetchall()
    emu.clear_log()


def test_lookups_right_after_a_listing_cost_no_request(seeded: tuple[Acme, int]) -> None:
    acme, draft = seeded
    emu = acme.emu
    db = connect_to(emu)
    _listed(db, emu)
    assert db.execute(BY_ID, (acme.new,)).fetchall() == [(acme.new, "One one")]
    assert db.execute(BY_TAG, ("v1.0.0",)).fetchall() == [(acme.old,)]
    assert db.execute(BY_TAG, ("v3.0.0",)).fetchall() == [(draft,)]
    assert paths(emu) == []
    # What the listing does not hold is asked of GitHub (it may be newer than the list).
    assert db.execute(BY_TAG, ("v9",)).fetchall() == []
    assert "GET /repos/acme/tool/releases/tags/v9" in paths(emu)


def test_a_repository_by_name_after_its_owners_listing_costs_no_request(acme: Acme) -> None:
    db = connect_to(acme.emu)
    assert len(db.execute(REPOS).fetchall()) == 3
    acme.emu.clear_log()
    assert db.execute(REPO, ("TOOL",)).fetchall() == [("tool", "The tool")]
    assert paths(acme.emu) == []


def test_past_max_age_a_lookup_asks_github(acme: Acme, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recent_listings, "MAX_AGE", 0.0)
    db = connect_to(acme.emu)
    _listed(db, acme.emu)
    assert db.execute(BY_ID, (acme.new,)).fetchall() == [(acme.new, "One one")]
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]


def test_the_option_off_asks_github_for_every_lookup(acme: Acme) -> None:
    db = connect_to(acme.emu, reuse_listings=False)
    _listed(db, acme.emu)
    requests.patch(
        f"{acme.emu.api_url}/repos/acme/tool/releases/{acme.new}",
        json={"name": "Theirs"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    ).raise_for_status()
    assert db.execute(BY_ID, (acme.new,)).fetchall() == [(acme.new, "Theirs")]
    assert paths(acme.emu)[-1] == f"GET /repos/acme/tool/releases/{acme.new}"


def test_the_option_takes_only_true_or_false(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="reuse_listings must be true or false, not 'no'"):
        connect_to(emulator, reuse_listings="no")


# a write is never followed by a stale read ------------------------------------------------


WHERE_ID = "WHERE owner = 'acme' AND repo = 'tool' AND id = ?"


def _release_writes(acme: Acme) -> list[tuple[str, tuple, str, tuple, list]]:
    """(write, its bindings, read, its bindings, what the read must give after the write)."""
    new, old = acme.new, acme.old
    return [
        (f"UPDATE releases SET name = 'New' {WHERE_ID}", (new,), BY_ID, (new,), [(new, "New")]),
        (f"DELETE FROM releases {WHERE_ID}", (old,), BY_ID, (old,), []),
        (f"UPDATE releases SET tag_name = 'v1.0.1' {WHERE_ID}", (old,), BY_TAG, ("v1.0.0",), []),
    ]


@pytest.mark.parametrize("case", range(3), ids=["update", "delete", "retag"])
def test_a_release_write_is_never_followed_by_a_stale_read(acme: Acme, case: int) -> None:
    write, bindings, read, keys, expected = _release_writes(acme)[case]
    db = connect_to(acme.emu)
    _listed(db, acme.emu)
    assert db.execute(read, keys).fetchall() != expected  # served from the listing
    db.execute(write, bindings)
    assert db.execute(read, keys).fetchall() == expected


def test_a_new_release_is_found_by_tag_after_a_listing(acme: Acme) -> None:
    db = connect_to(acme.emu)
    _listed(db, acme.emu)
    db.execute("INSERT INTO releases(owner, repo, tag_name) VALUES ('acme', 'tool', 'v4')")
    assert len(db.execute(BY_TAG, ("v4",)).fetchall()) == 1


ASSET_WRITES = {
    "insert": (
        "INSERT INTO release_assets(owner, repo, release_id, name, data)"
        " VALUES ('acme', 'tool', :release, 'new.txt', x'01')",
        4,
    ),
    "update": (
        "UPDATE release_assets SET label = 'Changed'"
        " WHERE owner = 'acme' AND repo = 'tool' AND release_id = :release",
        3,
    ),
    "delete": (
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = :asset",
        2,
    ),
}


@pytest.mark.parametrize("kind", ASSET_WRITES)
def test_an_asset_write_is_never_followed_by_a_stale_read(acme: Acme, kind: str) -> None:
    """A release's embedded assets as a lookup by id shows them, right after an upload, an
    edit or a delete of one of its assets."""
    write, count = ASSET_WRITES[kind]
    db = connect_to(acme.emu)
    _listed(db, acme.emu)
    assert db.execute(COUNT, (acme.new,)).fetchall() == [(3, "Linux")]
    assert paths(acme.emu) == []  # served from the listing
    db.execute(write, {"release": acme.new, "asset": acme.notes["id"]})
    (assets, label), = db.execute(COUNT, (acme.new,)).fetchall()
    assert assets == count
    assert label == ("Changed" if kind == "update" else "Linux")


def test_a_writing_statement_reads_its_rows_from_github(acme: Acme) -> None:
    """A DELETE right after a listing reads the release from GitHub, not from the listing:
    another client deleted it meanwhile, so this one deletes nothing."""
    db = connect_to(acme.emu)
    _listed(db, acme.emu)
    requests.delete(
        f"{acme.emu.api_url}/repos/acme/tool/releases/{acme.old}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    ).raise_for_status()
    acme.emu.clear_log()
    db.execute(f"DELETE FROM releases {WHERE_ID}", (acme.old,))
    assert db.changes() == 0
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.old}"]


# bounds ------------------------------------------------------------------------------------


def test_a_listing_longer_than_the_bound_is_not_kept(
    acme: Acme, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept listings hold at most KEPT_ROWS rows (a release with its embedded assets): a
    longer one is not kept, and a newer one pushes the oldest out."""
    monkeypatch.setattr(memo, "KEPT_ROWS", 6)
    monkeypatch.setattr(recent_listings, "KEPT_ROWS", 6)
    db = connect_to(acme.emu)
    _listed(db, acme.emu)  # 4 releases, 4 assets: 8 rows
    assert db.execute(BY_ID, (acme.new,)).fetchall() == [(acme.new, "One one")]
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]
    monkeypatch.setattr(recent_listings, "KEPT_ROWS", 9)
    monkeypatch.setattr(memo, "KEPT_ROWS", 9)
    _listed(db, acme.emu)  # kept
    assert len(db.execute(REPOS).fetchall()) == 3  # 3 rows more: the releases go
    acme.emu.clear_log()
    assert db.execute(REPO, ("tool",)).fetchall() == [("tool", "The tool")]
    assert db.execute(BY_ID, (acme.new,)).fetchall() == [(acme.new, "One one")]
    assert paths(acme.emu) == [f"GET /repos/acme/tool/releases/{acme.new}"]


def test_a_list_cut_at_githubs_listing_cap_is_not_taken_as_whole(acme: Acme) -> None:
    """Past the cap a tag's drafts may hide: a draft's tag is asked of GitHub."""
    acme.emu.listing_cap = 2
    db = connect_to(acme.emu, per_page=1)
    db.execute(
        "SELECT l.id, p.id FROM releases l JOIN releases p ON p.owner = l.owner"
        " AND p.repo = l.repo AND p.tag_name = 'v3.0.0'"
        " WHERE l.owner = 'acme' AND l.repo = 'tool'"
    ).fetchall()
    assert "GET /repos/acme/tool/releases/tags/v3.0.0" in paths(acme.emu)
