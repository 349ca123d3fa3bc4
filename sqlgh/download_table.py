"""``download_assets``: a release's assets saved as files, many at once, as one statement.

    SELECT * FROM download_assets
    WHERE owner = 'acme' AND repo = 'rocket' AND release_id = 3000007
      AND destination = 'downloads/';

Unlike ``download()``, called row by row, the table knows every file before the first
byte moves: it lists the release's assets (one request for up to 100, with the name,
size, digest and state each download needs), plans every file (``asset_files.plan``),
refuses two assets landing on one path, then downloads up to ``max_concurrency`` files at
once, each with two requests (the API's redirect, then storage). A failure stops the
batch: the files already written are named, with their paths, in the error.

It downloads every row it finds, so every condition must be one it applies itself:
equality (or IN) on owner, repo, release_id, id, destination and options. Anything else
(``name LIKE``, ``size >``) goes in a subquery: ``id IN (SELECT id FROM release_assets
WHERE ...)``. A plan that leaves a condition to SQLite is given a prohibitive cost, and
raises if SQLite ever runs it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import ChainMap
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from functools import partial
from typing import Any

import apsw

from sqlgh.errors import InputError, MissingKeysError, RemoteError
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.interrupts import held_interrupts
from sqlgh.local_files import checked_path
from sqlgh.session import Session
from sqlgh.tables import keys
from sqlgh.tables.asset_files import (
    Placement,
    Planned,
    fetch_asset,
    path_key,
    plan,
    stopped,
    write,
)
from sqlgh.tables.memo import StatementFacts
from sqlgh.tables.release_assets import fetch_by_release
from sqlgh.tables.spec import AccessPath, Api, Batch, Column
from sqlgh.tables.spec import Table as SpecTable

NAME = "download_assets"
DOWNLOADS = "then 2 per file (the API's redirect, then storage), up to max_concurrency at once"
NEEDS = (
    f"{NAME} needs owner, repo and destination, and release_id or id (= or IN), in WHERE; "
    "it downloads every row it finds, so it takes no other condition: filter in a "
    "subquery, e.g. AND id IN (SELECT id FROM release_assets WHERE owner = ... AND "
    "name LIKE '%.tar.gz'), and leave out LIMIT"
)


def fetch_by_id(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """The asset of one id: one GET."""
    yield {}, [fetch_asset(api, key["owner"], key["repo"], key["id"], NAME)]


# What the table is, for SQLite (its schema), the shell (.tables, .schema, .keys) and
# docs/tables.md. BestIndexObject below plans with these keys; its paths' fetches are
# the ones _assets makes.
SPEC = SpecTable(
    name=NAME,
    doc="A release's assets saved as files, many at once: one row per file written or kept.",
    columns=(
        Column("owner", doc="Repository owner."),
        Column("repo", doc="Repository name."),
        Column("release_id", sql_type="INTEGER", doc="Release whose assets to download."),
        Column("id", sql_type="INTEGER", doc="Asset id: only these assets (= or IN)."),
        Column("name", doc="Asset name."),
        Column("size", sql_type="INTEGER", doc="Size in bytes."),
        Column("path", doc="The file written (or kept)."),
        Column("status", doc="'downloaded', or 'skipped: the file exists'."),
        Column(
            "destination",
            hidden=True,
            doc="A directory (ending in / to have it made with the mkdir option) or a file "
            "path, as download() takes it; also the first argument: download_assets('dir/').",
        ),
        Column(
            "options",
            hidden=True,
            doc="download()'s options ('skip', 'overwrite', 'error', 'mkdir'); also the "
            "second argument.",
        ),
    ),
    paths=(
        AccessPath(
            "by_release",
            ("owner", "repo", "release_id", "destination"),
            fetch_by_release,
            "as release_assets by_release (1 per release under 100 assets, 2 at 100 or more), "
            f"{DOWNLOADS}",
            cost=1,
            rows=100,
        ),
        AccessPath(
            "by_id",
            ("owner", "repo", "id", "destination"),
            fetch_by_id,
            f"1 per id (the asset), {DOWNLOADS}",
            cost=1,
            rows=1,
        ),
    ),
    needs="owner, repo and destination, and release_id or id (= or IN), and no other "
    "condition (filter in a subquery: id IN (SELECT id FROM release_assets WHERE ...))",
)
COLUMNS = tuple(column.name for column in SPEC.columns)
SCHEMA = SPEC.schema
# The conditions the table applies itself; owner, repo, destination and one of the ids
# are needed.
KEYS = ("owner", "repo", "release_id", "id", "destination", "options")
SETS = frozenset({"release_id", "id"})  # IN lists arrive whole
NO_PLAN_COST = 1e300


class Module:
    """The APSW module of ``download_assets``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def Connect(self, connection: apsw.Connection, *args: str) -> tuple[str, Table]:
        return SCHEMA, Table(self.session)

    Create = Connect


