"""Owner and repository names as GitHub spells them, read from its answers.

GitHub's names are case-insensitive and case-preserving: ``/repos/ACME/Rocket/releases``
answers for ``acme/rocket``, and the URLs in the answer carry the stored spelling (measured:
``/repos/PSF/Requests`` answers ``name: requests``, brekkylab/backlot#122). Rows carry that
spelling, so ``owner = 'ACME'`` and ``owner = 'acme'`` group together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit


def spelled(owner: str, repo: str, objects: Sequence[Any]) -> tuple[str, str]:
    """``owner`` and ``repo`` as the first object's API ``url`` spells them
    (``.../repos/{owner}/{repo}/...``), each when it differs from the typed name in case
    only; else as typed (a renamed repository keeps the name the query gave, and its
    owner is still spelled as GitHub does)."""
    first = objects[0] if objects else None
    url = first.get("url") if isinstance(first, Mapping) else None
    if not isinstance(url, str):
        return owner, repo
    segments = [unquote(s) for s in urlsplit(url).path.split("/")]
    for at in range(len(segments) - 2):
        if segments[at] == "repos":
            found_owner, found_repo = segments[at + 1], segments[at + 2]
            if found_owner.lower() != owner.lower():
                break  # a renamed or transferred owner: as typed
            return found_owner, found_repo if found_repo.lower() == repo.lower() else repo
    return owner, repo


def spelled_owner(owner: str, objects: Sequence[Any]) -> str:
    """``owner`` as the first repository's ``owner.login`` spells it, when they differ in
    case only; else as typed."""
    first = objects[0] if objects else None
    account = first.get("owner") if isinstance(first, Mapping) else None
    login = account.get("login") if isinstance(account, Mapping) else None
    if isinstance(login, str) and login.lower() == owner.lower():
        return login
    return owner
