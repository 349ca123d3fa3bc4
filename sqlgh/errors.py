"""Errors sqlgh raises to its users.

Every message names the table (and column, where one is at fault) and says what to do
instead, because the user meets these as SQL errors in a shell or a script.

They are ``apsw.Error`` subclasses, so ``except apsw.Error`` catches them with SQLite's
own errors, and ``except sqlgh.SqlghError`` catches them alone. When GitHub's answer is
the cause, it is on the chain of ``__cause__`` (``sqlgh.GitHubError``, with ``.status``, or
``sqlgh.TransportError``). docs/python.md lists them.
"""

from __future__ import annotations

import apsw


class SqlghError(apsw.Error):
    """Base class of every error sqlgh raises on purpose (an ``apsw.Error``)."""


class InputError(SqlghError, ValueError):
    """A value in the query cannot be sent to GitHub (bad owner, id, name, ...)."""


class MissingKeysError(SqlghError):
    """The query does not give the key columns the table needs."""


class RemoteError(SqlghError):
    """GitHub answered with an error, or could not be reached."""


class NotFoundError(RemoteError):
    """A key names something GitHub does not have, or does not show this token:
    ``missing`` says what ("repository acme/laser")."""

    def __init__(self, message: str, missing: str = "") -> None:
        super().__init__(message)
        self.missing = missing


class WriteError(SqlghError):
    """A write could not be done (or only partly): the message says what was applied.

    ``changed`` is True when this row's write did change something on GitHub, False when
    it changed nothing, None when that is unknown (the message then says how to check).
    """

    def __init__(self, message: str, *, changed: bool | None = False) -> None:
        super().__init__(message)
        self.changed = changed
