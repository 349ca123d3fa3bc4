"""Writes to ``release_assets`` that GitHub would refuse, refused before any request.

Each check raises an ``InputError`` naming the table and column and saying what to do
instead, so a refused row costs nothing on GitHub and leaves nothing behind there.
"""

from __future__ import annotations

from sqlgh.errors import InputError, WriteError
from sqlgh.tables.asset_requests import TABLE
from sqlgh.tables.spec import Api

REPO = "/repos/{owner}/{repo}"

# GitHub answers an empty upload 422 {"code": "custom", "field": "size", "message": "size
# must be greater than or equal to 1"} (svenstaro/upload-release-action#94,
# xresloader/upload-to-github-release#37).
GITHUB_EMPTY_FILE = "size must be greater than or equal to 1"


def refuse_empty_upload(size: int, column: str, path: str | None = None) -> None:
    """Refuse an upload of 0 bytes; ``column`` is where the bytes came from."""
    if size > 0:
        return
    what = f"{path!r} is an empty file" if path is not None else "the blob is empty"
    raise InputError(
        f"{TABLE}.{column}: {what} (0 bytes), and GitHub refuses empty release assets "
        f'("{GITHUB_EMPTY_FILE}"); give at least one byte, or leave this row out'
    )


# The states GitHub documents for an asset are "uploaded" and "open" (the release-asset
# schema's enum in github/rest-api-description), and "starter" for an upload GitHub did not
# finish (REST docs, "Upload a release asset": a 502 "may leave an empty asset with a state
# of starter"), which GitHub sets itself. The PATCH docs give "uploaded" as the example of
# ``state``; no source we found says what "open" means or what GitHub does with another
# value. queries/prune_stale_uploads.sql deletes every asset whose state is not "uploaded",
# so sqlgh sends "uploaded" only.
SETTABLE_STATES = ("uploaded",)


def refuse_unknown_state(state: str) -> None:
    """Refuse an UPDATE to a state other than "uploaded" before any request."""
    if state in SETTABLE_STATES:
        return
    if state == "starter":
        why = "GitHub sets 'starter' itself on an upload it did not finish; DELETE such an asset"
    else:
        why = "GitHub documents no other state to set"
    raise InputError(
        f"{TABLE}.state: cannot set {state!r}; UPDATE can set state only to 'uploaded' ({why})"
    )


# GitHub refuses writes to an archived repository with 403 "Repository was archived so is
# read-only." (docs.github.com/repositories/archiving-a-github-repository: "read-only for
# all users"; the message as conda-forge's bot matches it, regro/cf-scripts). No report we
# found shows the answer of the release-asset endpoints in particular; the emulator
# assumes the same.
ARCHIVED_MESSAGE = "Repository was archived so is read-only."


def refuse_archived(api: Api, owner: str, repo: str, verb: str, table: str = TABLE) -> None:
    """Refuse a write to a repository this connection has read as archived.

    Only what the connection already read is used (``repositories`` rows, a repository
    read by name); when that says archived, one GET confirms it is still archived (a
    repository can be unarchived), so an unknown repository costs no request."""
    if api.memo.archived(owner, repo) is not True:
        return
    repository = api.client.get_json_or_none(api.client.url(REPO, owner=owner, repo=repo))
    if repository is None:
        return  # gone or hidden now: the write gets GitHub's own answer
    api.memo.remember_repositories([repository])
    if repository.get("archived") is True:
        raise WriteError(
            f"{table}: cannot {verb} in {owner}/{repo}: the repository is archived, and "
            f'GitHub refuses writes to it ("{ARCHIVED_MESSAGE}"); unarchive it in its '
            "settings first, or write to another repository"
        )
