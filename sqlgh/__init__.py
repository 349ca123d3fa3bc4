"""sqlgh: GitHub release assets as SQL tables.

>>> import sqlgh
>>> db = sqlgh.connect()
>>> db.execute("SELECT name, size FROM release_assets WHERE owner='cli' AND repo='cli'")

Errors a query raises are ``sqlgh.SqlghError`` subclasses, which are ``apsw.Error``s;
GitHub's own answer, when it is the cause, is on their ``__cause__`` chain (docs/python.md).
"""

from __future__ import annotations

__version__ = "0.1.0"

from sqlgh.connection import Connection, connect, demo
from sqlgh.errors import InputError, MissingKeysError, RemoteError, SqlghError, WriteError
from sqlgh.github.errors import AccessError, GitHubError, TransportError
from sqlgh.github.ratelimit import RateLimitError
from sqlgh.local_files import FileChanged

__all__ = [
    "AccessError",
    "Connection",
    "FileChanged",
    "GitHubError",
    "InputError",
    "MissingKeysError",
    "RateLimitError",
    "RemoteError",
    "SqlghError",
    "TransportError",
    "WriteError",
    "__version__",
    "connect",
    "demo",
]
