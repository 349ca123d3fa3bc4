"""A spent rate-limit budget: a 200 answer left no requests and the reset is far away.

sqlgh fails at once, saying when the limit resets, instead of waiting before every later
request; it waits only when ``max_rate_limit_wait`` allows the wait for the reset.
"""

from __future__ import annotations

import time

import pytest
from conftest import connect_to
from helpers import within

from sqlgh.emulator import Emulator
from sqlgh.errors import RemoteError

COUNT = (
    "SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
    "AND release_id = ?"
)


def seed(emu: Emulator, reset_in: int) -> int:
    """acme/tool with release v1 (one asset), and a budget of one request left."""
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")
    emu.add_asset("acme", "tool", release["id"], "a.txt", content=b"abc")
    emu.set_rate_limit(remaining=1, reset=int(time.time()) + reset_in)
    return int(release["id"])


def test_spent_budget_fails_fast_saying_when_it_resets(emulator: Emulator) -> None:
    release_id = seed(emulator, reset_in=3600)
    db = connect_to(emulator, cache=False)  # the default max_rate_limit_wait: 60 s
    assert db.execute(COUNT, (release_id,)).fetchall() == [(1,)]  # answered: 0 left
    sent = len(emulator.log)
    started = time.monotonic()
    with pytest.raises(RemoteError) as failure:
        db.execute(COUNT, (release_id,)).fetchall()
    assert time.monotonic() - started < 5
    assert len(emulator.log) == sent  # nothing sent that GitHub would refuse
    message = str(failure.value)
    assert message.startswith(
        "release_assets: GitHub's rate limit is used up (its last answer left 0 of 5000 "
        "requests); it resets at "
    )
    assert "in 60 min, longer than max_rate_limit_wait (60 s) allows" in message
    assert "set max_rate_limit_wait to 3601 or more to wait" in message
    assert "GitHub answered" not in message  # no answer is quoted: none was asked for


def test_spent_budget_waits_for_a_reset_within_max_rate_limit_wait(
    emulator: Emulator, capsys
) -> None:
    release_id = seed(emulator, reset_in=1)
    db = connect_to(emulator, cache=False, max_rate_limit_wait=5)
    assert db.execute(COUNT, (release_id,)).fetchall() == [(1,)]
    started = time.monotonic()
    assert db.execute(COUNT, (release_id,)).fetchall() == [(1,)]
    assert time.monotonic() - started < 3.5
    assert [r.status for r in emulator.log][-2:] == [200, 200]  # no 403 in between
    assert capsys.readouterr().err.count("rate limit is used up; waiting") == 1


def test_rate_limit_table_is_not_held_back_by_a_spent_budget(emulator: Emulator) -> None:
    """GET /rate_limit does not count against the limit: it answers at once."""
    release_id = seed(emulator, reset_in=3600)
    db = connect_to(emulator, cache=False)
    db.execute(COUNT, (release_id,)).fetchall()
    started = time.monotonic()
    query = "SELECT remaining FROM rate_limit WHERE resource = 'core'"
    assert db.execute(query).fetchall() == [(0,)]
    assert time.monotonic() - started < 5


# --- a low budget far from its reset ---------------------------------------------------------
PAGES = "SELECT count(*) FROM releases WHERE owner = 'acme' AND repo = 'tool'"


def seed_pages(emu: Emulator, remaining: int) -> None:
    """acme/tool with 3 releases (3 pages of 1), and ``remaining`` requests left for an hour."""
    emu.add_repo("acme", "tool")
    for k in range(3):
        emu.add_release("acme", "tool", f"v{k}")
    emu.set_rate_limit(remaining=remaining, reset=int(time.time()) + 3600)


def test_a_low_budget_far_from_its_reset_does_not_wait_a_minute_per_request(
    emulator: Emulator, capsys
) -> None:
    """40 of 5000 left (below the 1% reserve), the reset an hour away: spacing would be
    90 s (60 s, capped) per request. sqlgh goes on at full speed and says so once."""
    seed_pages(emulator, remaining=40)
    db = connect_to(emulator, cache=False, per_page=1, max_concurrency=1)
    assert within(10, lambda: db.execute(PAGES).fetchall()) == [(3,)]
    err = capsys.readouterr().err
    assert err.count("requests left until the rate limit resets at") == 1, err
    assert "going on at full speed (spacing them would take" in err


def test_a_low_budget_that_runs_out_far_from_its_reset_fails_fast(emulator: Emulator) -> None:
    """2 left, 3 pages: both are sent at once, then the spent-budget rule stops the query
    without a wait and without a request GitHub would refuse."""
    seed_pages(emulator, remaining=2)
    db = connect_to(emulator, cache=False, per_page=1, max_concurrency=1)
    with pytest.raises(RemoteError) as failure:
        within(10, lambda: db.execute(PAGES).fetchall())
    assert "rate limit is used up (its last answer left 0 of 5000 requests)" in str(failure.value)
    assert [r.status for r in emulator.log] == [200, 200]
