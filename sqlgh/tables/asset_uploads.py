"""One asset upload, retried after a failure without leaving or taking what is not its own.

After a failed attempt, the release is read afresh and the asset holding the name, if any,
is judged by what can be checked (``_may_be_this_attempts``), which is not proof:
- its ``created_at`` is no earlier than the second in which the attempt began (on GitHub's
  clock, by the ``Date`` of that read; both carry whole seconds, so another client's
  upload begun up to about two seconds earlier passes too);
- its uploader is the token's account, when that is known: from GET /user, or from the
  uploader of an asset this connection uploaded. An App's token, Actions' GITHUB_TOKEN
  among them, is refused GET /user; until the connection has uploaded something only the
  time is checked, and a starter deleted on that ground alone is reported on stderr.
Then:
- not complete (GitHub keeps an empty ``starter`` after a 502): deleted when it passes;
  another client's upload in progress, by another account or begun earlier, is left alone;
- complete, passing, and holding these bytes: this upload, arrived despite the broken
  answer; kept, not uploaded twice;
- anything else was there before or is someone else's: never touched.
"""

from __future__ import annotations

import hashlib
import io
import math
import sys
import time
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, BinaryIO

from sqlgh.errors import WriteError
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.transfer import upload
from sqlgh.local_files import FileChanged, SizedBody, open_regular
from sqlgh.tables import asset_requests as requests_
from sqlgh.tables.asset_names import (
    holding,
    known_stored_name,
    learn_stored_name,
    name_within,
    names_for,
    new_tag,
    temporary_name,
)
from sqlgh.tables.asset_requests import (
    FAILURES,
    TABLE,
    Unreadable,
    check_query,
    delete_query,
)
from sqlgh.tables.spec import Api

PROBE = b"\n"  # the bytes of the upload that learns a stored name


class Payload:
    """The bytes of an upload: a blob from SQL or a file streamed from disk."""

    def __init__(self, name: str, size: int, data: bytes | None, path: str | None) -> None:
        self.name, self.size, self.data, self.path = name, size, data, path

    def open(self) -> BinaryIO:
        """The bytes from the start, as a file object; a file must keep its size
        (FileChanged otherwise, see ``SizedBody``)."""
        if self.path is not None:
            return SizedBody(self.path, self.size, f"{TABLE}.path")  # type: ignore[return-value]
        return io.BytesIO(self.data or b"")

    def digest(self) -> str:
        """``sha256:<hex>`` of the bytes, as GitHub reports an asset's digest."""
        sha = hashlib.sha256()
        body = open_regular(self.path, f"{TABLE}.path") if self.path else self.open()
        with body:
            while chunk := body.read(1 << 20):
                sha.update(chunk)
        return f"sha256:{sha.hexdigest()}"


