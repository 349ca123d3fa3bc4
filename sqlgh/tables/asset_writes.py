"""INSERT, UPDATE and DELETE on ``release_assets``: uploads, PATCHes and DELETEs.

Writes are sent one at a time. An upload that fails leaves nothing behind: a half-made
asset (GitHub leaves ones in state ``starter`` after a 502) is deleted before retrying,
and an upload that did arrive despite a broken answer is kept rather than duplicated.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import sys
import time
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlgh.errors import InputError, RemoteError, SqlghError, WriteError
from sqlgh.github.auth import where_tokens_come_from
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.transfer import upload
from sqlgh.local_files import FileChanged, SizedBody, open_regular
from sqlgh.tables import keys
from sqlgh.tables.content_types import guess_content_type
from sqlgh.tables.spec import Api

TABLE = "release_assets"
RELEASE = "/repos/{owner}/{repo}/releases/{release_id}"
ASSETS = "/repos/{owner}/{repo}/releases/{release_id}/assets"
ASSET = "/repos/{owner}/{repo}/releases/assets/{asset_id}"

INSERTABLE = frozenset(
    {"owner", "repo", "release_id", "name", "label", "content_type", "data", "path"}
)
EDITABLE = ("name", "label", "state")
# What a step of a write can fail with (SqlghError: a 404 or 422 already explained).
_FAILURES = (GitHubError, TransportError, SqlghError)

# A run of other characters, with the periods around it, becomes one period.
_NOT_STORED = re.compile(r"\.*[^A-Za-z0-9._-][^A-Za-z0-9_-]*")


def stored_name_guess(name: str) -> str:
    """How GitHub is observed to store an upload's name: letters, digits, '.', '-', '_'.

    Other characters become '.' (merging with periods beside them); leading and trailing
    periods go.
    GitHub does not document the rule; the 201 answer carries the real stored name.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NOT_STORED.sub(".", ascii_name).strip(".")


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
        extra = sorted(c for c, v in values.items() if v is not None and c not in INSERTABLE)
        if extra:
            raise InputError(
                f"{TABLE}: INSERT cannot set {', '.join(extra)} (GitHub sets them); give owner, "
                "repo, release_id, one of data or path, and optionally name, label, content_type"
            )
        owner = keys.owner_name(TABLE, "owner", values.get("owner"))
        repo = keys.repo_name(TABLE, "repo", values.get("repo"))
        release_id = keys.positive_id(TABLE, "release_id", values.get("release_id"))
        source = _Source.from_values(values)
        label = _optional_text("label", values.get("label"))
        content_type = _optional_text("content_type", values.get("content_type")) or (
            guess_content_type(source.name)
        )
        require_token(api, "INSERT")
        upload_url = self._upload_url(api, owner, repo, release_id)
        if conflict in ("IGNORE", "REPLACE"):
            existing = self._find(api, owner, repo, release_id, source.name)
            if existing is not None and conflict == "IGNORE":
                return int(existing["id"]), ""  # nothing done on GitHub
            if existing is not None:
                return self._replace(
                    api, owner, repo, release_id, upload_url, source, label, content_type, existing
                )
        asset = self._upload(
            api, owner, repo, release_id, upload_url, source, source.name, label, content_type
        )
        return int(asset["id"]), f"uploaded {asset['name']!r} (id {asset['id']})"

    def update(self, api: Api, row: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
        """PATCH the changed fields of one asset; return what was done."""
        require_token(api, "UPDATE")
        body: dict[str, Any] = {}
        for column, value in changes.items():
            if column == "label":
                body["label"] = "" if value is None else _optional_text("label", value)
            else:
                body[column] = _required_text(column, value)
        if not body:
            return ""
        asset = self._patch(api, row["owner"], row["repo"], row["id"], body)
        if "name" in body and asset.get("name") != body["name"]:
            _report_rename(body["name"], str(asset.get("name")))
        return f"updated {', '.join(body)} of asset {row['id']}"

    def delete(self, api: Api, row: Mapping[str, Any], *, must_exist: bool = False) -> str:
        """DELETE one asset; one already gone counts as deleted, unless ``must_exist``."""
        require_token(api, "DELETE")
        url = api.client.url(ASSET, owner=row["owner"], repo=row["repo"], asset_id=row["id"])
        try:
            api.client.request("DELETE", url)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            if must_exist:
                raise RemoteError(
                    f"{TABLE}: no asset {row['id']} in {row['owner']}/{row['repo']} "
                    f"({exc.describe()})"
                ) from exc
        api.memo.forget_asset(int(row["id"]))
        return f"deleted asset {row['id']}"

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
        api.memo.remember_release(owner, repo, release, None)
        return str(release["upload_url"])

    def _assets(self, api: Api, owner: str, repo: str, release_id: int) -> list[dict]:
        url = api.client.url(ASSETS, owner=owner, repo=repo, release_id=release_id)
        return list(api.client.paginate(url))

    def _find(self, api: Api, owner: str, repo: str, release_id: int, name: str) -> dict | None:
        wanted = {name, stored_name_guess(name)}
        for asset in self._assets(api, owner, repo, release_id):
            if asset.get("name") in wanted:
                return asset
        return None

    def _upload(
        self,
        api: Api,
        owner: str,
        repo: str,
        release_id: int,
        upload_url: str,
        source: _Source,
        name: str,
        label: str | None,
        content_type: str,
    ) -> dict:
        attempts = max(1, int(api.options.get("upload_attempts", 3)))
        backoff = float(api.options.get("retry_backoff", 1.0))
        failure: Exception | None = None
        started = time.time()
        for attempt in range(attempts):
            try:
                with source.open() as body:
                    asset = upload(
                        api.client,
                        upload_url,
                        name=name,
                        label=label,
                        body=body,
                        size=source.size,
                        content_type=content_type,
                    )
                break
            except GitHubError as exc:
                if exc.status == 422 and "already_exists" in exc.error_codes:
                    raise _name_taken(owner, repo, release_id, repr(name)) from exc
                if exc.status < 500:
                    raise
                failure = exc
            except TransportError as exc:
                if not exc.transient:  # refused before sending: nothing to clean up
                    raise
                failure = exc
            except FileChanged as exc:
                raise self._abandoned(api, owner, repo, release_id, name, exc) from exc
            arrived = self._clean_up_failed(api, owner, repo, release_id, name, source, started)
            if arrived is not None:
                asset = arrived
                break
            if attempt + 1 < attempts:
                time.sleep(backoff * 2**attempt)
        else:
            raise WriteError(
                f"{TABLE}: upload of {name!r} to release {release_id} of {owner}/{repo} failed "
                f"{attempts} times ({failure}); nothing half-uploaded was left behind"
            )
        if isinstance(asset.get("id"), int):
            api.memo.remember_asset(asset["id"], release_id)
        if asset.get("name") != name:
            _report_rename(name, str(asset.get("name")))
        return asset

    def _abandoned(
        self, api: Api, owner: str, repo: str, release_id: int, name: str, change: FileChanged
    ) -> WriteError:
        """The error of an upload stopped because its file changed, once the half-made
        (``starter``) asset the attempt left is deleted.

        The body was cut short before its last bytes, so GitHub never completed the
        asset: a complete asset of that name is not this upload's and is left alone.
        """
        try:
            leftover = self._find(api, owner, repo, release_id, name)
            if leftover is None or leftover.get("state") == "uploaded":
                return WriteError(f"{change}; the upload was stopped and nothing was uploaded")
            self.delete(api, {"owner": owner, "repo": repo, "id": leftover["id"]})
        except _FAILURES as exc:
            return WriteError(
                f"{change}; the upload was stopped, and whether GitHub kept a half-made asset "
                f"named {name!r} is unknown ({exc}). Look with SELECT id, name, state FROM "
                f"{TABLE} WHERE owner = '{owner}' AND repo = '{repo}' AND release_id = "
                f"{release_id}; an asset of that name in state 'starter' is most likely this "
                "upload's and can be deleted",
                changed=True,
            )
        return WriteError(
            f"{change}; the upload was stopped and the half-made asset GitHub kept "
            f"(id {leftover['id']}) was deleted, so nothing was uploaded"
        )

    def _clean_up_failed(
        self,
        api: Api,
        owner: str,
        repo: str,
        release_id: int,
        name: str,
        source: _Source,
        started: float,
    ) -> dict | None:
        """After a failed upload: keep our upload if it did arrive, delete a half-made one.

        An asset of that name that is complete but not ours was there before: it is never
        touched, and the upload stops with the usual conflict error.
        """
        leftover = self._find(api, owner, repo, release_id, name)
        if leftover is None:
            return None
        if leftover.get("state") != "uploaded":
            # A retried DELETE may find the asset gone already: delete() takes 404 as done.
            self.delete(api, {"owner": owner, "repo": repo, "id": leftover["id"]})
            return None
        if _is_our_upload(leftover, source, started):
            return leftover
        taken = f"{leftover.get('name')!r} (id {leftover.get('id')}), left as it is"
        raise _name_taken(owner, repo, release_id, taken)

    def _replace(
        self,
        api: Api,
        owner: str,
        repo: str,
        release_id: int,
        upload_url: str,
        source: _Source,
        label: str | None,
        content_type: str,
        existing: Mapping[str, Any],
    ) -> tuple[int, str]:
        """Upload aside, move the old asset aside, rename the new one into place, delete old.

        The name is missing only between the two renames; any failure before the old
        asset is deleted puts it back, so it is never lost.
        """
        name = str(existing["name"])
        tag = secrets.token_hex(4)
        new = self._upload(
            api,
            owner,
            repo,
            release_id,
            upload_url,
            source,
            f"sqlgh-new-{tag}-{name}",
            label,
            content_type,
        )
        aside = f"sqlgh-old-{tag}-{name}"
        old_id, new_id = int(existing["id"]), int(new["id"])
        # A rename whose answer is lost may still have been applied: each failure is
        # judged by the asset's name as GitHub now has it.
        try:
            self._patch(api, owner, repo, old_id, {"name": aside})
        except _FAILURES as exc:
            if self._name_now(api, owner, repo, old_id, name, exc) != aside:
                self._delete_quietly(api, owner, repo, new_id)
                raise _unchanged(name, exc) from exc
        try:
            self._patch(api, owner, repo, new_id, {"name": name})
        except _FAILURES as exc:
            if self._name_now(api, owner, repo, new_id, name, exc) != name:
                self._put_back(api, owner, repo, old_id, new_id, name, exc)
                self._delete_quietly(api, owner, repo, new_id)
                raise _unchanged(name, exc) from exc
        try:
            self.delete(api, {"owner": owner, "repo": repo, "id": old_id})
        except _FAILURES as exc:
            raise WriteError(
                f"{TABLE}: replaced {name!r} (new id {new_id}), but the old asset "
                f"{old_id} could not be deleted and remains as {aside!r}: {exc}",
                changed=True,
            ) from exc
        return new_id, f"replaced {name!r} (id {old_id} -> {new_id})"

    def _name_now(
        self, api: Api, owner: str, repo: str, asset_id: int, name: str, failure: Exception
    ) -> str | None:
        """The asset's current name (None: gone), to judge a rename that failed."""
        url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)
        try:
            asset = api.client.get_json_or_none(url)
        except _FAILURES as exc:
            raise WriteError(
                f"{TABLE}: replacing {name!r} stopped with a rename whose outcome is unknown "
                f"({failure}), and asset {asset_id} could not be read to tell ({exc}); look "
                f"at the release's assets: names starting with 'sqlgh-' are this replace's",
                changed=True,
            ) from exc
        return None if asset is None else str(asset.get("name"))

    def _put_back(
        self,
        api: Api,
        owner: str,
        repo: str,
        old_id: int,
        new_id: int,
        name: str,
        failure: Exception,
    ) -> None:
        """Give the old asset its name again; if that fails, keep both and say where."""
        try:
            self._patch(api, owner, repo, old_id, {"name": name})
        except _FAILURES as exc:
            old_name = self._name_now(api, owner, repo, old_id, name, exc)
            if old_name == name:  # the rename back went through after all
                return
            new_name = self._name_now(api, owner, repo, new_id, name, exc)
            raise WriteError(
                f"{TABLE}: could not replace {name!r}: renaming the new upload into place "
                f"failed ({failure}), and so did renaming the old asset back ({exc}); both "
                f"are kept: the old one as {old_name!r} (id {old_id}), the new one as "
                f"{new_name!r} (id {new_id}). Rename asset {old_id} back to {name!r} with "
                "UPDATE, or the new one into place",
                changed=True,
            ) from failure

    def _patch(self, api: Api, owner: str, repo: str, asset_id: int, body: dict) -> dict:
        url = api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)
        try:
            return api.client.decode(api.client.request("PATCH", url, json=body))
        except GitHubError as exc:
            if exc.status == 404:
                raise RemoteError(f"{TABLE}: no asset {asset_id} in {owner}/{repo}") from exc
            if exc.status == 422 and "already_exists" in exc.error_codes:
                raise WriteError(
                    f"{TABLE}: cannot rename asset {asset_id} to {body.get('name')!r}: that "
                    "name is taken in its release"
                ) from exc
            raise

    def _delete_quietly(self, api: Api, owner: str, repo: str, asset_id: int) -> None:
        try:
            self.delete(api, {"owner": owner, "repo": repo, "id": asset_id})
        except _FAILURES:
            print(f"sqlgh: could not delete temporary asset {asset_id}", file=sys.stderr)


