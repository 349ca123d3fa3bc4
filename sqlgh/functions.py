"""SQL functions sqlgh adds to every connection: readfile, writefile, sha256, filesize,
download."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import apsw

from sqlgh.checksums import is_checksum_file
from sqlgh.errors import InputError, RemoteError, SqlghError
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.github.option_hint import how_to_set
from sqlgh.local_files import checked_path, open_regular
from sqlgh.session import Session
from sqlgh.tables import keys
from sqlgh.tables.asset_content import MAX_CONTENT_SIZE, content_limit, size_text
from sqlgh.tables.asset_files import (
    Placement,
    fetch_asset,
    path_key,
    plan,
    stopped,
    write,
)
from sqlgh.tables.asset_hash import asset_sha256
from sqlgh.tables.asset_names import stored_name_guess


def readfile(
    path: str, limit: int = MAX_CONTENT_SIZE, unread: dict[str, str] | None = None
) -> bytes | None:
    """The bytes of a local file, like the sqlite3 shell's ``readfile(X)``; NULL if unreadable.

    Only a regular file is read: a device (``/dev/zero`` never ends), a FIFO (it blocks
    until a writer comes) or a directory is an error, and so is a file larger than
    ``limit`` (the ``max_content_size`` option) or a path holding a NUL character.
    A file that cannot be read is noted in ``unread`` (path -> why), for the error of an
    INSERT that then gets no data.
    """
    try:
        with open_regular(path, "readfile") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise _too_large_to_read(path, size, limit)
            content = handle.read(size)
            # What the size did not tell: a file that grew, or one of /proc (size 0).
            while more := handle.read(min(1 << 20, limit + 1 - len(content))):
                content += more
                if len(content) > limit:
                    raise _too_large_to_read(path, None, limit)
            return content
    except InputError:
        raise
    except OSError as exc:  # missing, unreadable
        if unread is not None:
            unread[path] = exc.strerror or str(exc)
        return None
    except TypeError:  # not a path
        return None


def _too_large_to_read(path: str, size: int | None, limit: int) -> InputError:
    """The error for a file above ``limit``; ``size`` None: it grew past it while read."""
    how = f"is {size_text(size)}, more" if size is not None else "holds more"
    return InputError(
        f"readfile: {path!r} {how} than sqlgh holds in memory "
        f"(max_content_size, {size_text(limit)}); to upload it, name it in the path column, "
        "which streams it: INSERT INTO release_assets(owner, repo, release_id, path) "
        f"VALUES (..., {path!r}); or raise the max_content_size option "
        f"({how_to_set('max_content_size', size or limit * 2)})"
    )


def writefile(path: str, data: bytes | str | int | float | None) -> int | None:
    """Write a blob or text to a file, like the sqlite3 shell's; return the bytes written."""
    if data is None:
        return None
    if not isinstance(path, str):
        raise InputError(f"writefile: the path must be text, not {_shown(path)}")
    # A number is written as its text, as the sqlite3 shell does (bytes(5) would be NULs).
    payload = data if isinstance(data, bytes) else str(data).encode()
    try:
        with open(checked_path(path, "writefile"), "wb") as handle:
            handle.write(payload)
    except OSError as exc:
        raise InputError(
            f"writefile: cannot write {path!r} ({exc.strerror or exc}); give the path of a "
            "file you can write, in a directory that exists"
        ) from exc
    return len(payload)


def sha256(value: bytes | str | None) -> str | None:
    """``sha256:<hex>`` of a blob, or of a local file named by text (streamed, never held
    in memory): the form of ``release_assets.digest``. NULL gives NULL; a file that
    cannot be read is an error, so a check built on it cannot pass by mistake."""
    if value is None:
        return None
    digest = hashlib.sha256()
    if isinstance(value, bytes):
        digest.update(value)
        return f"sha256:{digest.hexdigest()}"
    if not isinstance(value, str):
        raise InputError(
            f"sha256: give a file's path (text) or a blob, not {_shown(value)}; for a "
            "number's text, CAST(x AS BLOB)"
        )
    try:
        with open_regular(value, "sha256") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(
            f"sha256: {value!r} cannot be read ({exc.strerror or exc}); give the path of a "
            "readable file, or CAST(text AS BLOB) to hash the text itself"
        ) from exc
    return f"sha256:{digest.hexdigest()}"


