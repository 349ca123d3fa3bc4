"""Whole-owner access paths: a table's per-repository fetch, run over every repository
of a user or organization.

With only ``owner`` in ``WHERE``, the owner's repositories are listed first, whole (the
``repositories`` table's listing: 1 request per 100), then the table's per-repository
fetch (its ``by_repo`` path) runs for each of them, up to ``max_concurrency``
repositories at once, each at most ``AHEAD`` batches ahead of SQLite. Rows come out in
the listing's order, one repository after another, and carry the repository's owner and
name as GitHub spells them (``WHERE owner = 'ACME'`` gives rows of ``acme``). A
``LIMIT`` stops the per-repository fetches: at most ``max_concurrency`` of them start
before SQLite has read what it wants; the rest never start. A progress bar counts the
repositories done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from sqlgh.errors import InputError, RemoteError
from sqlgh.github import parallel
from sqlgh.github.progress import NoProgress, Progress
from sqlgh.tables import keys
from sqlgh.tables.repositories import fetch_by_owner as list_repositories
from sqlgh.tables.spec import Api, Batch, Fetch

# Batches each running repository's fetch may be ahead of SQLite (it resumes once half
# are taken). A batch is a release's assets, or a page of them for a long list: at 8
# repositories at once, at most 64 pages of 100 assets, most often slices of a release
# list page the fetch holds anyway.
AHEAD = 8
_DONE: Any = object()  # ends a repository's batches: one more repository done


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
    fetches: list[Callable[[], Iterator[Any]]] = [
        partial(_one_repository, api, fetch_repository, key) for key in repositories
    ]
    bar: Progress = NoProgress()
    if len(fetches) > 1:
        bar = api.client.progress(total=len(fetches), desc=f"{what} of {owner}", unit="repo")
    try:
        for item in parallel.chain(fetches, api.client.max_concurrency, AHEAD):
            if item is _DONE:
                bar.update(1)
            else:
                yield item
    finally:
        bar.close()


def _one_repository(api: Api, fetch_repository: Fetch, key: Mapping[str, Any]) -> Iterator[Any]:
    yield from fetch_repository(api, key)
    yield _DONE


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
