"""INSERT, UPDATE and DELETE on ``release_assets``: uploads, PATCHes and DELETEs.

Writes are sent one at a time. Every error says what the write changed on GitHub: a
request whose answer was lost is judged by reading the asset again, and when even that
fails the error says that the outcome is unknown and which query tells. Uploads and their
clean-up: ``asset_uploads``; replacing an asset: ``asset_replace``; names GitHub changes:
``asset_names``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlgh.errors import InputError, RemoteError, SqlghError, WriteError
from sqlgh.github.auth import where_tokens_come_from
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.transfer import upload_target
from sqlgh.local_files import open_regular
from sqlgh.tables import asset_requests as requests_
from sqlgh.tables import keys
from sqlgh.tables.asset_names import holding, names_for
from sqlgh.tables.asset_replace import Replacement
from sqlgh.tables.asset_requests import TABLE, answers_since, asset_url, maybe_applied
from sqlgh.tables.asset_uploads import NameTaken, Payload, Uploader
from sqlgh.tables.content_types import guess_content_type
from sqlgh.tables.endpoints import ASSETS, RELEASE
from sqlgh.tables.spec import Api
from sqlgh.write_report import Write

INSERTABLE = frozenset(
    {"owner", "repo", "release_id", "name", "label", "content_type", "data", "path"}
)
EDITABLE = ("name", "label", "state")


def require_token(api: Api, verb: str) -> None:
    """Refuse a write before any request when no token is set."""
    if not api.client.has_token:
        raise WriteError(
            f'{TABLE}: {verb} needs a token with the "Contents: write" permission; '
            f"sqlgh looks in {where_tokens_come_from(api.client.api_url)}"
        )


class AssetWriter:
    """The write half of ``release_assets``."""

    EDITABLE = EDITABLE

    def insert(self, api: Api, values: Mapping[str, Any], conflict: str) -> tuple[int, str]:
        """Upload one asset; return (asset id, what was done in words)."""
        owner, repo, release_id, payload, label, content_type = _insert_arguments(values)
        require_token(api, "INSERT")
        upload_url = self._upload_url(api, owner, repo, release_id)
        uploader = Uploader(api, owner, repo, release_id, upload_url, label, content_type)
        existing = None
        if conflict in ("IGNORE", "REPLACE"):
            existing = self._find(api, owner, repo, release_id, payload.name)
        if existing is None:
            try:
                asset = uploader.upload(payload, payload.name)
                return int(asset["id"]), f"uploaded {asset['name']!r} (id {asset['id']})"
            except NameTaken as exc:
                # A name GitHub stores otherwise than guessed: the holder, by its stored name.
                if conflict not in ("IGNORE", "REPLACE"):
                    raise
                existing = exc.holder or uploader.holder(uploader.stored_names(payload.name))[0]
                if existing is None:
                    raise
        if conflict == "IGNORE":
            return int(existing["id"]), ""  # nothing done on GitHub
        return Replacement(uploader, payload, existing).run()

    def update(self, api: Api, row: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
        """PATCH the changed fields of one asset; return what was done."""
        require_token(api, "UPDATE")
        body = _patch_body(changes)
        if not body:
            return ""
        owner, repo, asset_id = row["owner"], row["repo"], int(row["id"])
        since = time.time()
        try:
            asset = requests_.patch(api, owner, repo, asset_id, body)
        except SqlghError:
            raise  # GitHub's answer: no such asset, or the name is taken
        except GitHubError as exc:
            if not maybe_applied(answers_since(api, "PATCH", since)):
                raise
            asset = _judge_update(api, owner, repo, asset_id, body, exc)
        except TransportError as exc:
            asset = _judge_update(api, owner, repo, asset_id, body, exc)
        if "name" in body and asset.get("name") != body["name"]:
            stored = asset.get("name")
            print(f"sqlgh: GitHub stored {body['name']!r} as {stored!r}", file=sys.stderr)
        return f"updated {', '.join(body)} of asset {asset_id}"

    def delete(self, api: Api, row: Mapping[str, Any]) -> str:
        """DELETE one asset; one already gone counts as deleted."""
        require_token(api, "DELETE")
        asset_id = int(row["id"])
        requests_.delete(api, row["owner"], row["repo"], asset_id)
        api.memo.forget_asset(asset_id)
        return f"deleted asset {asset_id}"

    # dry runs: what a write would send; reads run as usual --------------------------------
    def preview_insert(self, api: Api, values: Mapping[str, Any], conflict: str) -> Write:
        """What ``insert`` would do: the upload (after the same checks and reads)."""
        owner, repo, release_id, payload, label, content_type = _insert_arguments(values)
        require_token(api, "INSERT")
        upload_url = self._upload_url(api, owner, repo, release_id)
        existing = self._find(api, owner, repo, release_id, payload.name)
        post = f"POST {upload_target(upload_url, payload.name, label)}"
        post += f"  ({payload.size} bytes, {content_type})"
        planned = Write("uploaded", owner, repo, release_id, None, payload.name, (post,))
        if existing is None:
            return planned
        old_id = int(existing["id"])
        old = asset_url(api, owner, repo, old_id)
        if conflict == "IGNORE":
            return replace(planned, verb="kept", asset_id=old_id, requests=())
        if conflict == "REPLACE":
            steps = (
                f"{post.partition('?')[0]}?name=...  (the new bytes, under a temporary name)",
                f"PATCH {old}  (the old asset renamed aside)",
                f"PATCH (the new asset)  (renamed to {payload.name!r})",
                f"DELETE {old}  (the old asset)",
            )
            return replace(planned, verb="replaced", asset_id=old_id, requests=steps)
        raise WriteError(
            f"{TABLE}: release {release_id} of {owner}/{repo} already has an asset named "
            f"{payload.name!r}; use INSERT OR REPLACE to replace it or INSERT OR IGNORE to "
            "keep it (dry run: nothing was sent)"
        )

    def preview_update(self, api: Api, row: Mapping[str, Any], changes: Mapping[str, Any]) -> Write:
        """What ``update`` would send: one PATCH of the changed fields."""
        require_token(api, "UPDATE")
        body = _patch_body(changes)
        url = asset_url(api, row["owner"], row["repo"], int(row["id"]))
        patch = f"PATCH {url}  {json.dumps(body)}"
        return _planned("updated", row, (patch,) if body else ())

    def preview_delete(self, api: Api, row: Mapping[str, Any]) -> Write:
        """What ``delete`` would send: one DELETE."""
        require_token(api, "DELETE")
        url = asset_url(api, row["owner"], row["repo"], int(row["id"]))
        return _planned("deleted", row, (f"DELETE {url}",))

    def _upload_url(self, api: Api, owner: str, repo: str, release_id: int) -> str:
        known = api.memo.upload_url(owner, repo, release_id)
        if known:
            return known
        url = api.client.url(RELEASE, owner=owner, repo=repo, release_id=release_id)
        release = api.client.get_json_or_none(url)
        if release is None:
            raise RemoteError(
                f"{TABLE}: release {release_id} of {owner}/{repo} does not exist or is not "
                "visible to this token"
            )
        api.memo.remember_release(owner, repo, release)
        return str(release["upload_url"])

    def _find(self, api: Api, owner: str, repo: str, release_id: int, name: str) -> dict | None:
        # Before any upload: by the known or guessed stored name, not a probe upload (a
        # wrong guess meets GitHub's "already_exists", and insert() then learns the name);
        # a conditional read from the cache, as current as a fresh one.
        url = api.client.url(ASSETS, owner=owner, repo=repo, release_id=release_id)
        return holding(api.client.paginate(url), names_for(api, name))


def _planned(verb: str, row: Mapping[str, Any], requests: tuple[str, ...]) -> Write:
    release_id, name = row.get("release_id"), row.get("name")
    return Write(
        verb,
        row["owner"],
        row["repo"],
        release_id if isinstance(release_id, int) else None,
        int(row["id"]),
        name if isinstance(name, str) else None,
        requests,
    )


def _insert_arguments(
    values: Mapping[str, Any],
) -> tuple[str, str, int, Payload, str | None, str]:
    """An INSERT's owner, repo, release id, payload, label and content type, checked."""
    extra = sorted(c for c, v in values.items() if v is not None and c not in INSERTABLE)
    if extra:
        raise InputError(
            f"{TABLE}: INSERT cannot set {', '.join(extra)} (GitHub sets them); give owner, "
            "repo, release_id, one of data or path, and optionally name, label, content_type"
        )
    owner = keys.owner_name(TABLE, "owner", values.get("owner"))
    repo = keys.repo_name(TABLE, "repo", values.get("repo"))
    release_id = keys.positive_id(TABLE, "release_id", values.get("release_id"))
    payload = _payload(values)
    label = _optional_text("label", values.get("label"))
    content_type = _optional_text("content_type", values.get("content_type")) or (
        guess_content_type(payload.name)
    )
    return owner, repo, release_id, payload, label, content_type


