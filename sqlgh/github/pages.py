"""The URLs of the pages still to come, from a list's ``rel="next"`` and ``rel="last"``."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_PAGES = 10_000


def remaining(next_url: str, last_url: str | None) -> list[str] | None:
    """Every page URL from ``next_url`` to ``last_url``, or None when they cannot be derived.

    The URLs are GitHub's own links with only ``page`` varied: both links must be the same
    URL apart from an integer ``page``, else the caller keeps following ``rel="next"``.
    """
    if not last_url:
        return None
    first, last = _split(next_url), _split(last_url)
    if first is None or last is None or first[0] != last[0]:
        return None
    start, stop = first[1], last[1]
    if not 0 < start <= stop or stop - start > MAX_PAGES:
        return None
    return [next_url, *(_with_page(next_url, n) for n in range(start + 1, stop + 1))]


def _split(url: str) -> tuple[tuple[str, ...], int] | None:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    numbers = [v for k, v in query if k == "page"]
    if len(numbers) != 1 or not numbers[0].isdigit():
        return None
    rest = tuple(f"{k}={v}" for k, v in query if k != "page")
    return (parts.scheme, parts.netloc, parts.path, *rest), int(numbers[0])


def _with_page(url: str, number: int) -> str:
    parts = urlsplit(url)
    query = [
        (k, str(number) if k == "page" else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))
