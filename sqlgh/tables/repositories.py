"""The ``repositories`` table: the repositories of a user or organization."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlgh.errors import RemoteError
from sqlgh.tables import keys
from sqlgh.tables.asset_requests import token_login
from sqlgh.tables.remote import listing
from sqlgh.tables.spec import AccessPath, Api, Batch, Column, Table
from sqlgh.tables.spelling import spelled_owner

ORG_REPOS = "/orgs/{owner}/repos"
USER_REPOS = "/users/{owner}/repos"
MY_REPOS = "/user/repos"
REPO = "/repos/{owner}/{repo}"

COLUMNS = (
    Column("owner", validate=keys.owner_name, doc="User or organization login."),
    Column("name", "$.name", validate=keys.repo_name, doc="Repository name."),
    Column("full_name", "$.full_name", doc="owner/name as GitHub spells it."),
    Column("id", "$.id", "INTEGER", doc="Repository id (the rowid)."),
    Column("private", "$.private", "INTEGER", doc="1 for a private repository."),
    Column("visibility", "$.visibility", doc="public, private or internal."),
    Column("fork", "$.fork", "INTEGER", doc="1 for a fork."),
    Column("archived", "$.archived", "INTEGER", doc="1 for an archived repository."),
    Column("default_branch", "$.default_branch", doc="Default branch name."),
    Column("description", "$.description", doc="Description, or NULL."),
    Column("created_at", "$.created_at", doc="ISO-8601 creation time."),
    Column("pushed_at", "$.pushed_at", doc="ISO-8601 time of the last push."),
    Column("html_url", "$.html_url", doc="Web page of the repository."),
)


def fetch_by_name(api: Api, key: Mapping[str, Any]) -> Iterable[Batch]:
    """The repository from a listing the statement holds, or a recent one of the
    connection (``sqlgh.tables.recent_listings``); else GET it."""
    listed = api.statement.repository(key["owner"], key["name"], recent=True)
    if listed is not None:
        return [({"owner": spelled_owner(key["owner"], [listed])}, [listed])]  # finished
    return _get(api, key)


def _get(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    url = api.client.url(REPO, owner=key["owner"], repo=key["name"])
    repository = api.client.get_json_or_none(url)
    if repository is not None:
        api.memo.remember_repositories([repository])
        yield {"owner": spelled_owner(key["owner"], [repository])}, [repository]


def fetch_by_owner(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """An organization's repositories (those the token may see); for a user, the user's
    public repositories, or all of them when the user is the token's own account."""
    owner = key["owner"]
    facts = api.statement  # taken before the first request
    yielded = False
    try:
        pages = listing(api, api.client.url(ORG_REPOS, owner=owner), "", {"type": "all"})
        for page in facts.repository_pages(owner, pages, keep=True):
            yielded = True
            api.memo.remember_repositories(page)
            yield {"owner": spelled_owner(owner, page)}, page
        return
    except RemoteError:
        if yielded:
            raise
    # Not an organization: GitHub answers 404 for a user's login on /orgs.
    url, params = api.client.url(USER_REPOS, owner=owner), None
    if _is_token_owner(api, owner):
        url, params = api.client.url(MY_REPOS), {"affiliation": "owner"}
    for page in facts.repository_pages(owner, listing(api, url, f"owner {owner}", params), True):
        api.memo.remember_repositories(page)
        yield {"owner": spelled_owner(owner, page)}, page


def _is_token_owner(api: Api, owner: str) -> bool:
    """Whether ``owner`` is the token's own account (GET /user, once per connection).

    ``/users/{user}/repos`` "lists public repositories for the specified user"
    (docs.github.com/rest/repos/repos#list-repositories-for-a-user), even to that user's
    own token (octokit/octokit.js#968, r-lib/gh#164); ``/user/repos`` with
    ``affiliation=owner`` lists the "repositories that are owned by the authenticated
    user", private ones included
    (docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user).
    """
    if not api.client.has_token:
        return False
    login = token_login(api)
    return login is not None and login.lower() == owner.lower()


TABLE = Table(
    name="repositories",
    doc="Repositories of a user or organization.",
    columns=COLUMNS,
    paths=(
        AccessPath(
            "by_name",
            ("owner", "name"),
            fetch_by_name,
            "1; none when the statement holds a listing of the owner's repositories, or an "
            "earlier statement read their whole list less than 60 s ago and the connection "
            "wrote nothing since (reuse_listings)",
            cost=1,
            rows=1,
            unique=True,
        ),
        AccessPath(
            "by_owner",
            ("owner",),
            fetch_by_owner,
            "1 per 100 repositories (+1 when the owner is a user, not an organization; with a "
            "token, +1 once per connection to learn whether that user is the token's own "
            "account, whose private repositories are then listed too)",
            cost=3,
            rows=100,
            ahead=True,
        ),
    ),
    needs="owner",
)
