"""SQL functions sqlgh adds to every connection: readfile, writefile, download."""

from __future__ import annotations

import os

import apsw

from sqlgh.errors import InputError, RemoteError
from sqlgh.github.errors import GitHubError, TransportError
from sqlgh.local_files import open_regular
from sqlgh.session import Session
from sqlgh.tables import keys
from sqlgh.tables.asset_content import download_to_file


def readfile(path: str) -> bytes | None:
    """The bytes of a local file, like the sqlite3 shell's ``readfile(X)``; NULL if unreadable.

    Only a regular file is read: a device (``/dev/zero`` never ends), a FIFO (it blocks
    until a writer comes) or a directory is an error.
    """
    try:
        with open_regular(path, "readfile") as handle:
            return handle.read()
    except InputError:
        raise
    except (OSError, TypeError, ValueError):  # missing, unreadable, not a path
        return None


def writefile(path: str, data: bytes | str | int | float | None) -> int | None:
    """Write a blob or text to a file, like the sqlite3 shell's; return the bytes written."""
    if data is None:
        return None
    # A number is written as its text, as the sqlite3 shell does (bytes(5) would be NULs).
    payload = data if isinstance(data, bytes) else str(data).encode()
    with open(path, "wb") as handle:
        handle.write(payload)
    return len(payload)


def register_functions(connection: apsw.Connection, session: Session) -> None:
    """Add readfile, writefile, download(owner, repo, id, destination) and
    sqlgh_clear_cache() (empties the HTTP cache; returns how many responses it held)."""

    def download(owner: str, repo: str, asset_id: int, destination: str) -> str:
        """Stream an asset to ``destination`` (directory or file); return the path."""
        name = "download"
        if not isinstance(destination, str):
            raise InputError(f"{name}: destination must be a directory or file path, not NULL")
        arguments = (
            keys.owner_name(name, "owner", owner),
            keys.repo_name(name, "repo", repo),
            keys.positive_id(name, "id", asset_id),
            os.path.expanduser(destination),
        )
        try:
            return download_to_file(session.api, *arguments)
        except (GitHubError, TransportError) as exc:
            raise RemoteError(f"{name}: {exc}") from exc

    connection.create_scalar_function("readfile", readfile, 1)
    connection.create_scalar_function("writefile", writefile, 2)
    connection.create_scalar_function("download", download, 4)
    connection.create_scalar_function("sqlgh_clear_cache", session.client.clear_cache, 0)
