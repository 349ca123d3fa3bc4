"""Writes GitHub would refuse are refused by sqlgh before any request (issue 18):
empty uploads, writes to archived repositories, states GitHub does not take."""

from __future__ import annotations

import apsw
import pytest
from helpers import Acme, seed_acme

from sqlgh.emulator import Emulator
from sqlgh.errors import InputError

INSERT = "INSERT INTO release_assets(owner, repo, release_id, name, {col}) VALUES "


@pytest.fixture
def acme(emulator: Emulator) -> Acme:
    return seed_acme(emulator)


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