def filesize(path: str | None) -> int | None:
    """The size in bytes of a local regular file (NULL for NULL); an error when it cannot
    be read, so a check built on it cannot pass by mistake."""
    if path is None:
        return None
    if not isinstance(path, str):
        raise InputError(f"filesize: give a file's path (text), not {_shown(path)}")
    try:
        with open_regular(path, "filesize") as handle:
            return os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise InputError(
            f"filesize: {path!r} cannot be read ({exc.strerror or exc}); give the path of a "
            "readable file"
        ) from exc


def _shown(value: object) -> str:
    """An SQL value as the user wrote it: NULL, a number, or a blob's length."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"a blob of {len(value)} bytes"
    return repr(value)


def _row_of(session: Session, owner: str, repo: str, asset_id: int) -> Mapping[str, Any] | None:
    """The asset as the statement's own ``release_assets`` row holds it (``SELECT
    download(owner, repo, id, ...) FROM release_assets``): its name, size, digest and
    state, without a GET; None when no cursor is on that asset's row."""
    statement = session.statements.running()
    if statement is None:
        return None

    def same(ctx: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
        return (
            obj.get("id") == asset_id
            and str(ctx.get("owner", "")).lower() == owner.lower()
            and str(ctx.get("repo", "")).lower() == repo.lower()
        )

    return statement.fetches.current_row("release_assets", same)


def register_functions(connection: apsw.Connection, session: Session) -> None:
    """Add readfile, writefile, sha256, filesize, download(owner, repo, id, destination
    [, options]), sqlgh_clear_cache() (empties the HTTP cache; returns how many responses it
    held), is_checksum_file(name) (1 for a name checksum_entries reads),
    github_asset_name(name) (a guess at the name GitHub stores for an upload called name)
    and asset_sha256(owner, repo, id) (the asset's sha256, streamed, never held)."""

    def download(
        owner: str, repo: str, asset_id: int, destination: str, options: str | None = None
    ) -> str:
        """Stream an asset to ``destination`` (directory or file); return the path.

        ``options``: ``error`` (default), ``skip`` or ``overwrite`` for an existing file,
        and ``mkdir`` to create a missing destination directory (``sqlgh.tables.asset_files``).
        """
        name = "download"
        if not isinstance(destination, str):
            raise InputError(
                f"{name}: destination must be a directory or file path (text), not "
                f"{_shown(destination)}"
            )
        owner = keys.owner_name(name, "owner", owner)
        repo = keys.repo_name(name, "repo", repo)
        asset_id = keys.positive_id(name, "id", asset_id)
        destination = os.path.expanduser(checked_path(destination, name))
        placement = Placement.parse(options, name)
        api = session.statement.api
        written = api.notes.written_files
        try:
            asset = _row_of(session, owner, repo, asset_id) or fetch_asset(
                api, owner, repo, asset_id, name
            )
            item = plan(owner, repo, asset, destination, placement, name, written)
            path = write(api, item, placement, name).target
        except (GitHubError, TransportError, SqlghError) as exc:
            raise stopped(name, exc, written.values()) from exc  # and what earlier rows wrote
        written[path_key(path)] = item
        return path

    def sha256_of_asset(owner: str, repo: str, asset_id: int) -> str | None:
        """The asset's sha256 hex digest, hashed while it streams; NULL: no such asset."""
        name = "asset_sha256"
        arguments = (
            keys.owner_name(name, "owner", owner),
            keys.repo_name(name, "repo", repo),
            keys.positive_id(name, "id", asset_id),
        )
        try:
            return asset_sha256(session.api, *arguments)
        except (GitHubError, TransportError) as exc:
            raise RemoteError(f"{name}: {exc}") from exc

    limit = content_limit(session.options)

    def read_file(path: str) -> bytes | None:
        return readfile(path, limit, session.statement.api.notes.unread_files)

    connection.create_scalar_function("readfile", read_file, 1)
    connection.create_scalar_function("writefile", writefile, 2)
    connection.create_scalar_function("sha256", sha256, 1)
    connection.create_scalar_function("filesize", filesize, 1)
    connection.create_scalar_function("download", download, 4)
    connection.create_scalar_function("download", download, 5)
    connection.create_scalar_function("asset_sha256", sha256_of_asset, 3)
    connection.create_scalar_function("sqlgh_clear_cache", session.client.clear_cache, 0)
    connection.create_scalar_function(
        "is_checksum_file", lambda name: isinstance(name, str) and is_checksum_file(name), 1,
        deterministic=True,
    )
    connection.create_scalar_function(
        "github_asset_name",
        lambda name: stored_name_guess(name) if isinstance(name, str) else None,
        1,
        deterministic=True,
    )
