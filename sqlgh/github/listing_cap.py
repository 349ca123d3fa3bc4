"""GitHub's cap on how far a list can be paged: past it, a page is answered 422 "Only the
first 1000 results are available." (iree-org/iree#16506; 10000 in MeltanoLabs/tap-github#182
and Azure/azure-sdk-tools#9395, with status 422). The page before links to it as
``rel="next"``, so a client that follows the links meets the error after reading the cap.

sqlgh ends the list there, with the items it could read, and says so once per list on
standard error; the refused request stays in the request log (``sqlgh_requests``, status
422), where a query can find it.
"""

from __future__ import annotations

import re

from sqlgh.github.errors import GitHubError

_CAP = re.compile(r"Only the first (\d+) results are available")


def cap_of(exc: GitHubError) -> int | None:
    """The cap GitHub names when ``exc`` is its refusal to page further, else None."""
    if exc.status != 422 or not isinstance(exc.message, str):
        return None
    found = _CAP.match(exc.message)
    return int(found[1]) if found else None


def notice(path: str, cap: int) -> str:
    """The line said when a list stops at the cap."""
    return (
        f"warning: GitHub lists only the first {cap} items of {path} (its listing cap, "
        f"\"Only the first {cap} results are available\"); the rest are not returned. See "
        "docs/rate-limits.md (Listing cap)"
    )
