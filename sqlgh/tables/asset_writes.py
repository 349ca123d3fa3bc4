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
from collections import Counter
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
from sqlgh.tables.asset_guards import (
    refuse_archived,
    refuse_empty_upload,
    refuse_unknown_state,
)
from sqlgh.tables.asset_limits import check_release, check_size, immutable_refusal, refusal_of
from sqlgh.tables.asset_names import holding, names_for
from sqlgh.tables.asset_replace import Replacement
from sqlgh.tables.asset_requests import (
    FAILURES,
    TABLE,
    answers_since,
    asset_url,
    check_query,
    maybe_applied,
)
from sqlgh.tables.asset_uploads import NameTaken, Payload, Uploader
from sqlgh.tables.content_types import guess_content_type
from sqlgh.tables.endpoints import ASSETS, RELEASE
from sqlgh.tables.spec import Api
from sqlgh.write_report import Write

INSERTABLE = frozenset(
    {"owner", "repo", "release_id", "name", "label", "content_type", "data", "path"}
)
EDITABLE = ("name", "label", "state")


def require_token(api: Api, verb: str, table: str = TABLE) -> None:
    """Refuse a write before any request when no token is set."""
    if not api.client.has_token:
        raise WriteError(
            f'{table}: {verb} needs a token with the "Contents: write" permission; '
            f"sqlgh looks in {where_tokens_come_from(api.client.api_url)}"
        )


def refuse_unsettable(
    table: str, values: Mapping[str, Any], insertable: frozenset[str], give: str
) -> None:
    """Refuse an INSERT that sets a column only GitHub sets; ``give`` says what to give."""
    extra = sorted(c for c, v in values.items() if v is not None and c not in insertable)
    if extra:
        raise InputError(
            f"{table}: INSERT cannot set {', '.join(extra)} (GitHub sets them); give {give}"
        )


