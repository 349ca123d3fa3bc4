"""What GitHub would refuse of an asset write, refused before a byte is sent.

- An immutable release takes no new asset and keeps its assets as they are: once
  published, "release assets cannot be modified or deleted" and its tag is locked
  (docs.github.com/en/code-security/concepts/supply-chain-security/immutable-releases).
  GitHub answers an upload 422 "Cannot upload assets to an immutable release."
  (concourse/github-release-resource#151).
- A release holds at most 1000 assets: 422 "file_count limited to 1000 assets"
  (leeguooooo/AgentParty#974).
- A file is at most 2 GiB: "Each file included in a release must be under 2 GiB"
  (docs.github.com "About releases"); 422 "size must be less than or equal to 2147483648"
  (bluerobotics/BlueOS#3683, cli/cli#10182).

What a release is known to be comes from the connection's memo (every release JSON
sqlgh reads, and its own writes); when the memo is behind GitHub (another client
published the release, say), GitHub's own refusal is explained the same way
(``refusal_of``). Other pre-send checks of uploads (an empty file, an archived
repository) belong here too.
"""

from __future__ import annotations

from sqlgh.errors import WriteError
from sqlgh.github.errors import GitHubError
from sqlgh.tables.asset_requests import TABLE
from sqlgh.tables.endpoints import ASSETS
from sqlgh.tables.spec import Api

MAX_ASSETS_PER_RELEASE = 1000
MAX_ASSET_SIZE = 2 * 1024**3


def _where(owner: str, repo: str, release_id: int | None) -> str:
    if release_id is None:
        return f"its release in {owner}/{repo}"
    return f"release {release_id} of {owner}/{repo}"


def immutable_refusal(owner: str, repo: str, release_id: int | None, doing: str) -> WriteError:
    """The error for a write an immutable release refuses; nothing was changed."""
    return WriteError(
        f"{TABLE}: cannot {doing}: {_where(owner, repo, release_id)} is immutable (published "
        "with release immutability on), so its assets can no longer be added, changed or "
        "deleted. Make a new release instead: INSERT INTO releases(owner, repo, tag_name, "
        "draft) VALUES (..., 1), upload its assets, then UPDATE releases SET draft = 0",
        changed=False,
    )


def check_size(column: str, name: str, size: int) -> None:
    """Refuse a file above GitHub's 2 GiB limit (``column``: data or path)."""
    if size > MAX_ASSET_SIZE:
        raise WriteError(
            f"{TABLE}.{column}: {name!r} is {size:,} bytes; GitHub takes at most "
            f"{MAX_ASSET_SIZE:,} bytes (2 GiB) per release asset. Split the file (e.g. "
            "split -b 2000M) and upload the parts",
            changed=False,
        )


def check_release(api: Api, owner: str, repo: str, release_id: int, adding: int = 1) -> None:
    """Refuse ``adding`` uploads to a release that is immutable or would then hold more
    than 1000 assets, as far as the connection knows it (see the module's notes).

    A count the connection does not know (a release of 100 or more assets) is taken by
    listing the assets (1 request per 100) only for several uploads at once (a multi-row
    INSERT, checked whole); for one upload GitHub's own refusal is explained instead
    (``refusal_of``), which costs nothing more and leaves nothing behind either. Once
    counted, the connection's own writes keep the count current.
    """
    state = api.memo.release_state(owner, repo, release_id)
    if state is None:
        return  # not seen: GitHub's answer is explained instead
    immutable, count = state
    if immutable:
        raise immutable_refusal(owner, repo, release_id, "upload to it")
    if count is None:
        if adding <= 1:
            return
        url = api.client.url(ASSETS, owner=owner, repo=repo, release_id=release_id)
        count = sum(1 for _ in api.client.paginate(url))
        api.memo.set_asset_count(owner, repo, release_id, count)
    if count + adding > MAX_ASSETS_PER_RELEASE:
        raise limit_refusal(owner, repo, release_id, count, adding)


def limit_refusal(
    owner: str, repo: str, release_id: int | None, count: int | None, adding: int
) -> WriteError:
    """The error for uploads that would take a release past 1000 assets."""
    holds = f"holds {count} assets" if count is not None else "is full"
    return WriteError(
        f"{TABLE}: {_where(owner, repo, release_id)} {holds}; {adding} more would pass "
        f"GitHub's limit of {MAX_ASSETS_PER_RELEASE} assets per release. Delete assets "
        "first, or put the rest in another release",
        changed=False,
    )


def refusal_of(
    exc: GitHubError, owner: str, repo: str, release_id: int | None, doing: str
) -> WriteError | None:
    """GitHub's 422 for a limit or an immutable release, explained; None for anything else."""
    if exc.status != 422:
        return None
    text = str(exc).lower()
    if "immutable" in text:
        return immutable_refusal(owner, repo, release_id, doing)
    if "file_count" in exc.error_codes or "file_count" in text:
        return limit_refusal(owner, repo, release_id, None, 1)
    if "2147483648" in text:
        return WriteError(
            f"{TABLE}: cannot {doing}: GitHub refused the file as larger than 2 GiB "
            f"({exc}); split it and upload the parts",
            changed=False,
        )
    return None
