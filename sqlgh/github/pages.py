"""The URLs of the pages still to come, from a list's ``rel="next"`` and ``rel="last"``,
and the page after a stored one whose ``Link`` may be out of date.

GitHub's ETag covers a page's body, not its ``Link`` header, and a 304 carries no ``Link``:
a list of exactly one full page that grew a second page still answered 304 for page 1,
without pagination headers (app-sre/github-mirror#57), and GitHub staff answered that a
page's ETag applies to the items of that page only (github.community, "How to correctly use
ETag with the paginated responses in REST API"). So after a 304 the stored links describe
the list as it was: a list that grew past a full last page is not linked from it, and one
that shrank is still linked to pages past its end, which GitHub answers with 200 and ``[]``
(liorocks/Pagination#13).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_PAGES = 10_000


class LastPage(list):  # type: ignore[type-arg]
    """The items of a list's last page: GitHub linked no ``rel="next"`` from it (or it is
    the empty page that ends a list at GitHub's listing cap)."""

    __slots__ = ()

DEFAULT_PER_PAGE = 30  # GitHub's, for a request that names none


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


def after_full_page(url: str, items: int) -> str | None:
    """The URL of the page after ``url`` when ``items`` fill it (its ``per_page``), else
    None (a page with room left is the list's last)."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    per_page, number = query.get("per_page", str(DEFAULT_PER_PAGE)), query.get("page", "1")
    if not (per_page.isdigit() and number.isdigit()) or items < int(per_page):
        return None
    return _with_page(url, int(number) + 1)


def _split(url: str) -> tuple[tuple[str, ...], int] | None:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    numbers = [v for k, v in query if k == "page"]
    if len(numbers) != 1 or not numbers[0].isdigit():
        return None
    rest = tuple(f"{k}={v}" for k, v in query if k != "page")
    return (parts.scheme, parts.netloc, parts.path, *rest), int(numbers[0])


def _with_page(url: str, number: int) -> str:
    """``url`` asking for page ``number`` (``page`` set in place, else added last)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "page" for k, _ in query):
        query.append(("page", ""))
    query = [(k, str(number) if k == "page" else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(query)))
