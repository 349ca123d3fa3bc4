"""Assets saved as local files, as ``gh release download`` saves them.

Where a file goes and whether it may be written are settled before any byte moves: the
destination (a directory keeps the asset's name), what to do with a file already there
(``error``, the default, as gh does without ``--clobber`` or ``--skip-existing``;
``skip``; ``overwrite``), whether a missing directory may be created (``mkdir``, only for
a destination ending in ``/``), and whether the asset has bytes at all (its ``state``).
The bytes then go to a temporary file beside the target, made as any new file is (mode
0666 less the umask), are checked against the asset's size and digest, and are moved
into place only then, so a failed download leaves no partial file.

gh's flags: https://man.cx/gh-release-download(1) (``--clobber``: "Overwrite existing
files of the same name"; ``--skip-existing``: "Skip downloading when files of the same
name exist"); without either, gh stops at an existing file, as glab does since
gitlab.com/gitlab-org/cli merge request 4085 ("matching the behavior of gh release
download").
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from sqlgh.errors import InputError, RemoteError, SqlghError
from sqlgh.github.transfer import download
from sqlgh.local_files import create_beside, refuse_to_replace
from sqlgh.tables.asset_content import verify
from sqlgh.tables.endpoints import ASSET
from sqlgh.tables.spec import Api

IF_EXISTS = ("error", "skip", "overwrite")
WORDS = (*IF_EXISTS, "mkdir")


@dataclass(frozen=True)
class Placement:
    """How files are placed: what to do with an existing file, and whether a missing
    destination directory (ending in ``/``) is created."""

    if_exists: str = "error"
    mkdir: bool = False

    @classmethod
    def parse(cls, text: Any, where: str) -> Placement:
        """``'skip'``, ``'overwrite mkdir'``, ...: words of ``WORDS``, by spaces or commas."""
        if text is None:
            return cls()
        words = str(text).replace(",", " ").lower().split() if isinstance(text, str) else None
        unknown = [w for w in words or [] if w not in WORDS]
        chosen = [w for w in words or [] if w in IF_EXISTS]
        if words is None or unknown or len(chosen) > 1:
            raise InputError(
                f"{where}: the options {text!r} are not understood; give one of error (the "
                "default: stop at an existing file), skip (keep it) or overwrite, and mkdir "
                "to create a missing destination directory ending in '/' (e.g. 'skip mkdir')"
            )
        return cls(chosen[0] if chosen else "error", "mkdir" in words)


@dataclass(frozen=True)
class Planned:
    """One asset's file: where it goes, and whether it is kept as it is (``skip``)."""

    owner: str
    repo: str
    asset: Mapping[str, Any]
    target: str
    skipped: bool


def asset_named(asset: Mapping[str, Any]) -> str:
    """``'x.tar.gz' (id 40000001)``."""
    return f"{asset.get('name')!r} (id {asset.get('id')})"


def fetch_asset(api: Api, owner: str, repo: str, asset_id: int, where: str) -> dict[str, Any]:
    """The asset's metadata (one GET); RemoteError naming it when GitHub has none."""
    asset = api.client.get_json_or_none(
        api.client.url(ASSET, owner=owner, repo=repo, asset_id=asset_id)
    )
    if not isinstance(asset, dict):
        raise RemoteError(
            f"{where}: no asset {asset_id} in {owner}/{repo} (deleted, or never there); "
            "list the release's assets (SELECT id, name FROM release_assets WHERE ...) for "
            "the ids that exist"
        )
    return asset