class Table:
    """The virtual table: planning, and a cursor that downloads in ``Filter``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def BestIndexObject(self, ii: apsw.IndexInfo) -> bool:
        taken: dict[str, int] = {}
        complete = True
        for i in range(ii.nConstraint):
            column = ii.get_aConstraint_iColumn(i)
            name = COLUMNS[column] if 0 <= column < len(COLUMNS) else None
            equality = ii.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_EQ
            if equality and ii.get_aConstraint_usable(i) and name in KEYS and name not in taken:
                taken[name] = i
            else:
                complete = False  # SQLite would filter (or cut) rows already downloaded
        needed = {"owner", "repo", "destination"} <= taken.keys() and bool(SETS & taken.keys())
        if not (complete and needed):
            ii.idxNum, ii.estimatedCost, ii.estimatedRows = 0, NO_PLAN_COST, 2**31
            return True
        order = [name for name in KEYS if name in taken]
        for position, name in enumerate(order, start=1):
            i = taken[name]
            ii.set_aConstraintUsage_argvIndex(i, position)
            ii.set_aConstraintUsage_omit(i, True)
            if name in SETS and ii.get_aConstraintUsage_in(i):
                ii.set_aConstraintUsage_in(i, True)
        ii.idxNum, ii.idxStr = 1, ",".join(order)
        ii.estimatedCost, ii.estimatedRows = 1000.0, 10
        return True

    def Open(self) -> Cursor:
        return Cursor(self.session)

    def Disconnect(self) -> None:
        pass

    Destroy = Disconnect


class Cursor:
    """The rows of one batch: every file planned, then downloaded, then reported."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: list[tuple[Any, ...]] = []
        self.position = 0

    def Filter(self, indexnum: int, indexname: str, constraintargs: tuple[Any, ...]) -> None:
        self.rows, self.position = [], 0
        if indexnum != 1:
            raise MissingKeysError(NEEDS)
        given = dict(zip(indexname.split(","), constraintargs, strict=True))
        try:
            self.rows = run_batch(self.session, given)
        except (GitHubError, TransportError) as exc:
            raise RemoteError(f"{NAME}: {exc}") from exc

    def Eof(self) -> bool:
        return self.position >= len(self.rows)

    def Next(self) -> None:
        self.position += 1

    def Rowid(self) -> int:
        return int(self.rows[self.position][3])

    def Column(self, number: int) -> Any:
        if number == -1:
            return self.Rowid()
        return self.rows[self.position][number]

    def Close(self) -> None:
        self.rows = []


