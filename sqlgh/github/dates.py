"""HTTP dates (``Date``, ``Last-Modified``: RFC 9110 5.6.7) as POSIX timestamps."""

from __future__ import annotations

from email.utils import parsedate_to_datetime


def http_date(value: str | None) -> float | None:
    """The timestamp an HTTP date header gives; None when it is missing or unreadable."""
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None