class NameTaken(WriteError):
    """The release already has an asset of the upload's name (``holder``, when known)."""

    def __init__(self, message: str, holder: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class Uploader:
    """Uploads into one release, cleaning up after failed attempts."""

    def __init__(
        self,
        api: Api,
        owner: str,
        repo: str,
        release_id: int,
        upload_url: str,
        label: str | None,
        content_type: str,
    ) -> None:
        self.api, self.owner, self.repo, self.release_id = api, owner, repo, release_id
        self.upload_url, self.label, self.content_type = upload_url, label, content_type

    @property
    def release(self) -> str:
        """The release, in words."""
        return f"release {self.release_id} of {self.owner}/{self.repo}"

    def upload(self, payload: Payload, name: str) -> dict:
        """Upload ``payload`` as ``name``; return the asset GitHub made.

        Raises NameTaken when the name is someone else's, WriteError when every attempt
        failed (nothing of them left behind) or a clean-up could not be finished.
        """
        options = self.api.options
        attempts = max(1, int(options.get("upload_attempts", 3)))
        backoff = float(options.get("retry_backoff", 1.0))
        failure: Exception | None = None
        failed_at: float | None = None  # when the last failed attempt started
        for attempt in range(attempts):
            started = time.monotonic()
            try:
                asset = self._post(payload, name)
                break
            except GitHubError as exc:
                if exc.status == 422 and "already_exists" in exc.error_codes:
                    # A leftover of a failed attempt not found by name, or not ours.
                    arrived = self._judge_holder(payload, name, failed_at)
                    if arrived is not None:
                        asset = arrived
                        break
                    continue
                if exc.status < 500:
                    raise
                failure = exc
            except TransportError as exc:
                if not exc.transient:  # refused before sending: nothing to clean up
                    raise
                failure = exc
            except FileChanged as exc:
                raise self._abandoned(name, exc, started) from exc
            failed_at = started
            arrived = self._clean_up(payload, name, started, failure)
            if arrived is not None:
                asset = arrived
                break
            if attempt + 1 < attempts:
                time.sleep(backoff * 2**attempt)
        else:
            failed = f"{TABLE}: upload of {name!r} to {self.release} failed {attempts} times"
            if failure is not None and requests_.may_still_land(failure):
                raise WriteError(
                    f"{failed} ({failure}); no asset of that name is there yet, but the last "
                    f"POST {requests_.STILL_PENDING}. Check with: "
                    f"{check_query(self.owner, self.repo, release_id=self.release_id)}",
                    changed=None,
                )
            raise WriteError(f"{failed} ({failure}); nothing half-uploaded was left behind")
        stored = str(asset.get("name"))
        learn_stored_name(self.api, name, stored)
        if isinstance(asset.get("id"), int):
            self.api.memo.remember_asset(asset["id"], self.release_id)
        if stored != name and not name.startswith("sqlgh-"):
            print(f"sqlgh: GitHub stored {name!r} as {stored!r}", file=sys.stderr)
        return asset

    def holder(self, names: Collection[str]) -> tuple[dict | None, float]:
        """The asset holding one of ``names`` (as GitHub stores them), read afresh, and
        GitHub's clock (see ``listing_with_clock``)."""
        assets, clock = requests_.listing_with_clock(
            self.api, self.owner, self.repo, self.release_id
        )
        return holding(assets, names), clock

    def stored_names(self, name: str) -> set[str]:
        """The names an upload called ``name`` may carry: its stored name, learned if need be."""
        if known_stored_name(self.api, name) is None:
            self._learn_stored_name(name)
        return names_for(self.api, name)

    # inside -----------------------------------------------------------------------------
    def _post(self, payload: Payload, name: str) -> dict:
        with payload.open() as body:
            asset = upload(
                self.api.client,
                self.upload_url,
                name=name,
                label=self.label,
                body=body,
                size=payload.size,
                content_type=self.content_type,
            )
        requests_.learn_token_login(self.api, asset)
        return asset

    def _abandoned(self, name: str, change: FileChanged, started: float) -> WriteError:
        """The error of an upload stopped because its file changed, once the half-made
        (``starter``) asset the attempt left is deleted.

        The body was cut short before its last bytes, so GitHub never completed the
        asset: a complete asset of that name is not this upload's and is left alone, and a
        starter is deleted only when it passes ``_may_be_this_attempts``.
        """
        try:
            leftover, clock = self.holder(self.stored_names(name))
        except FAILURES as exc:
            return WriteError(
                f"{change}; the upload was stopped, and whether GitHub kept a half-made asset "
                f"named {name!r} is unknown ({exc}). Look with "
                f"{check_query(self.owner, self.repo, release_id=self.release_id)}; an asset "
                "of that name in state 'starter' is most likely this upload's and can be "
                "deleted",
                changed=None,
            )
        mine = (
            leftover is not None
            and leftover.get("state") != "uploaded"
            and self._may_be_this_attempts(leftover, clock + started)
        )
        if not mine:
            return WriteError(f"{change}; the upload was stopped and nothing was uploaded")
        assert leftover is not None
        self._delete_half_made(leftover)
        return WriteError(
            f"{change}; the upload was stopped and the half-made asset GitHub kept "
            f"(id {leftover['id']}) was deleted, so nothing was uploaded"
        )

    def _holder_after_failure(
        self, name: str, failure: Exception | None
    ) -> tuple[dict | None, float]:
        """The holder of the name an upload called ``name`` gets, after an attempt failed;
        Unreadable when it cannot be told."""
        try:
            return self.holder(self.stored_names(name))
        except FAILURES as exc:
            raise Unreadable(
                f"{TABLE}: the outcome of the upload of {name!r} to {self.release} is unknown"
                f"{f' (it failed: {failure})' if failure else ''}: what it left could not be "
                f"read ({exc}). Check with: "
                f"{check_query(self.owner, self.repo, release_id=self.release_id)}; an asset "
                "of that name left in state 'starter' is a half-made upload"
            ) from exc

    def _clean_up(
        self, payload: Payload, name: str, started: float, failure: Exception | None
    ) -> dict | None:
        """After a failed attempt: keep our upload if it did arrive, delete our half-made
        one, leave anything else; None when the way is clear for another attempt."""
        leftover, clock = self._holder_after_failure(name, failure)
        if leftover is None:
            return None
        return self._adopt_or_clear(payload, name, leftover, clock + started)

    def _judge_holder(self, payload: Payload, name: str, failed_at: float | None) -> dict | None:
        """A 422 "already exists": after a failed attempt, the holder may be its leftover
        (found now that its stored name is learned); otherwise the name is taken."""
        if failed_at is None:
            raise self._taken(name, None)
        holder, clock = self._holder_after_failure(name, None)
        if holder is None:  # gone again: the next attempt may go through
            return None
        return self._adopt_or_clear(payload, name, holder, clock + failed_at)

    def _adopt_or_clear(
        self, payload: Payload, name: str, found: Mapping[str, Any], began: float
    ) -> dict | None:
        """Judge the asset holding the name after our attempt that began at ``began``
        (GitHub's clock): ours and complete is returned, ours and half-made is deleted
        (None), anything else stops the upload with NameTaken."""
        ours = self._may_be_this_attempts(found, began)
        if found.get("state") != "uploaded":
            if ours:
                self._delete_half_made(found)
                return None
            raise self._taken(name, found)
        if ours and _same_bytes(found, payload):
            return dict(found)
        raise self._taken(name, found)

    def _may_be_this_attempts(self, asset: Mapping[str, Any], began: float) -> bool:
        """Whether ``asset`` may be what the attempt that began at ``began`` (GitHub's
        clock) made: created no earlier than that second, by the token's account when
        GitHub has told which that is (see the module's notes)."""
        # created_at and Date carry whole seconds (fractions dropped): an asset made at or
        # after ``began`` shows at least floor(began). ``began`` comes from a later Date,
        # so it may be up to a second (plus that read's latency) early: an asset made in
        # the second or two before the attempt passes this test too.
        if _created(asset) < math.floor(began):
            return False
        login = requests_.token_login(self.api)
        return login is None or requests_.uploader_login(asset) == login

    def _delete_half_made(self, asset: Mapping[str, Any]) -> None:
        asset_id = int(asset["id"])
        try:
            requests_.delete(self.api, self.owner, self.repo, asset_id)
        except FAILURES as exc:
            raise WriteError(
                f"{TABLE}: an upload to {self.release} failed and left a half-made asset "
                f"{asset.get('name')!r} (id {asset_id}, state {asset.get('state')!r}) that "
                f"could not be deleted ({exc}); delete it with "
                f"{delete_query(self.owner, self.repo, asset_id)}",
                changed=True,
            ) from exc
        self.api.memo.forget_asset(asset_id)
        if requests_.token_login(self.api) is None:
            print(
                f"sqlgh: deleted the half-made asset {asset.get('name')!r} (id {asset_id}, "
                f"created {asset.get('created_at')}) left by a failed upload, judged this "
                "upload's by its creation time alone: GitHub does not tell this token's "
                f"account (GET /user is refused to an App's token), so its uploader "
                f"({requests_.uploader_login(asset)}) could not be compared",
                file=sys.stderr,
            )

    def _taken(self, name: str, holder: Mapping[str, Any] | None) -> NameTaken:
        shown = repr(name)
        if holder is not None:
            shown = f"{holder.get('name')!r} (id {holder.get('id')}"
            if holder.get("state") != "uploaded":
                by = requests_.uploader_login(holder)
                shown += (
                    f", state {holder.get('state')!r}: a half-made upload by {by} at "
                    f"{holder.get('created_at')}, not this one's (made before it began, or "
                    "by another account); another upload may be in progress, else delete it"
                )
            shown += "), left as it is"
        return NameTaken(
            f"{TABLE}: {self.release} already has an asset named {shown}; use INSERT OR "
            "REPLACE to replace it or INSERT OR IGNORE to keep it",
            holder,
        )

    def _learn_stored_name(self, name: str) -> None:
        """Upload one byte as ``sqlgh-probe-<tag>-<name>``, read the name GitHub stored,
        delete the probe."""
        tag = new_tag()
        probe_name = temporary_name("probe", tag, name)
        try:
            probe = upload(
                self.api.client,
                self.upload_url,
                name=probe_name,
                label=None,
                body=PROBE,
                size=len(PROBE),
                content_type="application/octet-stream",
            )
        except FAILURES as exc:
            raise WriteError(
                f"{TABLE}: could not learn the name GitHub gives {name!r}: a one-byte upload "
                f"as {probe_name!r} failed ({exc}); if an asset starting with "
                f"'sqlgh-probe-{tag}-' is left in {self.release}, delete it",
                changed=None,
            ) from exc
        requests_.learn_token_login(self.api, probe)
        stored = name_within("probe", tag, str(probe.get("name")))
        try:
            requests_.delete(self.api, self.owner, self.repo, int(probe["id"]))
        except FAILURES as exc:
            raise WriteError(
                f"{TABLE}: the temporary asset {probe.get('name')!r} (id {probe['id']}) in "
                f"{self.release} could not be deleted ({exc}); delete it with "
                f"{delete_query(self.owner, self.repo, int(probe['id']))}",
                changed=True,
            ) from exc
        if stored:
            learn_stored_name(self.api, name, stored)


def _created(asset: Mapping[str, Any]) -> float:
    created = str(asset.get("created_at")).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(created).timestamp()
    except ValueError:
        return float("-inf")


def _same_bytes(asset: Mapping[str, Any], payload: Payload) -> bool:
    """By digest when GitHub gives one, else by size."""
    if asset.get("size") != payload.size:
        return False
    digest = asset.get("digest")
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return digest.lower() == payload.digest()
    return True
