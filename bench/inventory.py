"""Benchmark: every asset of every release of every repository of an organization.

Run by hand: ``python bench/inventory.py [--repeat 5]``. The emulator runs in a separate
process (``bench/serve.py``) with 0 and 50 ms of latency per request, so only the
client's time is measured. Shapes: 8 repositories x 6 releases x 40 assets, and one
release of 5,000 assets; by hand, ``--shape big-cut`` is the second with release lists
that embed only 100 of a release's assets. Contenders:

- PyGithub as a user would write it (``per_page=100``; ``get_repos`` / ``get_releases`` /
  ``get_assets``), with its default throttle (0.25 s between requests; one run) and with
  ``seconds_between_requests=0``;
- a plain sequential ``requests`` loop over the release listings (embedded assets; a
  release with 100 or more is paged from its ``/assets``, since such an array may be cut
  short; sqlgh instead checks the array with one request, the page of 100 its last asset
  would be on, and pages only when that page shows the array is cut short);
- the same loop with 8 threads (one per repository, then one per page);
- sqlgh: ``... WHERE owner = ? AND repo IN (SELECT name FROM repositories WHERE owner = ?)``
  (``max_concurrency`` 8, the default), and for comparison the join spelling. The org shape
  selects five columns; the big shape ``SELECT *`` (every column but the hidden ``data``
  and ``path``), as the issue asks. Each run connects, queries and closes the connection
  (closing waits for the cache's queued stores).

Every contender decodes every page it fetches. Requests are counted by the emulator (its
own log); rate-limit units are read from ``GET /rate_limit`` before and after a second run
(sqlgh's second run uses the cache the first one filled; the others have no cache). Each
timed sqlgh run starts with an empty cache file, so it pays for storing every response.
Timed runs alternate between the contenders, one run of each per round, each after a
garbage collection outside the timer.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import EmulatorProcess, markdown_table
from serve import ORG, TOKEN

import sqlgh

HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
EMBEDDED_TRUSTED_BELOW = 100

SQL_IN = (
    "SELECT repo, release_id, id, name, size FROM release_assets "
    "WHERE owner = ? AND repo IN (SELECT name FROM repositories WHERE owner = ?)"
)
SQL_JOIN = (
    "SELECT r.name, a.release_id, a.id, a.name, a.size FROM repositories r "
    "JOIN release_assets a ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = ?"
)
# The big shape: every column (the issue asks for SELECT * there).
SQL_IN_ALL = (
    "SELECT * FROM release_assets "
    "WHERE owner = ? AND repo IN (SELECT name FROM repositories WHERE owner = ?)"
)
SQL_JOIN_ALL = (
    "SELECT a.* FROM repositories r "
    "JOIN release_assets a ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = ?"
)


def pygithub_job(api_url: str, throttle: bool) -> int:
    """PyGithub, as its README suggests; returns the number of assets. ``lazy=True``: the
    emulator has no GET /orgs/{org}; this saves that one request."""
    from github import Auth, Github

    options: dict[str, Any] = {} if throttle else {"seconds_between_requests": 0}
    gh = Github(auth=Auth.Token(TOKEN), base_url=api_url, per_page=100, lazy=True, **options)
    count = 0
    for repo in gh.get_organization(ORG).get_repos():
        for release in repo.get_releases():
            for asset in release.get_assets():
                count += asset.size > 0
    gh.close()
    return count


def _pages(session: requests.Session, url: str) -> list[dict]:
    items: list[dict] = []
    next_url: str | None = url
    params: dict | None = {"per_page": 100}
    while next_url:
        response = session.get(next_url, params=params, headers=HEADERS, timeout=60)
        response.raise_for_status()
        items += response.json()
        next_url = response.links.get("next", {}).get("url")
        params = None
    return items


def _release_assets(session: requests.Session, api_url: str, repo: str) -> list[dict]:
    assets: list[dict] = []
    for release in _pages(session, f"{api_url}/repos/{ORG}/{repo}/releases"):
        embedded = release["assets"]
        if len(embedded) >= EMBEDDED_TRUSTED_BELOW:
            url = f"{api_url}/repos/{ORG}/{repo}/releases/{release['id']}/assets"
            embedded = _pages(session, url)
        assets += embedded
    return assets


def loop_job(api_url: str) -> int:
    """A plain sequential requests + json loop over the release listings."""
    with requests.Session() as session:
        repos = _pages(session, f"{api_url}/orgs/{ORG}/repos")
        return sum(len(_release_assets(session, api_url, r["name"])) for r in repos)


def threaded_job(api_url: str, threads: int = 8) -> int:
    """The same loop, one thread per repository (a session per thread), and the pages of
    a long asset list fetched 8 at a time once the first page gives ``rel="last"``."""
    with requests.Session() as session:
        repos = _pages(session, f"{api_url}/orgs/{ORG}/repos")

    def one_repo(name: str) -> int:
        with requests.Session() as own:
            releases = _pages(own, f"{api_url}/repos/{ORG}/{name}/releases")
            total = 0
            for release in releases:
                if len(release["assets"]) < EMBEDDED_TRUSTED_BELOW:
                    total += len(release["assets"])
                    continue
                total += _threaded_pages(
                    own, f"{api_url}/repos/{ORG}/{name}/releases/{release['id']}/assets", threads
                )
            return total

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(one_repo, [r["name"] for r in repos]))


def _threaded_pages(session: requests.Session, url: str, threads: int) -> int:
    first = session.get(url, params={"per_page": 100}, headers=HEADERS, timeout=60)
    first.raise_for_status()
    last = first.links.get("last", {}).get("url")
    total = len(first.json())
    if not last:
        return total
    pages = int(last.rsplit("page=", 1)[1])

    def page(number: int) -> int:
        with requests.Session() as own:
            params = {"per_page": 100, "page": number}
            response = own.get(url, params=params, headers=HEADERS, timeout=60)
            response.raise_for_status()
            return len(response.json())

    with ThreadPoolExecutor(threads) as pool:
        return total + sum(pool.map(page, range(2, pages + 1)))


def sqlgh_job(api_url: str, sql: str, cache_path: str, params: tuple, cache: bool = True) -> int:
    """sqlgh with the default options (cache on, ``max_concurrency`` 8)."""
    db = sqlgh.connect(api_url=api_url, token=TOKEN, cache_path=cache_path, cache=cache)
    try:
        return len(db.execute(sql, params).fetchall())
    finally:
        db.close()


def contenders(api_url: str, shape: str) -> list[tuple[str, Callable[[str], int], int]]:
    """(name, job(fresh cache path), runs) in the order the table shows them."""
    big = shape.startswith("big")
    sql_in, sql_join = (SQL_IN_ALL, SQL_JOIN_ALL) if big else (SQL_IN, SQL_JOIN)
    return [
        ("PyGithub, default throttle", lambda _: pygithub_job(api_url, True), 1),
        ("PyGithub, seconds_between_requests=0", lambda _: pygithub_job(api_url, False), 3),
        ("requests loop, sequential", lambda _: loop_job(api_url), 0),
        ("requests loop, 8 threads", lambda _: threaded_job(api_url), 0),
        ("sqlgh, IN (SELECT ...)", lambda p: sqlgh_job(api_url, sql_in, p, (ORG, ORG)), 0),
        (
            "sqlgh, IN (SELECT ...), cache=False",
            lambda p: sqlgh_job(api_url, sql_in, p, (ORG, ORG), cache=False),
            0,
        ),
        ("sqlgh, JOIN", lambda p: sqlgh_job(api_url, sql_join, p, (ORG,)), 0),
    ]


def measure(shape: str, latency: float, repeat: int) -> list[list[object]]:
    """One table: each contender's median and best time, requests, units on a second run.

    Timed runs alternate between contenders round by round, so that a change in the
    host's load reaches them all alike (the host this was written on moves by 20-40%).
    """
    with EmulatorProcess(shape, latency) as emu, tempfile.TemporaryDirectory() as tmp:
        runs_done = 0

        def fresh_cache() -> str:
            nonlocal runs_done
            runs_done += 1
            return str(Path(tmp) / f"cache-{runs_done}.sqlite")

        jobs = contenders(emu.api_url, shape)
        counted: list[tuple[int, int, int]] = []
        for _name, job, _runs in jobs:
            emu.served()
            assets = job(fresh_cache())  # first run: count requests
            requests_made = emu.served()
            cache = str(Path(tmp) / f"cache-{runs_done}.sqlite")
            used = emu.core_used(TOKEN)
            job(cache)  # second run, same cache file
            counted.append((requests_made, emu.core_used(TOKEN) - used, assets))
        times: list[list[float]] = [[] for _ in jobs]
        for round_number in range(max(repeat, *(runs for _name, _job, runs in jobs))):
            for index, (_name, job, runs) in enumerate(jobs):
                if round_number < (runs or repeat):
                    gc.collect()  # not the garbage of the contender before
                    started = time.perf_counter()
                    job(fresh_cache())
                    times[index].append(time.perf_counter() - started)
        return [
            [name, f"{statistics.median(t):.3f}", f"{min(t):.3f}", *counts]
            for (name, _job, _runs), t, counts in zip(jobs, times, counted, strict=True)
        ]


def main() -> int:
    """Print one Markdown table per shape and latency."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--latency", type=float, nargs="*", default=[0.0, 0.05])
    parser.add_argument("--shape", nargs="*", default=["org", "big"])
    args = parser.parse_args()
    header = ["contender", "median s", "best s", "requests", "units, 2nd run", "assets"]
    for shape in args.shape:
        for latency in args.latency:
            print(f"\n### shape {shape}, latency {latency * 1000:.0f} ms\n", flush=True)
            print(markdown_table(header, measure(shape, latency, args.repeat)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
