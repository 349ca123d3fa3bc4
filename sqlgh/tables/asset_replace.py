"""INSERT OR REPLACE of an asset that exists, without ever losing the name's bytes.

1. upload the new bytes as ``sqlgh-new-<tag>-<name>``;
2. rename the old asset aside to ``sqlgh-old-<tag>-<name>``;
3. rename the new one to ``<name>``;
4. delete the old one.

A step that fails is judged by reading GitHub again (a rename whose answer was lost may
have been applied): an applied step is carried on, one that was not is undone. Another
writer replacing the same name at the same time wins or loses as a whole: the loser
deletes its own upload (and the old asset, if its own rename moved it aside) and says
that the name was replaced by someone else. Ctrl-C between steps 2 and 3 is held until
step 3 (or its undoing) is done; the state is then reported and the interrupt honoured.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from sqlgh.errors import WriteError
from sqlgh.interrupts import held_interrupts
from sqlgh.tables import asset_requests as requests_
from sqlgh.tables.asset_names import new_tag, temporary_name
from sqlgh.tables.asset_requests import (
    FAILURES,
    TABLE,
    Unreadable,
    check_query,
    delete_query,
    sql_text,
)
from sqlgh.tables.asset_uploads import Payload, Uploader


class Replacement:
    """One replace of the asset ``existing`` by ``payload``."""

    def __init__(self, uploader: Uploader, payload: Payload, existing: Mapping[str, Any]) -> None:
        self.uploader, self.payload = uploader, payload
        self.api, self.owner, self.repo = uploader.api, uploader.owner, uploader.repo
        self.name = str(existing["name"])
        self.old_id = int(existing["id"])
        tag = new_tag()
        self.new_name = temporary_name("new", tag, self.name)
        self.aside = temporary_name("old", tag, self.name)
        self.new_id = 0
        self.moved_old = False  # step 2 was applied (a write of this replace landed)

    def run(self) -> tuple[int, str]:
        """Replace; return (new asset id, what was done in words)."""
        self.new_id = int(self._upload_aside()["id"])
        with held_interrupts() as held:
            self._rename_old_aside()
            self._rename_new_in()
        if held.pending:
            print(
                f"sqlgh: interrupted: the rename step was finished first: {self.name!r} "
                f"holds the new upload (id {self.new_id}); the old asset {self.old_id} "
                f"remains as {self.aside!r}: delete it with "
                f"{delete_query(self.owner, self.repo, self.old_id)}",
                file=sys.stderr,
            )
            held.honour()
        self._delete_old()
        return self.new_id, f"replaced {self.name!r} (id {self.old_id} -> {self.new_id})"

    # the steps ---------------------------------------------------------------------------
    def _upload_aside(self) -> dict:
        try:
            return self.uploader.upload(self.payload, self.new_name)
        except KeyboardInterrupt:
            print(
                f"sqlgh: interrupted while uploading {self.new_name!r}: {self.name!r} is "
                "unchanged; a half-made upload of that name may remain: "
                f"{check_query(self.owner, self.repo, release_id=self.uploader.release_id)}",
                file=sys.stderr,
            )
            raise
        except WriteError as exc:
            state = "it is unchanged" if exc.changed is False else "the old asset is untouched"
            raise WriteError(
                f"{TABLE}: could not replace {self.name!r}, {state}: {exc}", changed=exc.changed
            ) from exc
        except FAILURES as exc:
            raise self._unchanged(exc, "") from exc

    def _rename_old_aside(self) -> None:
        failure = self._rename(self.old_id, self.aside)
        if failure is None:
            self.moved_old = True
            return
        where = self._where((self.name, self.aside), (self.new_name,))
        old = self._read(self.old_id, "renaming the old asset aside", failure, where)
        if old is not None and old.get("name") == self.aside:
            self.moved_old = True  # applied, its answer lost
            return
        if old is None or old.get("name") != self.name:
            raise self._beaten(failure)  # deleted, or moved aside by another replace
        raise self._unchanged(failure, self._discard_new())

    def _rename_new_in(self) -> None:
        failure = self._rename(self.new_id, self.name)
        if failure is None:
            return
        where = self._where((self.aside,), (self.new_name, self.name))
        new = self._read(self.new_id, "renaming the new upload into place", failure, where)
        if new is not None and new.get("name") == self.name:
            return  # applied, its answer lost
        holder = self._holder(where, failure)
        if holder is not None and int(holder["id"]) not in (self.old_id, self.new_id):
            raise self._beaten(failure, holder)
        self._put_back(failure)
        raise self._unchanged(failure, self._discard_new())

    def _put_back(self, failure: Exception) -> None:
        """Give the old asset its name again; if that fails, say where each one is."""
        back = self._rename(self.old_id, self.name)
        if back is None:
            return
        where = self._where((self.aside, self.name), (self.new_name,))
        old = self._read(self.old_id, "renaming the old asset back", back, where)
        if old is not None and old.get("name") == self.name:
            return  # applied, its answer lost
        kept_new = (
            f"the new upload is kept as {self.new_name!r} (id {self.new_id}): "
            f"{self._rename_query(self.new_id)} puts it in place"
        )
        if old is None:
            raise WriteError(
                f"{TABLE}: could not replace {self.name!r}: renaming the new upload into "
                f"place failed ({failure}), and the old asset {self.old_id} is gone (deleted "
                f"by someone else meanwhile); {kept_new}",
                changed=True,
            ) from failure
        raise WriteError(
            f"{TABLE}: could not replace {self.name!r}: renaming the new upload into place "
            f"failed ({failure}), and so did renaming the old asset back ({back}); both are "
            f"kept: the old one as {old.get('name')!r} (id {self.old_id}), and {kept_new}, "
            f"or {self._rename_query(self.old_id)} gives the old one its name back",
            changed=True,
        ) from failure

    def _delete_old(self) -> None:
        try:
            requests_.delete(self.api, self.owner, self.repo, self.old_id)
        except KeyboardInterrupt:
            print(
                f"sqlgh: interrupted: {self.name!r} was replaced (new id {self.new_id}); the "
                f"old asset {self.old_id} may remain as {self.aside!r}: "
                f"{check_query(self.owner, self.repo, id=self.old_id)}",
                file=sys.stderr,
            )
            raise
        except FAILURES as exc:
            delete = delete_query(self.owner, self.repo, self.old_id)
            if isinstance(exc, Unreadable):
                state, then = "may remain", f"; if it is still there, delete it with {delete}"
            else:
                state, then = "remains", f"; delete it with {delete}"
            raise WriteError(
                f"{TABLE}: replaced {self.name!r} (new id {self.new_id}), but the old asset "
                f"{self.old_id} could not be deleted and {state} as {self.aside!r}: {exc}{then}",
                changed=True,
            ) from exc
        self.api.memo.forget_asset(self.old_id)

    def _rename(self, asset_id: int, name: str) -> Exception | None:
        """PATCH an asset's name; the failure, or None when it went through."""
        try:
            requests_.patch(self.api, self.owner, self.repo, asset_id, {"name": name})
            return None
        except FAILURES as exc:
            return exc

    # judging and reporting -----------------------------------------------------------------
    def _beaten(self, failure: Exception, holder: Mapping[str, Any] | None = None) -> WriteError:
        """Another writer replaced (or deleted) the name meanwhile: delete this replace's
        upload, and the old asset if this replace's rename holds it aside; say so."""
        leftover = self._discard_new()
        notes = [leftover or f"this INSERT's upload {self.new_id} was deleted"]
        old = self._read_quietly(self.old_id)
        if old is not None and old.get("name") == self.aside:
            try:
                requests_.delete(self.api, self.owner, self.repo, self.old_id)
                notes.append(f"the old asset {self.old_id}, moved aside by it, was deleted")
            except FAILURES as exc:
                leftover = (
                    f"the old asset {self.old_id} remains as {self.aside!r} ({exc}): delete "
                    f"it with {delete_query(self.owner, self.repo, self.old_id)}"
                )
                notes.append(leftover)
        elif not leftover:
            notes.append("nothing of this replace remains on GitHub")
        if holder is None:
            holder = self._holder_quietly()
        now = f" (it is now asset {holder['id']})" if holder is not None else ""
        return WriteError(
            f"{TABLE}: could not replace {self.name!r}: another writer replaced it "
            f"meanwhile{now}; {'; '.join(notes)}. Run the INSERT OR REPLACE again to "
            f"replace their version (this one failed with: {failure})",
            # its own rename of the old asset landed, even if that asset is gone now
            changed=bool(leftover) or self.moved_old,
        )

    def _discard_new(self) -> str:
        """Delete this replace's upload; '' when gone, else a sentence saying it remains."""
        try:
            requests_.delete(self.api, self.owner, self.repo, self.new_id)
            return ""
        except FAILURES as exc:
            return (
                f"the new upload remains as {self.new_name!r} (id {self.new_id}) and could "
                f"not be deleted ({exc}): delete it with "
                f"{delete_query(self.owner, self.repo, self.new_id)}"
            )

    def _unchanged(self, failure: Exception, leftover: str) -> WriteError:
        if leftover:
            return WriteError(
                f"{TABLE}: could not replace {self.name!r}, the old asset keeps its name: "
                f"{failure}; but {leftover}",
                changed=True,
            )
        return WriteError(f"{TABLE}: could not replace {self.name!r}, it is unchanged: {failure}")

    def _get(self, asset_id: int) -> dict[str, Any] | None:
        url = requests_.asset_url(self.api, self.owner, self.repo, asset_id)
        return self.api.client.get_json_or_none(url)

    def _read(
        self, asset_id: int, doing: str, failure: Exception, where: str
    ) -> dict[str, Any] | None:
        try:
            return self._get(asset_id)
        except FAILURES as exc:
            raise self._midway(doing, failure, exc, where) from exc

    def _holder(self, where: str, failure: Exception) -> dict[str, Any] | None:
        try:
            return self._holder_now()
        except FAILURES as exc:
            raise self._midway("renaming the new upload into place", failure, exc, where) from exc

    def _holder_now(self) -> dict[str, Any] | None:
        return self.uploader.holder({self.name})[0]  # the name as GitHub stored it

    def _read_quietly(self, asset_id: int) -> dict[str, Any] | None:
        try:
            return self._get(asset_id)
        except FAILURES:
            return None

    def _holder_quietly(self) -> dict[str, Any] | None:
        try:
            return self._holder_now()
        except FAILURES:
            return None

    def _where(self, old_names: tuple[str, ...], new_names: tuple[str, ...]) -> str:
        def named(names: tuple[str, ...]) -> str:
            return " or ".join(repr(n) for n in names)

        return (
            f"the old asset {self.old_id} is named {named(old_names)} and the new upload "
            f"{self.new_id} is named {named(new_names)}"
        )

    def _midway(self, doing: str, failure: Exception, exc: Exception, where: str) -> Unreadable:
        ids = f"{check_query(self.owner, self.repo)} AND id IN ({self.old_id}, {self.new_id})"
        return Unreadable(
            f"{TABLE}: replacing {self.name!r} stopped: the outcome of {doing} is unknown "
            f"({failure}), and GitHub could not be read to tell ({exc}). Now {where}. Check "
            f"with: {ids}; then give the one you want the name {self.name!r} (UPDATE ... SET "
            "name) and delete the other"
        )

    def _rename_query(self, asset_id: int) -> str:
        return (
            f"UPDATE {TABLE} SET name = {sql_text(self.name)} WHERE owner = "
            f"{sql_text(self.owner)} AND repo = {sql_text(self.repo)} AND id = {asset_id}"
        )
