"""The ``rate_limit`` table (GET /rate_limit)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from conftest import connect_to

from sqlgh.emulator import Emulator


def test_rate_limit_rows(emulator: Emulator) -> None:
    reset = int(time.time()) + 1000
    emulator.set_rate_limit(remaining=4321, reset=reset)
    db = connect_to(emulator, cache=False)
    rows = db.execute('SELECT resource, "limit", used, remaining, reset FROM rate_limit').fetchall()
    core = next(r for r in rows if r[0] == "core")
    iso = datetime.fromtimestamp(reset, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert core[0:2] == ("core", 5000) and core[3:] == (4321, iso)
    assert {"core", "search", "graphql"} <= {r[0] for r in rows}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[4]) for r in rows)
    assert [r.path for r in emulator.log] == ["/rate_limit"]


def test_rate_limit_needs_no_keys_and_shows_usage(emulator: Emulator) -> None:
    emulator.add_org("acme")
    db = connect_to(emulator, cache=False)
    before = db.execute("SELECT remaining FROM rate_limit WHERE resource = 'core'").fetchone()
    db.execute("SELECT * FROM repositories WHERE owner = 'acme'").fetchall()
    after = db.execute("SELECT remaining FROM rate_limit WHERE resource = 'core'").fetchone()
    assert after[0] == before[0] - 1
    assert db.sqlgh.client.log[-1].rate_remaining is not None