class _Source:
    """The bytes of an upload: a blob from SQL or a file streamed from disk."""

    def __init__(self, name: str, size: int, data: bytes | None, path: str | None) -> None:
        self.name, self.size, self.data, self.path = name, size, data, path

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> _Source:
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
            return cls(_required_text("name", name), len(data), data, None)
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
        return cls(_required_text("name", name), size, None, path)

    def open(self) -> Any:
        """The upload body; a file must keep its size (FileChanged otherwise)."""
        if self.path is not None:
            return SizedBody(self.path, self.size, f"{TABLE}.path")
        return io.BytesIO(self.data or b"")

    def digest(self) -> str:
        """``sha256:<hex>`` of the bytes, as GitHub reports an asset's digest."""
        sha = hashlib.sha256()
        body = open_regular(self.path, f"{TABLE}.path") if self.path else self.open()
        with body:
            while chunk := body.read(1 << 20):
                sha.update(chunk)
        return f"sha256:{sha.hexdigest()}"


def _unchanged(name: str, failure: Exception) -> WriteError:
    return WriteError(f"{TABLE}: could not replace {name!r}, it is unchanged: {failure}")


def _name_taken(owner: str, repo: str, release_id: int, asset: str) -> WriteError:
    """The conflict error of an upload onto a name the release already has."""
    return WriteError(
        f"{TABLE}: release {release_id} of {owner}/{repo} already has an asset named {asset}; "
        "use INSERT OR REPLACE to replace it or INSERT OR IGNORE to keep it"
    )


def _is_our_upload(asset: Mapping[str, Any], source: _Source, started: float) -> bool:
    """Whether a complete asset found after a failed upload holds our bytes.

    By digest when GitHub gives one; otherwise by size and by its creation time not
    being before the upload began (a minute's leeway for clock skew).
    """
    if asset.get("size") != source.size:
        return False
    digest = asset.get("digest")
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return digest.lower() == source.digest()
    created = asset.get("created_at")
    try:
        when = datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return when >= started - 60


def _required_text(column: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{TABLE}.{column}: give non-empty text, not {value!r}")
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise InputError(f"{TABLE}.{column}: {value!r} contains control characters")
    return value


def _optional_text(column: str, value: Any) -> str | None:
    return None if value is None else _required_text(column, value)


def _report_rename(asked: str, stored: str) -> None:
    print(f"sqlgh: GitHub stored {asked!r} as {stored!r}", file=sys.stderr)
