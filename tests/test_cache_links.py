"""A stored list page's ``Link`` after a 304: GitHub's ETag covers the page's items, not
the Link header (see sqlgh/github/pages.py), so a list that grew or shrank since it was
stored is read whole, without failed requests and with few past its end."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
from conftest import TOKEN, connect_to

from sqlgh.emulator import Emulator

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _release_with_assets(emu: Emulator, count: int) -> int:
    """A release of ``count`` assets, whose JSON embeds 100 of them at most: read by id,
    its asset list is paged from page 1 (the check of the embedded array)."""
    emu.embedded_assets_cap = 100
    emu.add_org("acme")
    emu.add_repo("acme", "tool")
    release = emu.add_release("acme", "tool", "v1")["id"]
    _add_assets(emu, release, range(count))
    return release


def _add_assets(emu: Emulator, release: int, numbers: range) -> None:
    for number in numbers:
        emu.add_asset("acme", "tool", release, f"a{number}.bin", content=b"x")


def _keep_first(emu: Emulator, release: int, count: int) -> None:
    """Delete every asset of the release but the first ``count`` (uploaded first)."""
    for asset in emu.list_assets("acme", "tool", release)[count:]:
        assert requests.delete(asset["url"], headers=AUTH, timeout=10).status_code == 204


def _names(emu: Emulator, path: Path, release: int, concurrency: int) -> list[str]:
    """The release's asset names, read with the cache at ``path`` on a new connection
    (returning once a request the read left running has ended)."""
    before = _read_threads()
    db = connect_to(emu, cache_path=path, max_concurrency=concurrency)
    try:
        return [
            name
            for (name,) in db.execute(
                "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
                "AND release_id = ?",
                (release,),
            )
        ]
    finally:
        db.close()
        _ended(_read_threads() - before)


def _read_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sqlgh-read")}


def _ended(threads: set[threading.Thread]) -> None:
    """Wait (10 s at most) until ``threads`` end: a page fetched ahead of the one that
    ended the list is left to finish after the statement (the connection's read threads
    end once it closed)."""
    deadline = time.monotonic() + 10
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _asset_pages(emu: Emulator) -> list[tuple[int, int]]:
    """(page, status) of each request for the asset list, in page order."""
    return sorted(
        (int(r.query.get("page", ["1"])[0]), r.status)
        for r in emu.log
        if r.path.endswith("/assets")
    )


@pytest.mark.parametrize(
    ("stored", "now", "concurrency"),
    [(100, 101, 8), (200, 201, 1), (200, 250, 8), (150, 350, 8)],
    ids=["one full page", "full last page", "full last page, parallel", "past rel=last"],
)
def test_a_list_that_grew_since_it_was_stored_is_read_whole(
    emulator: Emulator, tmp_path: Path, stored: int, now: int, concurrency: int
) -> None:
    """Assets uploaded after the list was stored land on pages its stored links do not
    reach: page 1 answers 304 with the old links (on main: the rows of the new pages
    were missing)."""
    release = _release_with_assets(emulator, stored)
    path = tmp_path / "c.sqlite"
    assert len(_names(emulator, path, release, concurrency)) == stored
    _add_assets(emulator, release, range(stored, now))
    emulator.clear_log()
    names = _names(emulator, path, release, concurrency)
    assert names == [a["name"] for a in emulator.list_assets("acme", "tool", release)]
    assert _asset_pages(emulator)[0] == (1, 304)
    assert all(status in (200, 304) for _, status in _asset_pages(emulator))


def test_an_unchanged_full_last_page_is_confirmed_for_free(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Confirming that a stored full last page is still the last asks for the page after
    it: once (an empty page, stored), then as a 304 that GitHub does not count."""
    release = _release_with_assets(emulator, 200)
    path = tmp_path / "c.sqlite"
    _names(emulator, path, release, 1)
    for statuses in ([(1, 304), (2, 304), (3, 200)], [(1, 304), (2, 304), (3, 304)]):
        emulator.clear_log()
        assert len(_names(emulator, path, release, 1)) == 200
        assert _asset_pages(emulator) == statuses


def test_pages_past_the_end_of_a_shrunk_list_stay_within_the_window(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A list of 10 pages cut to 2: page 1 answers 304 with its stored rel="last" of 10.
    The first empty page ends the list: pages past the end cost at most max_concurrency
    requests, none of them failed, and page 3 is a free 304 the run after (stored empty).
    On main all 8 pages past the end were asked for."""
    release = _release_with_assets(emulator, 1000)
    path = tmp_path / "c.sqlite"
    assert len(_names(emulator, path, release, 2)) == 1000
    _keep_first(emulator, release, 200)
    for status in (200, 304):
        emulator.clear_log()
        assert len(_names(emulator, path, release, 2)) == 200
        sent = _asset_pages(emulator)
        assert sent[:2] == [(1, 304), (2, 304)]
        past_the_end = sent[2:]
        assert 1 <= len(past_the_end) <= 2, sent
        # page 3 ended the list and was stored; a page fetched ahead of it may have been
        # answered after the connection closed, too late to be stored
        assert (3, status) in past_the_end, sent


def test_a_stored_next_link_past_the_end_costs_one_request_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Sequentially: page 2 is full and unchanged (304) and still links to page 3, which
    is gone. Whether page 3 exists can only be learnt by asking: one request, answered
    200 with [] (not an error), and a free 304 on later runs."""
    release = _release_with_assets(emulator, 250)
    path = tmp_path / "c.sqlite"
    _names(emulator, path, release, 1)
    _keep_first(emulator, release, 200)
    for statuses in ([(1, 304), (2, 304), (3, 200)], [(1, 304), (2, 304), (3, 304)]):
        emulator.clear_log()
        assert len(_names(emulator, path, release, 1)) == 200
        assert _asset_pages(emulator) == statuses