class AssetWriter:
    """The write half of ``release_assets``."""

    EDITABLE = EDITABLE
    CHANGE_HINT = "(to change an asset's bytes, INSERT OR REPLACE it)"

    def check_ahead(self, api: Api, rows: list[Mapping[str, Any]], conflict: str) -> str:
        """Check every row of a multi-row INSERT before the first is uploaded: each row's
        values and file (as ``insert`` does), and per release, for all the statement's new
        assets together, immutability and the 1000-asset limit (``asset_limits``). Rows
        that may replace or keep an asset (OR REPLACE, OR IGNORE) are not counted."""
        adding: Counter[tuple[str, str, int]] = Counter()
        named: set[tuple[str, str, int, str]] = set()
        for values in rows:
            owner, repo, release_id, payload = _target(values, api.notes.unread_files)
            adding[(owner, repo, release_id)] += conflict not in ("IGNORE", "REPLACE")
            upload = (owner.lower(), repo.lower(), release_id, payload.name)
            if upload in named and conflict not in ("IGNORE", "REPLACE"):
                # the second upload would meet the first's asset: refused before either
                raise WriteError(
                    f"{TABLE}: two rows upload {payload.name!r} to release {release_id} of "
                    f"{owner}/{repo}; give each asset of a release its own name, or use "
                    "INSERT OR REPLACE to let the later row replace the earlier"
                )
            named.add(upload)
        require_token(api, "INSERT")
        for owner, repo in {(owner, repo) for owner, repo, _ in adding}:
            refuse_archived(api, owner, repo, "INSERT")
        for (owner, repo, release_id), count in adding.items():
            self._upload_url(api, owner, repo, release_id)  # the release, known from now on
            check_release(api, owner, repo, release_id, adding=count)
        return ""  # nothing done on GitHub

    def insert(self, api: Api, values: Mapping[str, Any], conflict: str) -> tuple[int, str]:
        """Upload one asset; return (asset id, what was done in words)."""
        arguments = _insert_arguments(values, api.notes.unread_files)
        owner, repo, release_id, payload, label, content_type = arguments
        require_token(api, "INSERT")
        refuse_archived(api, owner, repo, "INSERT")
        upload_url = self._upload_url(api, owner, repo, release_id)
        uploader = Uploader(api, owner, repo, release_id, upload_url, label, content_type)
        existing = None
        if conflict in ("IGNORE", "REPLACE"):
            existing = self._find(api, owner, repo, release_id, payload.name)
        if existing is None or conflict == "REPLACE":
            check_release(api, owner, repo, release_id, adding=1 if existing is None else 0)
        if existing is None:
            try:
                asset = uploader.upload(payload, payload.name)
                api.memo.count_assets(owner, repo, release_id, 1)
                return int(asset["id"]), f"uploaded {asset['name']!r} (id {asset['id']})"
            except GitHubError as exc:
                refusal = refusal_of(exc, owner, repo, release_id, f"upload {payload.name!r}")
                if refusal is None:
                    raise
                raise _left_behind(uploader, payload.name, refusal) from exc
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
        doing = f"update asset {asset_id}"
        _check_mutable(api, row, doing)
        refuse_archived(api, owner, repo, "UPDATE")
        since = time.time()
        try:
            asset = requests_.patch(api, owner, repo, asset_id, body)
        except SqlghError:
            raise  # GitHub's answer: no such asset, or the name is taken
        except GitHubError as exc:
            if not maybe_applied(answers_since(api, "PATCH", since)):
                raise _explained(api, exc, row, doing) from exc
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
        refuse_archived(api, row["owner"], row["repo"], "DELETE")
        asset_id = int(row["id"])
        doing = f"delete asset {asset_id}"
        _check_mutable(api, row, doing)
        try:
            requests_.delete(api, row["owner"], row["repo"], asset_id)
        except GitHubError as exc:
            raise _explained(api, exc, row, doing) from exc
        release_id = row.get("release_id") or api.memo.release_of(asset_id)
        if release_id is not None:
            api.memo.count_assets(row["owner"], row["repo"], int(release_id), -1)
        api.memo.forget_asset(asset_id)
        return f"deleted asset {asset_id}"

    # dry runs: what a write would send; reads run as usual --------------------------------
    def preview_insert(self, api: Api, values: Mapping[str, Any], conflict: str) -> Write:
        """What ``insert`` would do: the upload (after the same checks and reads)."""
        arguments = _insert_arguments(values, api.notes.unread_files)
        owner, repo, release_id, payload, label, content_type = arguments
        require_token(api, "INSERT")
        refuse_archived(api, owner, repo, "INSERT")
        upload_url = self._upload_url(api, owner, repo, release_id)
        existing = self._find(api, owner, repo, release_id, payload.name)
        if existing is None or conflict == "REPLACE":
            check_release(api, owner, repo, release_id, adding=1 if existing is None else 0)
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
        if body:
            _check_mutable(api, row, f"update asset {row['id']}")
            refuse_archived(api, row["owner"], row["repo"], "UPDATE")
        if "name" in body:
            self._refuse_taken_name(api, row, body["name"])
        url = asset_url(api, row["owner"], row["repo"], int(row["id"]))
        patch = f"PATCH {url}  {json.dumps(body)}"
        return _planned("updated", row, (patch,) if body else ())

    def preview_delete(self, api: Api, row: Mapping[str, Any]) -> Write:
        """What ``delete`` would send: one DELETE."""
        require_token(api, "DELETE")
        refuse_archived(api, row["owner"], row["repo"], "DELETE")
        _check_mutable(api, row, f"delete asset {row['id']}")
        url = asset_url(api, row["owner"], row["repo"], int(row["id"]))
        return _planned("deleted", row, (f"DELETE {url}",))

    def _refuse_taken_name(self, api: Api, row: Mapping[str, Any], name: str) -> None:
        """In a dry run, refuse a rename GitHub would answer 422 already_exists: to a name
        another asset of the release holds (and keeps through the statement's earlier
        rows) or that an earlier row would give. Unchecked when the release is unknown
        (GitHub's asset object does not name its release: a keyed UPDATE's is looked up by
        the tag in its download URL; a draft's is not found that way)."""
        owner, repo, asset_id = row["owner"], row["repo"], int(row["id"])
        release_id = _release_of_row(api, row)
        if release_id is None:
            asset = api.client.get_json_or_none(asset_url(api, owner, repo, asset_id))
            if asset is None:
                return  # the real PATCH would meet the 404
            # (imported here: release_assets imports this module for its writer)
            from sqlgh.tables.release_assets import release_id_of_asset

            release_id = release_id_of_asset(api, owner, repo, asset)
            if release_id is None:
                return
        planned = api.notes.planned_names.setdefault((owner.lower(), repo.lower(), release_id), {})
        holder = self._find(api, owner, repo, release_id, name)
        holder_id = int(holder["id"]) if holder is not None else None
        keeps = holder_id is not None and holder_id != asset_id and holder_id not in planned
        if keeps or any(n == name and i != asset_id for i, n in planned.items()):
            raise WriteError(
                f"{TABLE}: cannot rename asset {asset_id} to {name!r}: that name is taken in "
                "its release (dry run: nothing was sent)"
            )
        planned[asset_id] = name

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
    values: Mapping[str, Any], unread_files: Mapping[str, str]
) -> tuple[str, str, int, Payload, str | None, str]:
    """An INSERT's owner, repo, release id, payload, label and content type, checked."""
    owner, repo, release_id, payload = _target(values, unread_files)
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
        if column == "state":
            refuse_unknown_state(body["state"])
    return body


