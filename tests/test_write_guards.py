"""Writes GitHub would refuse are refused by sqlgh before any request (issue 18):
empty uploads, writes to archived repositories, states GitHub does not take."""

from __future__ import annotations

import apsw
import pytest
from helpers import Acme

from sqlgh.errors import InputError, SqlghError, WriteError

INSERT = "INSERT INTO release_assets(owner, repo, release_id, name, {col}) VALUES "


def test_empty_blob_is_refused_before_any_request(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(InputError, match=r"release_assets\.data: the blob is empty") as failure:
        db.execute(INSERT.format(col="data") + "('acme', 'tool', ?, 'e.txt', x'')", (acme.new,))
    assert "GitHub refuses empty release assets" in str(failure.value)
    assert acme.emu.log == []


def test_empty_file_is_refused_naming_the_path(acme: Acme, db: apsw.Connection, tmp_path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"release_assets\.path: '.*empty\.log' is an empty"):
        sql = INSERT.format(col="path") + "('acme', 'tool', ?, NULL, ?)"
        db.execute(sql, (acme.new, str(empty)))
    assert acme.emu.log == []


KEYED_STATE = (
    "UPDATE release_assets SET state = ? WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
)


@pytest.mark.parametrize("state", ["starter", "open", "deleted"])
def test_update_to_an_undocumented_state_is_refused_before_sending(
    acme: Acme, db: apsw.Connection, state: str
) -> None:
    with pytest.raises(InputError, match=r"release_assets\.state: cannot set") as failure:
        db.execute(KEYED_STATE, (state, acme.notes["id"]))
    assert "only to 'uploaded'" in str(failure.value)
    assert [r for r in acme.emu.log if r.method == "PATCH"] == []
    assert acme.emu.get_asset(acme.notes["id"])["state"] == "uploaded"


def test_update_state_to_uploaded_is_sent(acme: Acme, db: apsw.Connection) -> None:
    db.execute(KEYED_STATE, ("uploaded", acme.notes["id"]))
    assert [r.method for r in acme.emu.log] == ["PATCH"]


KEYED_DELETE = "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
LIST_REPOS = "SELECT name, archived FROM repositories WHERE owner = 'acme'"
INSERT_DATA = INSERT.format(col="data") + "('acme', 'tool', ?, 'new.txt', 'new')"


def test_write_to_a_repository_listed_as_archived_is_refused(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.set_archived("acme", "tool")
    assert ("tool", 1) in db.execute(LIST_REPOS).fetchall()
    acme.emu.clear_log()
    with pytest.raises(WriteError, match=r"cannot INSERT in acme/tool: the repository is archived"):
        db.execute(INSERT_DATA, (acme.new,))
    with pytest.raises(WriteError, match=r"cannot DELETE in acme/tool: the repository is archived"):
        db.execute(KEYED_DELETE, (acme.notes["id"],))
    with pytest.raises(WriteError, match="Nothing was changed on GitHub"):
        db.execute(KEYED_STATE, ("uploaded", acme.notes["id"]))
    # One GET each confirms the repository is still archived; no write is sent.
    assert {r.method for r in acme.emu.log} == {"GET"}
    assert acme.emu.get_asset(acme.notes["id"]) is not None


def test_release_writes_to_a_repository_listed_as_archived_are_refused(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.set_archived("acme", "tool")
    db.execute(LIST_REPOS).fetchall()
    acme.emu.clear_log()
    where = f"owner = 'acme' AND repo = 'tool' AND id = {acme.new}"
    for verb, sql in [
        ("INSERT", "INSERT INTO releases(owner, repo, tag_name) VALUES ('acme', 'tool', 'v9')"),
        ("UPDATE", f"UPDATE releases SET body = 'x' WHERE {where}"),
        ("DELETE", f"DELETE FROM releases WHERE {where}"),
    ]:
        with pytest.raises(WriteError, match=rf"^releases: cannot {verb} in acme/tool: .*archived"):
            db.execute(sql)
    assert {r.method for r in acme.emu.log} == {"GET"}


def test_a_repository_unarchived_since_it_was_listed_is_written(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.set_archived("acme", "tool")
    db.execute(LIST_REPOS).fetchall()
    acme.emu.set_archived("acme", "tool", False)
    db.execute(INSERT_DATA, (acme.new,))
    assert "new.txt" in [a["name"] for a in acme.emu.list_assets("acme", "tool", acme.new)]


def test_github_refusal_for_an_archived_repository_is_readable(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.set_archived("acme", "tool")
    with pytest.raises(SqlghError) as failure:
        db.execute(INSERT_DATA, (acme.new,))
    assert "the repository is archived, so it is read-only" in str(failure.value)
    assert "Nothing was changed on GitHub" in str(failure.value)
