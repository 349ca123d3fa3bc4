"""Checks for the key values a query gives, before any of them reaches a URL.

Each validator takes (table, column, value) and returns the value to use, or raises
InputError with a message naming the table and column and saying what to give instead.
Values are also percent-encoded when URLs are built; these checks make the error clear.
"""

from __future__ import annotations

import re
from typing import Any

from sqlgh.errors import InputError

_OWNER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID = 2**63 - 1


def owner_name(table: str, column: str, value: Any) -> str:
    """A user or organization login: letters, digits, '-' and '_'."""
    text = _text(table, column, value, "a user or organization login, e.g. 'cli'")
    if not _OWNER.fullmatch(text):
        raise InputError(
            f"{table}.{column}: {text!r} is not a GitHub user or organization name "
            "(letters, digits, '-' and '_', at most 100 characters); give the login "
            "alone, e.g. owner = 'cli', not 'cli/cli' or a URL"
        )
    return text


def repo_name(table: str, column: str, value: Any) -> str:
    """A repository name: letters, digits, '.', '-' and '_', never '.' or '..'."""
    text = _text(table, column, value, "a repository name, e.g. 'cli'")
    if not _REPO.fullmatch(text) or text in (".", ".."):
        raise InputError(
            f"{table}.{column}: {text!r} is not a GitHub repository name (letters, digits, "
            "'.', '-' and '_', at most 100 characters); give the name alone, e.g. "
            "repo = 'cli' with owner = 'cli'"
        )
    return text


def positive_id(table: str, column: str, value: Any) -> int:
    """A numeric GitHub id: a positive integer."""
    if value is None:
        raise InputError(f"{table}.{column} is NULL; give a numeric id, e.g. {column} = 123")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(
            f"{table}.{column}: {value!r} is not an integer id; give a number without "
            f"quotes, e.g. {column} = 123"
        )
    if not 0 < value <= MAX_ID:
        raise InputError(f"{table}.{column}: {value} is not a valid id; ids are positive")
    return value


def tag_name(table: str, column: str, value: Any) -> str:
    """A git tag name, as ``git check-ref-format`` allows one (``v1.2.0``, ``release/1.0``).

    Refusing what git refuses also keeps a value from changing the endpoint: an HTTP
    client would resolve a ``..`` path segment before sending it.
    """
    text = _text(table, column, value, "a tag, e.g. 'v1.2.0'")
    problem = _ref_format_problem(text)
    if problem:
        raise InputError(
            f"{table}.{column}: {text!r} cannot be a git tag ({problem}); give a tag such "
            "as 'v1.2.0'"
        )
    return text


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def _ref_format_problem(text: str) -> str | None:
    """What makes ``text`` an invalid git ref name, or None (git-check-ref-format(1))."""
    if _REF_FORBIDDEN.search(text):
        return "no spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in text or "@{" in text or text == "@":
        return "no '..', '@{' or a lone '@'"
    if text.startswith("/") or text.endswith(("/", ".")) or "//" in text:
        return "no leading, trailing or doubled '/' and no trailing '.'"
    if any(part.startswith(".") or part.endswith(".lock") for part in text.split("/")):
        return "no part may start with '.' or end with '.lock'"
    return None


def _text(table: str, column: str, value: Any, example: str) -> str:
    if value is None:
        raise InputError(f"{table}.{column} is NULL; give {example}")
    if not isinstance(value, str):
        raise InputError(f"{table}.{column}: {value!r} is not text; give {example}")
    if not value:
        raise InputError(f"{table}.{column} is empty; give {example}")
    if _CONTROL.search(value):
        raise InputError(f"{table}.{column}: {value!r} contains control characters")
    return value