def plan(
    owner: str,
    repo: str,
    asset: Mapping[str, Any],
    destination: str,
    placement: Placement,
    where: str,
    earlier: Mapping[str, Planned] | None = None,
) -> Planned:
    """Where ``asset`` goes and whether it may be written there, before any byte moves.

    ``earlier``: the files this statement planned or wrote already, by ``path_key``; an
    asset landing on one of them is refused."""
    state = asset.get("state")
    if state != "uploaded":
        raise RemoteError(
            f"{where}: asset {asset_named(asset)} of {owner}/{repo} is in state {state!r}, "
            "not 'uploaded': its upload never finished, so GitHub has no bytes to send; "
            "upload it again (INSERT OR REPLACE) or delete it, and leave it out of the "
            "download (AND state = 'uploaded')"
        )
    target = _target_path(destination, asset.get("name"), asset.get("id"), where)
    first = (earlier or {}).get(path_key(target))
    if first is not None:
        raise InputError(collision(where, target, first, asset))
    directory = os.path.dirname(target) or "."
    if not os.path.isdir(directory):
        _make_directory(directory, destination, placement, where)
    refuse_to_replace(target, where)
    exists = os.path.lexists(target)
    if exists and placement.if_exists == "error":
        raise InputError(
            f"{where}: {target!r} exists; sqlgh keeps an existing file unless told: give "
            "'overwrite' to replace it (gh's --clobber) or 'skip' to keep it (gh's "
            "--skip-existing) as the options argument"
        )
    return Planned(owner, repo, asset, target, exists and placement.if_exists == "skip")


def _make_directory(directory: str, destination: str, placement: Placement, where: str) -> None:
    ancestor = directory
    while not os.path.lexists(ancestor) and os.path.dirname(ancestor) not in ("", ancestor):
        ancestor = os.path.dirname(ancestor)
    if os.path.lexists(ancestor) and not os.path.isdir(ancestor):  # a file on the way
        raise InputError(
            f"{where}: cannot create a file in {directory!r} ({ancestor!r} is not a "
            "directory); give a destination in a directory you can write"
        )
    ends_in_separator = destination.endswith(("/", os.sep))
    if not (ends_in_separator and placement.mkdir):
        how = (
            "add 'mkdir' to the options to create it"
            if ends_in_separator
            else "end the destination with '/' and add 'mkdir' to the options to create it"
        )
        raise InputError(
            f"{where}: the directory {directory!r} does not exist; check its spelling, or "
            f"{how}"
        )
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{where}: cannot create the directory {directory!r} ({exc.strerror or exc}); "
            "give a destination in a directory you can write"
        ) from exc


def _target_path(destination: str, name: Any, asset_id: Any, where: str) -> str:
    """The file to write: ``destination``, or the asset's ``name`` in that directory."""
    if not destination:
        raise InputError(f"{where}: the destination is empty; give a directory or a file path")
    if not destination.endswith(("/", os.sep)) and not os.path.isdir(destination):
        target = destination
    elif not isinstance(name, str) or not name:
        raise RemoteError(
            f"{where}: GitHub gave asset {asset_id} no usable name ({name!r}); give a "
            "file path as the destination instead of a directory"
        )
    elif os.path.basename(name) != name or name in (".", ".."):
        raise RemoteError(
            f"{where}: GitHub gave asset {asset_id} the name {name!r}, which is not a plain "
            "file name (it would be written outside the destination), so it is not used; give "
            "a file path as the destination instead of a directory"
        )
    else:
        target = os.path.join(destination, name)
    if os.path.isdir(target):
        raise InputError(
            f"{where}: {target!r} is a directory; give a file path as the destination, "
            "or a directory that holds no directory of the asset's name"
        )
    return target


def path_key(target: str) -> str:
    """``target`` as a key that two spellings of one path share."""
    return os.path.normcase(os.path.abspath(target))


def collision(where: str, target: str, first: Planned, second: Mapping[str, Any]) -> str:
    """The message for two assets of one statement landing on ``target``."""
    return (
        f"{where}: assets {asset_named(first.asset)} and {asset_named(second)} would "
        f"both be written to {target!r}; give each release a directory of its own (e.g. "
        "'downloads/' || release_id || '/') or a file path per asset."
    )