def _patch_body(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body of an UPDATE's changed columns (a NULL label clears it)."""
    body: dict[str, Any] = {}
    for column, value in changes.items():
        if column == "label":
            body["label"] = "" if value is None else _optional_text("label", value)
        else:
            body[column] = _required_text(column, value)
    return body


def _judge_update(
    api: Api, owner: str, repo: str, asset_id: int, body: Mapping[str, Any], failure: Exception
) -> dict:
    """An UPDATE whose answer was lost or a 5xx: the asset as re-read, if the change is
    in it; otherwise an error saying what GitHub shows."""
    shown = ", ".join(f"{k} = {v!r}" for k, v in body.items())
    asset = requests_.read_asset(
        api, owner, repo, asset_id, f"UPDATE of asset {asset_id} ({shown})", failure
    )
    if asset is None:
        raise WriteError(
            f"{TABLE}: the UPDATE of asset {asset_id} ({shown}) failed ({failure}) and the "
            f"asset is gone now (deleted by someone else)",
            changed=None,
        )
    matches = [_holds(api, asset, column, value) for column, value in body.items()]
    if all(matches):
        return asset
    now = ", ".join(f"{k} = {asset.get(k)!r}" for k in body)
    raise WriteError(
        f"{TABLE}: could not update asset {asset_id} ({shown}): {failure}; GitHub now shows "
        f"{now}" + ("" if any(matches) else ", so nothing was changed"),
        changed=False if not any(matches) else None,
    )


def _holds(api: Api, asset: Mapping[str, Any], column: str, value: Any) -> bool:
    if column == "label":
        return (asset.get("label") or "") == value
    if column == "name":
        return asset.get("name") in names_for(api, value)
    return asset.get(column) == value


def _payload(values: Mapping[str, Any]) -> Payload:
    """The bytes to upload, from ``data`` or ``path``, and the asset's name."""
    data, path = values.get("data"), values.get("path")
    if (data is None) == (path is None):
        raise InputError(
            f"{TABLE}: INSERT needs exactly one of data (the bytes) or path (a local file)"
        )
    if data is not None:
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, bytes):
            raise InputError(f"{TABLE}.data: give a blob (x'...', readfile(...)) or text")
        name = values.get("name")
        if name is None:
            raise InputError(f"{TABLE}.name: INSERT with data needs a name")
        return Payload(_required_text("name", name), len(data), data, None)
    if not isinstance(path, str):
        raise InputError(f"{TABLE}.path: {path!r} is not text; give a file's path")
    try:
        with open_regular(path, f"{TABLE}.path") as handle:
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise InputError(
            f"{TABLE}.path: {path!r} cannot be read ({exc.strerror or exc}); make it "
            "readable for this user, or give another file"
        ) from exc
    name = values.get("name") or os.path.basename(path)
    return Payload(_required_text("name", name), size, None, path)


def _required_text(column: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{TABLE}.{column}: give non-empty text, not {value!r}")
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise InputError(f"{TABLE}.{column}: {value!r} contains control characters")
    return value


def _optional_text(column: str, value: Any) -> str | None:
    return None if value is None else _required_text(column, value)