def _left_behind(uploader: Uploader, name: str, refusal: WriteError) -> WriteError:
    """GitHub refused an upload (a limit, an immutable release): the refusal, once the
    release is read again to tell that the upload left nothing behind."""
    try:
        holder, _ = uploader.holder(names_for(uploader.api, name))
    except FAILURES as exc:
        look = check_query(uploader.owner, uploader.repo, release_id=uploader.release_id)
        return WriteError(
            f"{refusal}; whether GitHub kept a half-made asset named {name!r} could not be "
            f"told ({exc}): look with {look}",
            changed=None,
        )
    if holder is None or holder.get("state") == "uploaded":
        return refusal  # nothing of this upload (a complete asset of the name was there before)
    return WriteError(
        f"{refusal}; GitHub kept a half-made asset {holder.get('name')!r} (id "
        f"{holder.get('id')}, state {holder.get('state')!r}) of this upload",
        changed=True,
    )


def _release_of_row(api: Api, row: Mapping[str, Any]) -> int | None:
    release_id = row.get("release_id") or api.memo.release_of(int(row["id"]))
    return int(release_id) if release_id is not None else None


def _check_mutable(api: Api, row: Mapping[str, Any], doing: str) -> None:
    """Refuse, before any request, a change to an asset of a release known to be immutable."""
    release_id = _release_of_row(api, row)
    if release_id is None:
        return
    state = api.memo.release_state(row["owner"], row["repo"], release_id)
    if state is not None and state[0]:
        raise immutable_refusal(row["owner"], row["repo"], release_id, doing)


def _explained(api: Api, exc: GitHubError, row: Mapping[str, Any], doing: str) -> Exception:
    """GitHub's refusal of an asset change, explained when it is about immutability."""
    release_id = _release_of_row(api, row)
    return refusal_of(exc, row["owner"], row["repo"], release_id, doing) or exc


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
        f"{now}{requests_.outcome_after(matches, failure, 'PATCH')}",
        changed=requests_.changed_after(matches, failure),
    )


def _holds(api: Api, asset: Mapping[str, Any], column: str, value: Any) -> bool:
    if column == "label":
        return (asset.get("label") or "") == value
    if column == "name":
        return asset.get("name") in names_for(api, value)
    return asset.get(column) == value


def _target(
    values: Mapping[str, Any], unread_files: Mapping[str, str]
) -> tuple[str, str, int, Payload]:
    """An INSERT row's owner, repo, release id and bytes, checked (GitHub's 2 GiB too)."""
    refuse_unsettable(
        TABLE,
        values,
        INSERTABLE,
        "owner, repo, release_id, one of data or path, and optionally name, label, "
        "content_type",
    )
    owner = keys.owner_name(TABLE, "owner", values.get("owner"))
    repo = keys.repo_name(TABLE, "repo", values.get("repo"))
    release_id = keys.positive_id(TABLE, "release_id", values.get("release_id"))
    payload = _payload(values, unread_files)
    column = "path" if payload.path else "data"
    refuse_empty_upload(payload.size, column, payload.path)
    check_size(column, payload.name, payload.size)
    return owner, repo, release_id, payload


def _payload(values: Mapping[str, Any], unread_files: Mapping[str, str]) -> Payload:
    """The bytes to upload, from ``data`` or ``path``, and the asset's name.

    ``unread_files``: the files readfile() could not read in this statement (path -> why),
    the likely reason ``data`` is NULL."""
    data, path = values.get("data"), values.get("path")
    if data is None and path is None and unread_files:
        files = "; ".join(f"{name!r} ({why})" for name, why in unread_files.items())
        relative = not all(os.path.isabs(name) for name in unread_files)
        where = f" (relative paths start in {os.getcwd()!r})" if relative else ""
        raise InputError(
            f"{TABLE}.data is NULL: readfile() could not read {files}{where}; give the "
            "path of a file you can read (or name it in the path column, which streams it)"
        )
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
