"""Benchmark: an organization's inventory, in every spelling sqlgh ships (issue 13).

Run by hand: ``python bench/inventory.py [--repeat 3] [--latency 0.05 0.15]
[--shape org org200] [--memory]``. It needs sqlgh and its own dependencies only
(``pip install -e .``); the ``[bench]`` extra of pyproject.toml
(``pip install -e '.[bench]'``) adds PyGithub, which only the earlier comparison recorded
in docs/performance.md used, not this file. The emulator runs in a separate process
(``bench/serve.py``) with the given latency per request, so only the client's time is
measured. Shapes (repositories x releases x assets): ``org`` 8 x 6 x 40, ``org200``
200 x 20 x 30; by hand also ``big`` (one release of 5,000 assets) and ``big-cut``.

Side by side, in one run:

- a plain sequential ``requests`` loop over the organization's repositories and their
  release lists (embedded assets; a release with 100 or more is paged from its
  ``/assets``, since such an array may be cut short). It runs ``--sequential-runs`` times
  (default 1: at 150 ms and 200 repositories one run takes half a minute);
- the same loop with 8 threads (one per repository, then one per page);
- sqlgh (default options: cache on, ``max_concurrency`` 8), each spelling of the job: the
  ones in issue 13's table, a correlated subquery, the whole-owner spelling (refused
  until whole-owner access paths land), and each org-wide query of ``queries/`` with its
  owners replaced by the bench organization. Each run connects, reads every row, and
  closes the connection (closing waits for the cache's queued stores), with an empty cache
  file: a first run, which stores every response.

Every contender decodes every page it fetches. Requests are counted by the emulator (its
own log) on a first, untimed run. Timed runs alternate between contenders, one run of each
per round, each after a garbage collection outside the timer; the table shows each one's
median and best, and its median over the 8-thread loop's.

``--memory`` measures the peak RSS growth of ``SELECT *`` read row by row (whole owner,
``IN (SELECT ...)`` and join spellings, and a streaming requests loop) in a child process
each, over 40,200 and 120,000 assets (``--memory-shape`` to choose), with no added
latency: the peak since just before the statement (``/proc/self/clear_refs``) less the
RSS then.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import EmulatorProcess, markdown_table
from serve import ORG, SHAPES, TOKEN

import sqlgh
from sqlgh.errors import SqlghError

HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
EMBEDDED_TRUSTED_BELOW = 100
QUERIES = Path(__file__).resolve().parent.parent / "queries"
REPOS_OF_ORG = f"SELECT name FROM repositories WHERE owner = '{ORG}'"


def shipped(name: str) -> str:
    """queries/NAME.sql, asking for the bench organization instead of the demo owners."""
    text = (QUERIES / f"{name}.sql").read_text()
    return re.sub(r"'(acme|globex|initech)'", f"'{ORG}'", text)


SPELLINGS = {
    "queries/inventory.sql": shipped("inventory"),
    "repositories JOIN release_assets": (
        "SELECT r.name, a.release_id, a.id, a.name, a.size FROM repositories r JOIN"
        f" release_assets a ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = '{ORG}'"
    ),
    "release_assets JOIN releases (by id), repo IN (SELECT ...)": (
        "SELECT a.repo, l.tag_name, a.id, a.name, a.size FROM release_assets a JOIN releases l"
        " ON l.owner = a.owner AND l.repo = a.repo AND l.id = a.release_id"
        f" WHERE a.owner = '{ORG}' AND a.repo IN ({REPOS_OF_ORG})"
    ),
    "SELECT * ... repo IN (SELECT ...)": (
        f"SELECT * FROM release_assets WHERE owner = '{ORG}' AND repo IN ({REPOS_OF_ORG})"
    ),
    "correlated subquery": (
        "SELECT r.name, (SELECT sum(a.size) FROM release_assets a"
        " WHERE a.owner = r.owner AND a.repo = r.name)"
        f" FROM repositories r WHERE r.owner = '{ORG}'"
    ),
    "whole owner: SELECT * ... WHERE owner = ?": (
        f"SELECT * FROM release_assets WHERE owner = '{ORG}'"
    ),
    **{
        f"queries/{name}.sql": shipped(name)
        for name in ("largest_assets", "missing_checksums", "org_storage", "stale_uploads")
    },
    "queries/top_downloads.sql": shipped("top_downloads"),
}
# Peak memory: SELECT * read row by row, as the whole-owner, IN and join spellings.
MEMORY_SPELLINGS = {
    "sqlgh, SELECT * ... WHERE owner = ?": SPELLINGS["whole owner: SELECT * ... WHERE owner = ?"],
    "sqlgh, SELECT * ... repo IN (SELECT ...)": SPELLINGS["SELECT * ... repo IN (SELECT ...)"],
    "sqlgh, SELECT a.* ... repositories JOIN release_assets": (
        "SELECT a.* FROM repositories r JOIN release_assets a"
        f" ON a.owner = r.owner AND a.repo = r.name WHERE r.owner = '{ORG}'"
    ),
    "requests loop, sequential, page by page": "",
}


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


def sqlgh_job(api_url: str, sql: str, cache_path: str) -> int:
    """sqlgh with the default options (cache on, ``max_concurrency`` 8): every row."""
    db = sqlgh.connect(api_url=api_url, token=TOKEN, cache_path=cache_path)
    try:
        return sum(1 for _ in db.execute(sql))
    finally:
        db.close()


Job = Callable[[str], int]  # job(fresh cache path) -> rows or assets


def contenders(api_url: str) -> list[tuple[str, Job]]:
    """(name, job) in the order the table shows them; the two loops first."""
    jobs: list[tuple[str, Job]] = [
        ("requests loop, sequential", lambda _: loop_job(api_url)),
        ("requests loop, 8 threads", lambda _: threaded_job(api_url)),
    ]
    for name, sql in SPELLINGS.items():
        jobs.append((f"sqlgh, {name}", lambda path, sql=sql: sqlgh_job(api_url, sql, path)))
    return jobs


def measure(shape: str, latency: float, repeat: int, sequential_runs: int) -> list[list[object]]:
    """One table: each contender's median and best time, its median over the 8-thread
    loop's, the requests it made and the rows (assets, for the loops) it read."""
    with EmulatorProcess(shape, latency) as emu, tempfile.TemporaryDirectory() as tmp:
        made = iter(range(10**9))

        def fresh_cache() -> str:
            return str(Path(tmp) / f"cache-{next(made)}.sqlite")

        jobs = contenders(emu.api_url)
        counted: list[tuple[object, object] | None] = []
        for _name, job in jobs:
            emu.served()
            try:
                rows = job(fresh_cache())  # first run: count requests
            except SqlghError as exc:  # a spelling this build refuses
                emu.served()
                counted.append(None)
                print(f"  ({_name}: {exc})", file=sys.stderr, flush=True)
                continue
            counted.append((emu.served(), rows))
        times: list[list[float]] = [[] for _ in jobs]
        for round_number in range(max(repeat, sequential_runs)):
            for index, (name, job) in enumerate(jobs):
                runs = sequential_runs if name == "requests loop, sequential" else repeat
                if counted[index] is not None and round_number < runs:
                    gc.collect()  # not the garbage of the contender before
                    started = time.perf_counter()
                    job(fresh_cache())
                    times[index].append(time.perf_counter() - started)
        threaded = statistics.median(times[1])
        table: list[list[object]] = []
        for (name, _job), spent, counts in zip(jobs, times, counted, strict=True):
            if counts is None:
                table.append([name, "refused", "", "", "", ""])
                continue
            median = statistics.median(spent)
            ratio = f"{median / threaded:.2f}"
            table.append([name, f"{median:.3f}", f"{min(spent):.3f}", ratio, *counts])
        return table


