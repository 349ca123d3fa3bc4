"""Owner and repository names come back as GitHub spells them; a self-join on one release
lists it once."""

from __future__ import annotations

import apsw
import pytest
from conftest import connect_to
from helpers import Acme, paths, seed_acme

from sqlgh.emulator import Emulator


def test_asset_rows_carry_github_spelling_so_group_by_does_not_split(
    acme: Acme, db: apsw.Connection
) -> None:
    rows = db.execute(
        "SELECT owner, repo, count(*) FROM release_assets "
        "WHERE owner IN ('ACME', 'acme') AND repo IN ('Tool', 'tool') GROUP BY owner, repo"
    ).fetchall()
    # An IN list tests membership: the four spellings name one repository, fetched once,
    # whose 4 assets come once each (before: 16 rows, each asset four times).
    assert rows == [("acme", "tool", 4)]
    assert paths(acme.emu) == ["GET /repos/ACME/Tool/releases"]


@pytest.mark.parametrize(
    ("sql", "count"),
    [
        ("SELECT count(*) FROM releases WHERE owner = 'acme' AND repo IN ('tool', 'TOOL')", 3),
        ("SELECT count(*) FROM repositories WHERE owner IN ('acme', 'ACME')", 3),
    ],
)
def test_an_in_list_naming_one_repository_in_two_spellings_gives_its_rows_once(
    acme: Acme, db: apsw.Connection, sql: str, count: int
) -> None:
    assert db.execute(sql).fetchone() == (count,)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DISTINCT owner, repo FROM release_assets WHERE owner = 'ACME' AND repo = 'Tool'",
        "SELECT owner, repo FROM release_assets WHERE owner = 'ACME' AND repo = 'Tool' "
        "AND release_id = {new}",
        "SELECT owner, repo FROM release_assets WHERE owner = 'ACME' AND repo = 'Tool' "
        "AND id = {tar}",
        "SELECT DISTINCT owner, repo FROM releases WHERE owner = 'ACME' AND repo = 'TOOL'",
        "SELECT owner, repo FROM releases WHERE owner = 'ACME' AND repo = 'TOOL' AND id = {new}",
        "SELECT owner, repo FROM releases WHERE owner = 'Acme' AND repo = 'TOOL' "
        "AND tag_name = 'v1.1.0'",
        "SELECT owner, repo FROM latest_releases WHERE owner = 'ACME' AND repo = 'TOOL'",
        "SELECT owner, name FROM repositories WHERE owner = 'ACME' AND name = 'tool'",
        "SELECT DISTINCT owner, 'tool' FROM repositories WHERE owner = 'ACME'",
    ],
)
def test_every_table_gives_the_stored_spelling(acme: Acme, db: apsw.Connection, sql: str) -> None:
    rows = set(db.execute(sql.format(new=acme.new, tar=acme.tar["id"])).fetchall())
    assert rows == {("acme", "tool")}


def test_a_renamed_repository_keeps_the_name_the_query_gave(emulator: Emulator) -> None:
    seed_acme(emulator)
    emulator.rename_repo("acme", "tool", "Gadget")
    db = connect_to(emulator)
    sql = "SELECT owner, repo FROM releases WHERE owner = 'acme' AND repo = 'tool'"
    rows = set(db.execute(sql))
    assert rows == {("acme", "tool")}


def test_a_renamed_repository_still_gets_its_owner_as_github_spells_it(
    emulator: Emulator,
) -> None:
    seed_acme(emulator)
    emulator.rename_repo("acme", "tool", "gadget")
    db = connect_to(emulator)
    sql = "SELECT DISTINCT owner, repo FROM releases WHERE owner = 'ACME' AND repo = '{}'"
    # The repository as the query named it, its owner as GitHub spells it (before: 'ACME',
    # which a GROUP BY owner split from the owner's other repositories).
    assert db.execute(sql.format("tool")).fetchall() == [("acme", "tool")]
    assert db.execute(sql.format("GADGET")).fetchall() == [("acme", "gadget")]


def _release_reads(emu: Emulator, release_id: int) -> list[str]:
    """The requests that read the release's assets: the release, with its assets embedded."""
    return [r.path for r in emu.log if f"/releases/{release_id}" in r.path]


@pytest.mark.parametrize(
    "join",
    [
        "JOIN release_assets b USING (owner, repo, release_id)",
        "JOIN release_assets b ON b.owner = a.owner AND b.repo = a.repo "
        "AND b.release_id = a.release_id AND b.id = a.id",
        ", release_assets b WHERE b.owner = 'acme' AND b.repo = 'tool' AND b.release_id = {new}",
    ],
)
def test_a_self_join_on_one_release_lists_it_once(
    acme: Acme, db: apsw.Connection, join: str
) -> None:
    where = "a.owner = 'acme' AND a.repo = 'tool' AND a.release_id = {new}"
    glue = " AND " if join.startswith(",") else " WHERE "
    sql = f"SELECT count(*) FROM release_assets a {join}{glue}{where}".format(new=acme.new)
    (count,) = db.execute(sql).fetchone()
    assert count in (3, 9)  # 3 assets: matched by id, or every pair
    assert len(_release_reads(acme.emu, acme.new)) == 1

