"""The ``releases`` and ``latest_releases`` tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlgh.tables import keys
from sqlgh.tables.endpoints import LATEST_RELEASE, RELEASE, RELEASE_BY_TAG, RELEASES
from sqlgh.tables.memo import Listing, StatementFacts
from sqlgh.tables.owner_scan import per_repository
from sqlgh.tables.release_writes import ReleaseWriter
from sqlgh.tables.remote import listing
from sqlgh.tables.spec import AccessPath, Api, Batch, Column, Table
from sqlgh.tables.spelling import spelled


def _columns() -> tuple[Column, ...]:
    return (
        Column("owner", validate=keys.owner_name, doc="Repository owner."),
        Column("repo", validate=keys.repo_name, doc="Repository name."),
        Column(
            "id",
            "$.id",
            "INTEGER",
            validate=keys.positive_id,
            doc="Release id (the rowid).",
        ),
        Column("tag_name", "$.tag_name", validate=keys.tag_name, doc="Git tag of the release."),
        Column("name", "$.name", doc="Release title."),
        Column("body", "$.body", doc="Release notes (Markdown)."),
        Column("draft", "$.draft", "INTEGER", doc="1 for a draft (visible with push access)."),
        Column("prerelease", "$.prerelease", "INTEGER", doc="1 for a pre-release."),
        Column(
            "immutable",
            "$.immutable",
            "INTEGER",
            doc="1 for an immutable release (published with release immutability on): its "
            "assets and tag are locked.",
        ),
        Column("target_commitish", "$.target_commitish", doc="Branch or commit tagged."),
        Column("created_at", "$.created_at", doc="ISO-8601 creation time."),
        Column("published_at", "$.published_at", doc="ISO-8601 publication time, NULL for drafts."),
        Column("author_login", "$.author.login", doc="Login of the author."),
        Column("html_url", "$.html_url", doc="Web page of the release."),
        Column("url", "$.url", doc="API URL of the release."),
        Column("upload_url", "$.upload_url", doc="URI template for uploads (RFC 6570)."),
        Column("tarball_url", "$.tarball_url", doc="Source tarball URL."),
        Column("zipball_url", "$.zipball_url", doc="Source zip URL."),
        Column("node_id", "$.node_id", doc="GraphQL node id."),
        Column("assets_count", "$.assets.`len`", "INTEGER", doc="Number of embedded assets."),
        Column(
            "assets",
            "$.assets",
            hidden=True,
            json=True,
            doc="Embedded assets as a JSON array; hidden: only a query that names it reads "
            "it (`SELECT *` shows assets_count).",
        ),
    )


def _write_columns() -> tuple[Column, ...]:
    """Request members a write sends that a release does not echo: NULL on SELECT."""
    return (
        Column(
            "make_latest",
            hidden=True,
            doc="INSERT and UPDATE only: 'true', 'false' or 'legacy' (GitHub's choice by date "
            "and version) marks the release as the latest, or not (NULL on SELECT).",
        ),
        Column(
            "generate_release_notes",
            sql_type="INTEGER",
            hidden=True,
            doc="INSERT only: 1 lets GitHub write the name and body from the commits.",
        ),
        Column(
            "discussion_category_name",
            hidden=True,
            doc="INSERT and UPDATE only: a discussion of this (existing) category is made for "
            "the release.",
        ),
    )


def _remembered(api: Api, owner: str, repo: str, releases: Listing) -> Batch:
    for release in releases:
        api.memo.remember_release(owner, repo, release)
    spelling = dict(zip(("owner", "repo"), spelled(owner, repo, releases), strict=True))
    return spelling, releases


def known_release(
    api: Api, facts: StatementFacts, owner: str, repo: str, release: dict[str, Any]
) -> Listing:
    """A release another table read by id, known to the statement (as ``fetch_by_id``
    makes it known) while the returned page of one is held, and to the connection."""
    held = facts.releases_listed(owner, repo, [release])
    _remembered(api, owner, repo, held)
    return held


def _one(api: Api, key: Mapping[str, Any], url: str) -> Iterator[Batch]:
    facts = api.statement  # taken before the request
    release = api.client.get_json_or_none(url)
    if release is not None:
        owner, repo = key["owner"], key["repo"]
        yield _remembered(api, owner, repo, facts.releases_listed(owner, repo, [release]))


def fetch_by_id(api: Api, key: Mapping[str, Any]) -> Iterable[Batch]:
    """The release from a listing the statement holds, or a recent one of the connection
    (``sqlgh.tables.recent_listings``); else GET it by id."""
    listed = api.statement.release(key["owner"], key["repo"], key["id"], recent=True)
    if listed is not None:
        return [_listed_batch(key, [listed])]  # finished
    url = api.client.url(RELEASE, owner=key["owner"], repo=key["repo"], release_id=key["id"])
    return _one(api, key, url)


def _listed_batch(key: Mapping[str, Any], releases: list[dict[str, Any]]) -> Batch:
    owner, repo = spelled(key["owner"], key["repo"], releases)
    return {"owner": owner, "repo": repo}, releases


def fetch_by_tag(api: Api, key: Mapping[str, Any]) -> Iterable[Batch]:
    """The releases of a tag as ``find_by_tag`` finds them, with the connection's recent
    listings too (``sqlgh.tables.recent_listings``)."""
    return find_by_tag(api, key, recent=True)


def find_by_tag(api: Api, key: Mapping[str, Any], recent: bool = False) -> Iterable[Batch]:
    """The published release of a tag, else its drafts: from a listing the statement holds
    (any tag, once it holds the whole list; with ``recent``, a release of the tag a recent
    listing of the connection holds), else by GET; failing that, look for drafts in the
    list.

    GitHub's by-tag endpoint serves published releases only (a tag has at most one).
    Drafts are visible to a token with push access, and only through the list, so with a
    token a miss pages it.
    """
    listed = api.statement.releases_of_tag(key["owner"], key["repo"], key["tag_name"], recent)
    if listed is not None:
        return [_listed_batch(key, listed)] if listed else []  # finished
    url = api.client.url(
        RELEASE_BY_TAG, owner=key["owner"], repo=key["repo"], tag=key["tag_name"]
    )
    found = list(_one(api, key, url))
    if found or not api.client.has_token:
        return found  # finished: see spec.Fetch
    return _drafts(api, key)


def releases_of_tag(api: Api, owner: str, repo: str, tag: str) -> list[dict[str, Any]]:
    """The releases of a tag, as ``releases WHERE tag_name = ?`` finds them: the published
    one (1 GET), else, with a token that may see drafts, the drafts of that tag (a 404,
    then 1 request per 100 releases). For other tables that look a release up by tag."""
    key = {"owner": owner, "repo": repo, "tag_name": tag}
    return [dict(release) for _, batch in find_by_tag(api, key) for release in batch]


def _drafts(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    for context, releases in fetch_by_repo(api, key):
        yield context, [r for r in releases if r.get("tag_name") == key["tag_name"]]


def fetch_latest(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """GET the latest release (GitHub's choice: newest non-draft, non-prerelease)."""
    return _one(api, key, api.client.url(LATEST_RELEASE, owner=key["owner"], repo=key["repo"]))


def fetch_by_repo(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """The repository's release list, newest first, 100 a page (kept, whole, for the
    connection's later lookups while fresh: ``sqlgh.tables.recent_listings``)."""
    owner, repo = key["owner"], key["repo"]
    facts = api.statement  # taken before the first request
    url = api.client.url(RELEASES, owner=owner, repo=repo)
    pages = listing(api, url, f"repository {owner}/{repo}")
    for page in facts.release_pages(owner, repo, pages, keep=True):
        yield _remembered(api, owner, repo, page)


TABLE = Table(
    name="releases",
    doc="Releases of a repository, with their assets embedded as JSON.",
    columns=(*_columns(), *_write_columns()),
    paths=(
        AccessPath(
            "by_id",
            ("owner", "repo", "id"),
            fetch_by_id,
            "1; none when the statement holds a listing of the release (a join from "
            "release_assets or releases of the repository), or an earlier statement read "
            "the repository's whole release list less than 60 s ago and the connection wrote "
            "nothing since (reuse_listings)",
            cost=1,
            rows=1,
            unique=True,
        ),
        AccessPath(
            "by_tag",
            ("owner", "repo", "tag_name"),
            fetch_by_tag,
            "1 for a published release (which alone is returned then); else, with a token, 1 "
            "per 100 releases (the drafts of the tag: there may be several). None when the "
            "statement holds the repository's whole release list, or a listing of the "
            "published release; none either when an earlier statement's whole list, less than "
            "60 s old with no write of the connection since, holds a release of the tag "
            "(reuse_listings)",
            cost=1,
            rows=1,
        ),
        AccessPath(
            "by_repo",
            ("owner", "repo"),
            fetch_by_repo,
            "1 per 100 releases",
            cost=3,
            rows=100,
            ahead=True,
        ),
        AccessPath(
            "by_owner",
            ("owner",),
            per_repository(fetch_by_repo, "releases", "releases"),
            "the owner's repositories as for repositories (1 per 100), then 1 per 100 releases "
            "of each repository (1 for a repository without releases), up to max_concurrency "
            "repositories at once",
            cost=300,
            rows=10_000,
        ),
    ),
    needs="owner (with repo to be cheap)",
    writer=ReleaseWriter(),
    row_noun="release",
)

LATEST_TABLE = Table(
    name="latest_releases",
    doc="The latest release of a repository (GitHub's choice), one request per repository.",
    columns=_columns(),
    paths=(
        AccessPath("latest", ("owner", "repo"), fetch_latest, "1", cost=1, rows=1, unique=True),
    ),
    needs="owner and repo",
)