# memory -------------------------------------------------------------------------------------


def _status(field: str) -> int:
    """A field of /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


class PeakRss:
    """The peak RSS from now on: the kernel's high-water mark, reset here when Linux allows
    (``clear_refs``), else sampled every millisecond by a thread."""

    def __init__(self) -> None:
        self.start = _status("VmRSS")
        self._sampled = 0
        self._stop = threading.Event()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._thread = None
        except OSError:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self._sampled = max(self._sampled, _status("VmRSS"))

    def growth(self) -> int:
        """Bytes of peak RSS above the RSS at the start."""
        if self._thread is None:
            return _status("VmHWM") - self.start
        self._stop.set()
        self._thread.join()
        return max(self._sampled, _status("VmRSS")) - self.start


def memory_child(shape: str, contender: str) -> None:
    """Print {"rows", "growth"} for one contender over one shape (run in a child process)."""
    with EmulatorProcess(shape, 0.0) as emu, tempfile.TemporaryDirectory() as tmp:
        sql = MEMORY_SPELLINGS[contender]
        if not sql:
            gc.collect()
            peak = PeakRss()
            rows = loop_job(emu.api_url)
        else:
            db = sqlgh.connect(api_url=emu.api_url, token=TOKEN, cache_path=f"{tmp}/c.sqlite")
            db.execute(REPOS_OF_ORG).fetchall()  # the client's sessions and cache are set up
            gc.collect()
            peak = PeakRss()
            rows = sum(1 for _ in db.execute(sql))
        growth = peak.growth()
    print(json.dumps({"rows": rows, "growth": growth}))


def memory_table(shapes: list[str]) -> list[list[object]]:
    """Peak RSS growth per shape and contender, each in a fresh child process."""
    table: list[list[object]] = []
    for shape in shapes:
        for contender in MEMORY_SPELLINGS:
            command = [sys.executable, __file__, "--memory-child", shape, contender]
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            measured = json.loads(result.stdout.strip().splitlines()[-1])
            growth = f"{measured['growth'] / 2**20:.1f}"
            table.append([shape, contender, measured["rows"], growth])
    return table


def main() -> int:
    """Print one Markdown table per shape and latency, then the memory table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sequential-runs", type=int, default=1)
    parser.add_argument("--latency", type=float, nargs="*", default=[0.05, 0.15])
    parser.add_argument("--shape", nargs="*", default=["org", "org200"], choices=sorted(SHAPES))
    parser.add_argument("--memory", action="store_true", help="also measure peak RSS growth")
    parser.add_argument("--memory-shape", nargs="*", default=["org67", "org200"])
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    header = ["contender", "median s", "best s", "x 8 threads", "requests", "rows"]
    for shape in args.shape:
        for latency in args.latency:
            repos, releases, assets = SHAPES[shape]
            title = f"{repos} x {releases} x {assets} ({shape}), latency {latency * 1000:.0f} ms"
            print(f"\n### {title}\n", flush=True)
            table = measure(shape, latency, args.repeat, args.sequential_runs)
            print(markdown_table(header, table), flush=True)
    if args.memory:
        print("\n### Peak RSS growth, read row by row, no added latency\n", flush=True)
        header = ["shape", "contender", "rows", "peak RSS growth MiB"]
        print(markdown_table(header, memory_table(args.memory_shape)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