def run_batch(session: Session, given: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Plan every file, download them, and return the rows (COLUMNS, hidden ones too)."""
    owner = keys.owner_name(NAME, "owner", given["owner"])
    repo = keys.repo_name(NAME, "repo", given["repo"])
    destination = given["destination"]
    if not isinstance(destination, str):
        raise InputError(f"{NAME}.destination: give a directory or a file path (text)")
    destination = os.path.expanduser(checked_path(destination, NAME))
    options = given.get("options")
    placement = Placement.parse(options, f"{NAME}.options")
    ids = _id_set("id", given.get("id"))
    releases = _id_set("release_id", given.get("release_id"))
    # A statement's facts of its own: what this batch lists is not kept past it.
    statement = session.statement
    api = dataclasses.replace(statement.api, statement=StatementFacts())
    found = list(_assets(api, owner, repo, releases, ids))
    planned: dict[str, Planned] = {}
    # Files the statement wrote already (another batch of a join, download()) count too.
    earlier = statement.api.notes.written_files
    known = ChainMap(planned, earlier)
    for _, asset in found:
        try:
            item = plan(owner, repo, asset, destination, placement, NAME, known)
        except InputError as exc:
            raise InputError(f"{str(exc).rstrip('.')}. No file was written.") from exc
        planned[path_key(item.target)] = item
    done = _download_all(api, list(planned.values()), placement)
    earlier.update(planned)
    return [
        (
            owner,
            repo,
            release_id,
            item.asset.get("id"),
            item.asset.get("name"),
            item.asset.get("size"),
            item.target,
            "skipped: the file exists" if item.skipped else "downloaded",
            destination,
            options,
        )
        for (release_id, _), planned_item in zip(found, planned.values(), strict=True)
        if (item := done.get(planned_item.target, planned_item)).skipped
        or item.target in done
    ]


def _id_set(column: str, value: Any) -> set[int] | None:
    if value is None:
        return None
    values = value if isinstance(value, (set, frozenset)) else {value}
    return {keys.positive_id(NAME, column, v) for v in values if v is not None}


def _assets(
    api: Api, owner: str, repo: str, releases: set[int] | None, ids: set[int] | None
) -> Iterator[tuple[int | None, Mapping[str, Any]]]:
    """(release id, asset) of each asset asked for: a release's list (one request per
    100 assets) when release_id is given, kept to the ids given if any; else one GET per
    id."""
    if releases is None:
        for asset_id in sorted(ids or ()):
            for _, objects in fetch_by_id(api, {"owner": owner, "repo": repo, "id": asset_id}):
                yield api.memo.release_of(asset_id), objects[0]
        return
    for release_id in sorted(releases):
        key = {"owner": owner, "repo": repo, "release_id": release_id}
        for _, objects in fetch_by_release(api, key):
            for asset in objects:
                if ids is None or asset.get("id") in ids:  # an id of another release: no row
                    yield release_id, asset


def _download_all(
    api: Api, planned: list[Planned], placement: Placement
) -> dict[str, Planned]:
    """Download the files not skipped, ``max_concurrency`` at a time; return them by path
    (marked skipped when ``skip`` kept a file that appeared at the path meanwhile).

    After a failure no new file is started; those running finish, and the error names
    every file written (they stay: each is whole and verified) and those that were not.
    After Ctrl-C, the running downloads stop at their next bytes and remove their
    temporary files before the KeyboardInterrupt goes on: no file appears afterwards.
    """
    todo = [item for item in planned if not item.skipped]
    client = api.client
    size = sum(s for item in todo if isinstance(s := item.asset.get("size"), int))
    bar = client.progress(total=size, desc=f"{NAME}: {len(todo)} files", unit="B")
    written: dict[str, Planned] = {}
    failure: BaseException | None = None
    running: dict[Future[str], Planned] = {}
    waiting = iter(todo)
    stop = threading.Event()
    try:
        while True:
            while failure is None and len(running) < client.max_concurrency:
                item = next(waiting, None)
                if item is None:
                    break
                download = partial(write, own_bar=False, stop=stop)
                task = client.submit(download, api, item, placement, NAME)
                running[task] = item
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for task in done:
                item = running.pop(task)
                try:
                    result = task.result()  # skipped: a file appeared and was kept
                    written[result.target] = result
                    bar.update(item.asset.get("size") or 0)
                except BaseException as exc:  # reported below, with the rest
                    failure = failure or exc
    except BaseException:  # Ctrl-C: the running downloads end and remove their files
        stop.set()
        with held_interrupts() as held:  # a second Ctrl-C does not cut that short
            wait(running)
        held.honour()
        raise
    finally:
        bar.close()
    if failure is not None:
        left = [item for item in todo if item.target not in written]
        raise stopped(NAME, failure, written.values(), left) from failure
    return written


def register_download_table(connection: apsw.Connection, session: Session) -> None:
    """Make ``download_assets`` an eponymous table of the connection."""
    connection.create_module(
        NAME, Module(session), use_bestindex_object=True, eponymous_only=True
    )
