"""The conditional-request cache under GitHub's real caching headers (issue 18): answers
say ``Cache-Control: private, max-age=60`` and carry ``Last-Modified``, yet a read right
after a write, sqlgh's own or anyone's, within those 60 seconds shows the write."""

from __future__ import annotations

import apsw
import requests
from helpers import Acme, seed_acme

from sqlgh.emulator import Emulator

LABEL = "SELECT label FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id = ?"
LISTED = "SELECT label FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND name = ?"


def _gets(emu: Emulator) -> list:
    return [r for r in emu.log if r.method == "GET"]


def test_a_read_right_after_sqlghs_own_write_shows_it(
    emulator: Emulator, db: apsw.Connection
) -> None:
    acme: Acme = seed_acme(emulator)
    notes = acme.notes["id"]
    assert db.execute(LABEL, (notes,)).fetchall() == [(None,)]
    assert db.execute(LISTED, ("notes.txt",)).fetchall() == [(None,)]
    first = _gets(acme.emu)[-1]
    assert "max-age=60" in requests.get(acme.notes["url"], timeout=10).headers["Cache-Control"]
    db.execute(
        "UPDATE release_assets SET label = 'fresh' "
        "WHERE owner = 'acme' AND repo = 'tool' AND id = ?",
        (notes,),
    )
    acme.emu.clear_log()
    assert db.execute(LABEL, (notes,)).fetchall() == [("fresh",)]
    assert db.execute(LISTED, ("notes.txt",)).fetchall() == [("fresh",)]
    # Both reads went to GitHub (revalidated with the stored ETag), none was served from
    # the cache on the strength of max-age.
    reads = _gets(acme.emu)
    assert reads and all(r.status == 200 for r in reads)
    assert all("if-none-match" in r.headers for r in reads)
    assert first.status == 200


def test_another_clients_write_within_max_age_is_seen(
    emulator: Emulator, db: apsw.Connection
) -> None:
    acme: Acme = seed_acme(emulator)
    notes = acme.notes["id"]
    assert db.execute(LABEL, (notes,)).fetchall() == [(None,)]
    patched = requests.patch(
        acme.notes["url"],
        json={"label": "theirs"},
        headers={"Authorization": "Bearer test-token"},
        timeout=10,
    )
    assert patched.status_code == 200  # in the same second, so Last-Modified may not move
    assert db.execute(LABEL, (notes,)).fetchall() == [("theirs",)]
