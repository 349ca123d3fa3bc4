"""The ``checksum_entries`` table: the lines of the checksum files attached to releases.

A release's checksum files (``sqlgh.checksums.is_checksum_file``) are downloaded (each
verified against its size and GitHub digest) and parsed; one row per line that names a
file. A statement downloads each checksum file once, however often a join asks for its
release (the statement's replay cache, ``sqlgh.fetches``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from sqlgh.checksums import MAX_FILE_SIZE, ChecksumFileError, is_checksum_file, parse
from sqlgh.errors import RemoteError
from sqlgh.tables import keys, release_assets
from sqlgh.tables.asset_content import read_content
from sqlgh.tables.owner_scan import per_repository
from sqlgh.tables.spec import AccessPath, Api, Batch, Column, Table

NAME = "checksum_entries"

COLUMNS = (
    Column("owner", validate=keys.owner_name, doc="Repository owner."),
    Column("repo", validate=keys.repo_name, doc="Repository name."),
    Column(
        "release_id",
        sql_type="INTEGER",
        validate=keys.positive_id,
        doc="Id of the release the checksum file is attached to.",
    ),
    Column("file", "$.file", doc="The file the line names (an asset's name, if all is well)."),
    Column(
        "asset_name",
        "$.asset_name",
        doc="The last part of file (after any directory): the asset it should match.",
    ),
    Column("algorithm", "$.algorithm", doc="md5, sha1, sha256 or sha512."),
    Column("expected", "$.expected", doc="The digest the line gives, lower-case hex."),
    Column("source_asset", "$.source_asset", doc="Name of the checksum file (an asset)."),
    Column("source_asset_id", "$.source_asset_id", "INTEGER", doc="Id of that asset."),
    Column("line", "$.line", "INTEGER", doc="Line number in the checksum file."),
)


def _entries(
    api: Api, context: Mapping[str, Any], assets: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The rows of the checksum files among ``assets`` (one release's)."""
    rows: list[dict[str, Any]] = []
    for asset in assets:
        name = asset.get("name")
        if not isinstance(name, str) or asset.get("state") != "uploaded":
            continue
        if is_checksum_file(name):
            for entry in parse(_content(api, context, asset), name):
                rows.append(
                    {
                        "file": entry.file,
                        "asset_name": entry.file.rsplit("/", 1)[-1],
                        "algorithm": entry.algorithm,
                        "expected": entry.expected,
                        "source_asset": name,
                        "source_asset_id": asset.get("id"),
                        "line": entry.line,
                    }
                )
    return rows


def _content(api: Api, context: Mapping[str, Any], asset: Mapping[str, Any]) -> bytes:
    """The checksum file's bytes, refused above ``MAX_FILE_SIZE`` before a byte is fetched."""
    size = asset.get("size")
    if isinstance(size, int) and size > MAX_FILE_SIZE:
        raise ChecksumFileError(
            f"{asset.get('name')} is {size} bytes, more than a checksum file may be "
            f"({MAX_FILE_SIZE} bytes)"
        )
    bounded = replace(api, options={**api.options, "max_content_size": MAX_FILE_SIZE})
    return bytes(read_content(bounded, context["owner"], context["repo"], asset))


def _with_entries(api: Api, batches: Iterator[Batch]) -> Iterator[Batch]:
    """Each release's assets (batches of release_assets) turned into its checksum lines."""
    pending: tuple[Mapping[str, Any], list[Mapping[str, Any]]] | None = None
    for context, assets in batches:
        if pending is not None and pending[0]["release_id"] != context["release_id"]:
            yield _release_batch(api, *pending)
            pending = None
        if pending is None:
            pending = (context, [])
        pending[1].extend(assets)
    if pending is not None:
        yield _release_batch(api, *pending)


def _release_batch(
    api: Api, context: Mapping[str, Any], assets: list[Mapping[str, Any]]
) -> Batch:
    owner, repo, release_id = context["owner"], context["repo"], context["release_id"]
    key = {"owner": owner, "repo": repo, "release_id": release_id}
    try:
        return key, _entries(api, key, assets)
    except ChecksumFileError as exc:
        raise RemoteError(
            f"{NAME}: release {release_id} of {owner}/{repo}: {exc}; the file is not read. "
            f"Leave the release out (AND release_id <> {release_id}), or check the file "
            "with release_assets.data"
        ) from None


def fetch_by_release(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """The release's asset list (as release_assets reads it), then its checksum files."""
    return _with_entries(api, release_assets.fetch_by_release(api, key))


def fetch_by_repo(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """Every release's assets (the release list, with embedded assets), then the checksum
    files of each."""
    return _with_entries(api, release_assets.fetch_by_repo(api, key))


_CHECKSUM_FILES = "+1 download per checksum file (an API request and one to object storage)"

TABLE = Table(
    name=NAME,
    doc="Lines of the checksum files (SHA256SUMS, *checksums*.txt, *.sha256, *.sha512) "
    "attached to releases: one row per file a line names.",
    columns=COLUMNS,
    paths=(
        AccessPath(
            "by_release",
            ("owner", "repo", "release_id"),
            fetch_by_release,
            f"as release_assets by_release, {_CHECKSUM_FILES}",
            cost=5,
            rows=20,
        ),
        AccessPath(
            "by_repo",
            ("owner", "repo"),
            fetch_by_repo,
            f"as release_assets by_repo, {_CHECKSUM_FILES}",
            cost=50,
            rows=500,
            ahead=True,
        ),
        AccessPath(
            "by_owner",
            ("owner",),
            per_repository(fetch_by_repo, "checksum files", "checksum_entries"),
            f"as release_assets by_owner, {_CHECKSUM_FILES}",
            cost=5000,
            rows=50_000,
        ),
    ),
    needs="owner (with repo, and release_id, to be cheap)",
    rowid=None,
)