def stopped(
    where: str, failure: BaseException, written: Iterable[Planned], left: Iterable[Planned] = ()
) -> SqlghError:
    """``failure`` (a SqlghError, or GitHub's: a RemoteError) naming ``where``, followed by
    the files the statement wrote before it (they stay: each is whole and verified) and,
    for a batch, those it did not."""
    text = str(failure)
    text = text if text.startswith(where) else f"{where}: {text}"
    cls = type(failure) if isinstance(failure, SqlghError) else RemoteError
    done = [f"{item.target} ({asset_named(item.asset)})" for item in written if not item.skipped]
    missed = [item.target for item in left]
    if not (done or missed):
        return cls(text)
    text = text.rstrip(".")
    if done:
        text += f". Written before it stopped ({len(done)}, whole and verified): "
        text += "; ".join(done)
    elif missed:
        text += ". No file was written"
    if missed:
        text += f". Not written ({len(missed)}): {', '.join(missed)}"
    return cls(text + ".")


class DownloadStopped(SqlghError):
    """A download of a batch stopped because the batch was interrupted (Ctrl-C)."""


class _StoppableSink:
    """A file that refuses further bytes once ``stop`` is set, so that a download running
    on a worker thread ends (and removes its temporary file) when its batch is interrupted."""

    def __init__(self, file: BinaryIO, stop: threading.Event, where: str) -> None:
        self._file, self._stop, self._where = file, stop, where

    def write(self, data: bytes) -> int:
        """Write ``data``, unless the batch was stopped."""
        if self._stop.is_set():
            raise DownloadStopped(f"{self._where}: interrupted")
        return self._file.write(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move like the file (a download that starts over rewinds it)."""
        return self._file.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        """Cut the file like the file does."""
        return self._file.truncate(size)


def write(
    api: Api,
    item: Planned,
    placement: Placement,
    where: str,
    *,
    own_bar: bool = True,
    stop: threading.Event | None = None,
) -> Planned:
    """Download ``item`` into place (unless it is skipped); return it, marked skipped when
    ``skip`` kept a file that appeared at its path during the download.

    The bytes land in a temporary file beside the target, are verified, then moved into
    place: over an existing file only with ``overwrite`` (a file that appeared meanwhile
    stops ``error`` and is kept by ``skip``). ``own_bar``: a progress bar of its own.
    ``stop``: once set (the batch was interrupted), the download ends with DownloadStopped
    at its next bytes, or before its move, and leaves no file.
    """
    if item.skipped:
        return item
    asset, target = item.asset, item.target
    url = api.client.url(ASSET, owner=item.owner, repo=item.repo, asset_id=asset["id"])
    directory = os.path.dirname(target) or "."
    try:
        handle, temporary = create_beside(target)
    except OSError as exc:
        raise InputError(
            f"{where}: cannot create a file in {directory!r} ({exc.strerror or exc}); give "
            "a destination in a directory you can write (a file's path, or a directory)"
        ) from exc
    try:
        with os.fdopen(handle, "wb") as file:
            sink = file if stop is None else _StoppableSink(file, stop, where)
            name = str(asset.get("name", ""))
            written, sha256_hex = download(api.client, url, sink, name=name, own_bar=own_bar)
        verify(asset, written, sha256_hex)
        refuse_to_replace(target, where)  # again: something may have taken its place
        if stop is not None and stop.is_set():
            raise DownloadStopped(f"{where}: interrupted")
        moved = _move_into_place(temporary, target, placement, where)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    return item if moved else replace(item, skipped=True)


def _move_into_place(temporary: str, target: str, placement: Placement, where: str) -> bool:
    """Whether the file was moved into place (False: ``skip`` kept one that appeared)."""
    if placement.if_exists == "overwrite":
        os.replace(temporary, target)
        return True
    try:
        os.link(temporary, target)  # fails if the target exists: no file is replaced
        return True
    except FileExistsError:
        pass
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        if not os.path.lexists(target):  # a file system without hard links
            os.replace(temporary, target)
            return True
    if placement.if_exists == "error":
        raise InputError(
            f"{where}: {target!r} appeared while the asset was downloading; it was kept. "
            "Give 'overwrite' to replace it"
        )
    return False
