"""The ``release_assets`` table: every file attached to a GitHub release."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlgh.github.client import MAX_PER_PAGE
from sqlgh.github.parallel import head_start, in_worker
from sqlgh.tables import keys
from sqlgh.tables.asset_content import KEPT_FOR_THE_ROW, read_content
from sqlgh.tables.asset_writes import AssetWriter
from sqlgh.tables.endpoints import ASSET, ASSETS, RELEASE, RELEASE_BY_TAG, RELEASES
from sqlgh.tables.memo import (
    EMBEDDED_ASSETS_TRUSTED_BELOW,
    Listing,
    StatementFacts,
    embedded_asset_array,
)
from sqlgh.tables.owner_scan import per_repository
from sqlgh.tables.releases import fetch_by_repo as release_list
from sqlgh.tables.releases import find_by_tag as release_by_tag
from sqlgh.tables.releases import known_release
from sqlgh.tables.remote import Page, get_object, list_page, listing
from sqlgh.tables.spec import AccessPath, Api, Batch, Column, Deferred, Table
from sqlgh.tables.spelling import spelled

NAME = "release_assets"


def _download(api: Api, ctx: Mapping[str, Any], asset: Mapping[str, Any]) -> bytearray:
    return read_content(api, ctx["owner"], ctx["repo"], asset)


COLUMNS = (
    Column("owner", validate=keys.owner_name, doc="Repository owner (user or organization)."),
    Column("repo", validate=keys.repo_name, doc="Repository name."),
    Column(
        "release_id",
        sql_type="INTEGER",
        validate=keys.positive_id,
        doc="Id of the release the asset belongs to. Fetched by id alone, an asset the "
        "connection has not yet linked to its release costs one request more when a query "
        "reads this column (NULL for an asset of a draft release not listed yet).",
    ),
    Column("id", "$.id", "INTEGER", validate=keys.positive_id, doc="Asset id (the rowid)."),
    Column(
        "tag_name",
        hidden=True,  # named when wanted: SELECT * stays as wide as it was
        validate=keys.tag_name,
        doc="Tag of the release the asset belongs to (a draft's intended tag; drafts are "
        "seen with push access). Read for free from a release list, a by-tag lookup or a "
        "read by release_id; "
        "otherwise it costs one GET of the release per statement when a query reads it "
        "(a draft's asset read by id: its release is found in the release list first). "
        "Hidden: name it (SELECT *, tag_name ...).",
    ),
    Column("name", "$.name", doc="File name as stored by GitHub."),
    Column("label", "$.label", doc="Display label shown instead of the name, or NULL."),
    Column("state", "$.state", doc="'uploaded' once complete; other values mark broken uploads."),
    Column("content_type", "$.content_type", doc="Media type given at upload."),
    Column("size", "$.size", "INTEGER", doc="Size in bytes."),
    Column("digest", "$.digest", doc="'sha256:<hex>' when GitHub computed one, else NULL."),
    Column("download_count", "$.download_count", "INTEGER", doc="Downloads so far."),
    Column("created_at", "$.created_at", doc="ISO-8601 time of upload."),
    Column("updated_at", "$.updated_at", doc="ISO-8601 time of the last change."),
    Column("url", "$.url", doc="API URL of the asset."),
    Column("browser_download_url", "$.browser_download_url", doc="Public download URL."),
    Column("node_id", "$.node_id", doc="GraphQL node id."),
    Column(
        "uploader",
        "$.uploader",
        hidden=True,
        json=True,
        doc="Uploader as JSON text; hidden: only a query that names it reads it "
        "(`SELECT *` shows uploader_login).",
    ),
    Column("uploader_login", "$.uploader.login", doc="Login of the uploader."),
    Column(
        "data",
        sql_type="BLOB",
        hidden=True,
        load=_download,
        keep_up_to=KEPT_FOR_THE_ROW,
        doc="The asset's bytes: downloaded only when a query uses the column, up to "
        "max_content_size (256 MiB; use download() for larger assets); on INSERT, the bytes "
        "to upload.",
    ),
    Column(
        "path",
        hidden=True,
        doc="INSERT only: a local file to upload, streamed from disk (NULL on SELECT).",
    ),
)


def _context(
    owner: str,
    repo: str,
    release_id: int | None,
    tag: str | Deferred | None,
    assets: Sequence[Any],
    listing: Listing | None = None,
) -> dict[str, Any]:
    # The page of the release list the rows come from, when there is one: the statement
    # knows its releases (a join to releases by id) while their rows are read.
    owner, repo = spelled(owner, repo, assets)
    return {
        "owner": owner,
        "repo": repo,
        "release_id": release_id,
        "tag_name": tag,
        "listing": listing,
    }


def _parent(owner: str, repo: str, release_id: int) -> str:
    return f"release {release_id} of {owner}/{repo}"


def fetch_by_id(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """One GET of the asset; no row when GitHub answers 404. Its release id, when the
    connection has not seen the release, is found only if the query reads it."""
    owner, repo = key["owner"], key["repo"]
    facts = api.statement
    client = api.client
    asset = client.get_json_or_none(client.url(ASSET, owner=owner, repo=repo, asset_id=key["id"]))
    if asset is not None:
        release_id: int | Deferred | None = api.memo.release_of(key["id"])
        if release_id is None:
            release_id = Deferred(partial(_release_id_of, api, facts, owner, repo, asset))
        tag = Deferred(partial(_tag_of_asset, api, facts, owner, repo, asset))
        yield _context(owner, repo, release_id, tag, [asset]), [asset]


DRAFT_WEB_TAG = "untagged-"  # what GitHub puts in a draft's web URLs in place of its tag


def _release_id_of(
    api: Api, facts: StatementFacts, owner: str, repo: str, asset: Mapping[str, Any]
) -> int | None:
    """The id of the release an asset belongs to, by the tag in its download URL: one GET
    of the release per tag and statement (it teaches the connection the release's other
    embedded assets too). None when no published release has that tag: a draft's assets
    are known once the draft is listed (GitHub names a draft ``untagged-...`` in its
    download URLs)."""
    known = api.memo.release_of(asset["id"])
    if known is not None:
        return known
    tag = _download_tag(asset.get("browser_download_url"))
    if tag is None:
        return None
    looked_up, release_id = facts.tag_lookup(owner, repo, tag)
    if not looked_up:
        release = _release_of_web_tag(api, owner, repo, tag)
        release_id = None
        if isinstance(release, dict) and isinstance(release.get("id"), int):
            api.memo.remember_release(owner, repo, release)
            release_id = release["id"]
        facts.remember_tag(owner, repo, tag, release_id)
    if release_id is not None:
        api.memo.remember_asset(asset["id"], release_id)  # past an embedded array's cut too
    return release_id


def _release_of_web_tag(api: Api, owner: str, repo: str, tag: str) -> Any:
    """The release whose web URLs carry ``tag``: the published release of that tag (1
    GET), or, for ``untagged-...``, the draft GitHub names so in its web URLs whatever its
    tag_name (esphome/workflows#170), found in the release list with a token."""
    if not tag.startswith(DRAFT_WEB_TAG):
        url = api.client.url(RELEASE_BY_TAG, owner=owner, repo=repo, tag=tag)
        return api.client.get_json_or_none(url)
    if not api.client.has_token:
        return None  # drafts are listed only to a token that may push
    listed = release_list(api, {"owner": owner, "repo": repo})
    for _, releases in listed:
        for release in releases:
            html_url = release.get("html_url") if isinstance(release, Mapping) else None
            if release.get("draft") and isinstance(html_url, str) and html_url.endswith(
                f"/releases/tag/{tag}"
            ):
                return release
    return None


def release_id_of_asset(api: Api, owner: str, repo: str, asset: Mapping[str, Any]) -> int | None:
    """The id of the release ``asset`` (GitHub's asset object) belongs to, as
    ``_release_id_of`` finds it; for a writer that holds only the asset."""
    return _release_id_of(api, api.statement, owner, repo, asset)


def _tag_of_asset(
    api: Api, facts: StatementFacts, owner: str, repo: str, asset: Mapping[str, Any]
) -> str | None:
    """The tag of an asset's published release: the one in its download URL, once the
    release lookup by that tag confirms it (None for a draft's asset not listed yet)."""
    release_id = _release_id_of(api, facts, owner, repo, asset)
    if release_id is None:
        return None
    tag = _download_tag(asset.get("browser_download_url"))
    if tag is not None and tag.startswith(DRAFT_WEB_TAG):
        return _tag_of_release(api, owner, repo, release_id)  # a draft's own tag_name
    return tag


def _tag_of_release(api: Api, owner: str, repo: str, release_id: int) -> str | None:
    """A release's tag, by one GET of the release (None for an answer that is not it)."""
    url = api.client.url(RELEASE, owner=owner, repo=repo, release_id=release_id)
    release = api.client.get_json_or_none(url)
    if not isinstance(release, dict) or release.get("id") != release_id:
        return None  # another release's tag (and upload URL) must not be taken for its own
    api.memo.remember_release(owner, repo, release)
    tag = release.get("tag_name")
    return tag if isinstance(tag, str) else None


def _download_tag(url: Any) -> str | None:
    """The tag in ``https://host/{owner}/{repo}/releases/download/{tag}/{name}`` (a tag
    may hold slashes, a file name cannot)."""
    if not isinstance(url, str):
        return None
    segments = urlsplit(url).path.split("/")  # "", owner, repo, "releases", "download", ...
    if len(segments) < 7 or segments[3:5] != ["releases", "download"]:
        return None
    return unquote("/".join(segments[5:-1])) or None


def fetch_by_release(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """The release's embedded asset array, from a listing the statement holds, else by
    one GET of the release (as ``releases`` reads it by id; the statement then knows the
    release, so a join to it costs nothing more): trusted under 100 assets, checked once
    at 100 or more, paged when it is cut short (see ``_checked``)."""
    owner, repo, release_id = key["owner"], key["repo"], key["release_id"]
    facts = api.statement  # taken before the first request
    release, held = _release(api, facts, owner, repo, release_id)
    if release is None:  # not a release object: page its asset list
        tag = Deferred(partial(_tag_of_release, api, owner, repo, release_id))
        yield from _release_assets(api, owner, repo, release_id, tag)
        return
    tag = release.get("tag_name")
    whole, first = _checked(api, facts, owner, repo, release_id, release)
    if whole is None:
        yield from _release_assets(api, owner, repo, release_id, tag, first, held)
    else:
        yield from _in_pages(_context(owner, repo, release_id, tag, whole, held), whole)


def _release(
    api: Api, facts: StatementFacts, owner: str, repo: str, release_id: int
) -> tuple[dict[str, Any] | None, Listing | None]:
    """The release, from a listing the statement holds, else by GET (GitHub serves a
    draft by id to a token that may push, as it lists it: fluxerapp/fluxer#2050); with
    the page of one that keeps a fetched release known to the statement while its rows
    are read. A 404 names the missing release, as the asset list's 404 did. None for an
    answer that is not this release."""
    listed = facts.release(owner, repo, release_id)
    if listed is not None:
        return listed, None
    url = api.client.url(RELEASE, owner=owner, repo=repo, release_id=release_id)
    release = get_object(api, url, _parent(owner, repo, release_id))
    if not isinstance(release, dict) or release.get("id") != release_id:
        return None, None
    held = known_release(api, facts, owner, repo, release)
    return held[0], held


def _in_pages(context: Mapping[str, Any], assets: list[dict[str, Any]]) -> Iterator[Batch]:
    """An embedded asset array in batches of at most 100, as its pages would come: a
    cursor holds one batch at a time."""
    for start in range(0, len(assets), MAX_PER_PAGE):
        yield context, assets[start : start + MAX_PER_PAGE]


def fetch_by_release_and_id(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """The release's assets (as ``fetch_by_release`` reads them), keeping the one asked
    for."""
    for context, assets in fetch_by_release(api, key):
        for asset in assets:
            if asset.get("id") == key["id"]:
                yield context, [asset]
                return


def fetch_by_tag(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """The assets of the release(s) of a tag: the by-tag release lookup (``releases``),
    with its embedded assets (paged only for a release of 100 or more)."""
    owner, repo = key["owner"], key["repo"]
    facts = api.statement  # taken before the first request
    for _, found in release_by_tag(api, key):
        for release in found:
            if isinstance(release, dict) and isinstance(release.get("id"), int):
                yield from _assets_of(api, facts, owner, repo, (found, release))


def fetch_by_repo(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """Every asset of every release: the release list, with its embedded asset arrays.

    Releases whose asset list must be paged are started concurrently (their first page),
    a bounded window ahead; rows come out in release order. A fetch started on a read
    thread (ahead of SQLite: ``sqlgh.fetches``, ``owner_scan``) runs its first release
    there, and the rest concurrently once the reader's thread resumes it (a read thread
    runs everything sequentially).
    """
    owner, repo = key["owner"], key["repo"]
    facts = api.statement  # taken before the first request
    url = api.client.url(RELEASES, owner=owner, repo=repo)
    pages = listing(api, url, f"repository {owner}/{repo}")
    assets_of = partial(_assets_of, api, facts, owner, repo)
    releases = _releases(facts, owner, repo, pages)
    if in_worker():
        first = next(releases, None)
        if first is None:
            return
        yield from assets_of(first)
    for batches in api.client.parallel_map(assets_of, releases, _whole_embedded):
        yield from batches


def _whole_embedded(listed: tuple[Listing, Any]) -> bool:
    """Whether a listed release's embedded asset array is its whole asset list, with no
    request to check it (fewer than 100 assets)."""
    embedded = embedded_asset_array(listed[1])
    return embedded is not None and len(embedded) < EMBEDDED_ASSETS_TRUSTED_BELOW


def _releases(
    facts: StatementFacts, owner: str, repo: str, pages: Iterator[list[Any]]
) -> Iterator[tuple[Listing, Any]]:
    """Each release of the pages, with its page as the statement holds it."""
    for listed in facts.release_pages(owner, repo, pages):
        for release in listed:
            yield listed, release


def _assets_of(
    api: Api, facts: StatementFacts, owner: str, repo: str, listed: tuple[Listing, Any]
) -> Iterator[Batch]:
    page, release = listed
    api.memo.remember_release(owner, repo, release)
    release_id = release["id"]
    tag = release.get("tag_name")
    whole, first = _checked(api, facts, owner, repo, release_id, release)
    if whole is None:
        return head_start(_release_assets(api, owner, repo, release_id, tag, first, page))
    return _in_pages(_context(owner, repo, release_id, tag, whole, page), whole)


def _checked(
    api: Api,
    facts: StatementFacts,
    owner: str,
    repo: str,
    release_id: int,
    release: Mapping[str, Any] | None,
) -> tuple[list[dict[str, Any]] | None, Page | None]:
    """The release's embedded asset array if it is its whole asset list (see ``_whole``),
    else None; and the first page of that list when checking fetched it."""
    embedded = embedded_asset_array(release) if release is not None else None
    if embedded is None:
        return None, None
    if len(embedded) < EMBEDDED_ASSETS_TRUSTED_BELOW:
        return embedded, None
    check = partial(_whole, api, owner, repo, release_id)
    return facts.checked_once(owner, repo, release_id, embedded, check)


def _whole(
    api: Api, owner: str, repo: str, release_id: int, embedded: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]] | None, Page | None]:
    """A long embedded asset array (100 or more) if it is the release's whole asset list,
    else None; and the first page of that list when checking fetched it (paging starts
    there).

    One page of 100 of the release's asset list tells
    (whatever the connection's ``per_page``, as a cut at 100 shows on such a page): the
    page where the array's last asset would be, if the array is whole. It is when that
    page holds just the rest of the array and no ``next`` page follows: a release of 5,000
    assets then costs one request instead of 50. When the array is cut short at 100 (page
    1 checked), the check is paging's own first request. Like paging, this reads a release
    at two moments: the check guards against a cut-short array, not against one asset
    deleted and another uploaded between the two requests. It also relies on GitHub
    filtering nothing out of a page after cutting it, as its list endpoints do.
    """
    size = len(embedded)
    last = -(-size // MAX_PER_PAGE)
    url = api.client.url(ASSETS, owner=owner, repo=repo, release_id=release_id)
    params = {"per_page": MAX_PER_PAGE, **({"page": last} if last > 1 else {})}
    page, links = list_page(api, url, _parent(owner, repo, release_id), params)
    whole = "next" not in links and len(page) == size - MAX_PER_PAGE * (last - 1)
    return (embedded if whole else None), ((page, links) if last == 1 else None)


def _release_assets(
    api: Api,
    owner: str,
    repo: str,
    release_id: int,
    tag: str | Deferred | None,
    first: Page | None = None,
    listed: Listing | None = None,
) -> Iterator[Batch]:
    url = api.client.url(ASSETS, owner=owner, repo=repo, release_id=release_id)
    context = None
    for page in listing(api, url, _parent(owner, repo, release_id), first=first):
        api.memo.remember_assets(page, release_id)
        context = context or _context(owner, repo, release_id, tag, page, listed)
        yield context, page


TABLE = Table(
    name=NAME,
    doc="Files attached to releases: one row per asset.",
    columns=COLUMNS,
    paths=(
        AccessPath(
            "by_id",
            ("owner", "repo", "id"),
            fetch_by_id,
            "1 (+1 when the query reads release_id of an asset the connection has not linked "
            "to its release: one GET of the release by tag per statement)",
            cost=1,
            rows=1,
            unique=True,
        ),
        AccessPath(
            "by_release_and_id",
            ("owner", "repo", "release_id", "id"),
            fetch_by_release_and_id,
            "as for by_release, once per statement: the ids of one release share its read "
            "(and the check of a long embedded array); when the array is cut short, paging "
            "stops at the page of the one asked for (up to max_concurrency pages ahead)",
            cost=2,
            rows=1,
            within="by_release",
        ),
        AccessPath(
            "by_release",
            ("owner", "repo", "release_id"),
            fetch_by_release,
            "1 (the release, with its embedded assets; none when the statement holds a "
            "listing of it) under 100 assets, 2 at 100 or more (1 to check the embedded "
            "assets are all there; when they are not, 1 per 100 assets), whatever a LIMIT: "
            "the whole release is read (about 1.4 KB an asset)",
            cost=2,
            rows=50,
        ),
        AccessPath(
            "by_tag",
            ("owner", "repo", "tag_name"),
            fetch_by_tag,
            "as for releases by_tag within the statement (1 for a published release; none "
            "when the statement holds a listing of it, or the whole release list), +1 for a "
            "release of 100 or more assets (the check of its embedded assets, as for "
            "by_release); never from an earlier statement's listing: assets change more "
            "often than releases",
            cost=2,
            rows=50,
        ),
        AccessPath(
            "by_repo",
            ("owner", "repo"),
            fetch_by_repo,
            "1 per 100 releases (+1 per release of 100 or more assets, to check its embedded "
            "assets are all there; when they are not, 1 per 100 assets)",
            cost=10,
            rows=1000,
            ahead=True,
        ),
        AccessPath(
            "by_owner",
            ("owner",),
            per_repository(fetch_by_repo, "release assets", "release_assets"),
            "the owner's repositories as for repositories (1 per 100), then each repository "
            "as for by_repo (1 for a repository without releases), up to max_concurrency "
            "repositories at once",
            cost=1000,
            rows=100_000,
        ),
    ),
    needs="owner (with repo, and release_id or id, to be cheap)",
    writer=AssetWriter(),
    row_noun="asset",
)
