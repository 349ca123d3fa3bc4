"""Whole-owner access paths: a table's per-repository fetch, run over every repository
of a user or organization.

With only ``owner`` in ``WHERE``, the owner's repositories are listed first, whole (the
``repositories`` table's listing: 1 request per 100), then the table's per-repository
fetch (its ``by_repo`` path) runs for each of them, as for ``repo IN (...)``: up to
``max_concurrency`` repositories ahead of SQLite are started on the client's read
threads, each up to its first batch (its first page of releases), and SQLite's thread
reads the rest of each, in turn (further pages and asset lists concurrently, as
usual). Rows come out in the listing's order, one repository after another, and carry
the repository's owner and name as GitHub spells them (``WHERE owner = 'ACME'`` gives
rows of ``acme``). A ``LIMIT`` stops the per-repository fetches: at most
``max_concurrency`` of them start before SQLite has read what it wants; the rest never
start. A progress bar counts the repositories done.

(Each repository's fetch had a thread of its own, up to 8 batches ahead, which sent
every release on to a read thread and back: at 200 repositories of 20 releases, cache
off, 2.4-2.6 s of client CPU where this takes 2.2 s, ``bench/inventory.py``'s shape.)"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from sqlgh.errors import InputError, RemoteError
from sqlgh.github.parallel import head_start
from sqlgh.github.progress import NoProgress, Progress
from sqlgh.tables import keys
from sqlgh.tables.repositories import fetch_by_owner as list_repositories
from sqlgh.tables.spec import Api, Batch, Fetch


def per_repository(fetch_repository: Fetch, what: str) -> Fetch:
    """A fetch that runs ``fetch_repository`` over every repository of ``key["owner"]``;
    ``what`` names the rows for the progress bar ("releases")."""

    def fetch_by_owner(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
        return _scan(api, key["owner"], fetch_repository, what)

    return fetch_by_owner


def _scan(api: Api, owner: str, fetch_repository: Fetch, what: str) -> Iterator[Batch]:
    repositories = [
        _repository_key(owner, repository)
        for _, page in list_repositories(api, {"owner": owner})
        for repository in page
    ]
    bar: Progress = NoProgress()
    if len(repositories) > 1:
        bar = api.client.progress(total=len(repositories), desc=f"{what} of {owner}", unit="repo")
    started = partial(_started, api, fetch_repository)
    try:
        for batches in api.client.parallel_map(started, repositories):
            yield from batches
            bar.update(1)
    finally:
        bar.close()


def _started(api: Api, fetch_repository: Fetch, key: Mapping[str, Any]) -> Iterator[Batch]:
    """A repository's fetch, run on a read thread up to its first batch."""
    return head_start(iter(fetch_repository(api, key)))


def _repository_key(owner: str, repository: Mapping[str, Any]) -> dict[str, str]:
    """The owner and name of a listed repository, as GitHub spells them; a name that could
    not be a repository's (``..`` would change the URL it goes into) stops the scan."""
    account = repository.get("owner")
    login = account.get("login") if isinstance(account, Mapping) else None
    try:
        return {
            "owner": keys.owner_name("", "owner", owner if login is None else login),
            "repo": keys.repo_name("", "name", repository.get("name")),
        }
    except InputError:
        shown = {"owner": login, "name": repository.get("name")}
        raise RemoteError(
            f"the repository list of {owner} holds {shown}, which is not a GitHub "
            "repository; the scan stopped before asking for its releases"
        ) from None
