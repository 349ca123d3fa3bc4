"""What writes did (or, in a dry run, would do) to GitHub, row by row, and the one-line
summary the shell prints: ``deleted 12 assets in 3 releases; 13 requests``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Write:
    """One row's write: ``verb`` in the past tense (uploaded, replaced, kept, updated,
    deleted), the asset's release and its id and name where known, and in a dry run the
    requests it would send (``METHOD URL  note``)."""

    verb: str
    owner: str
    repo: str
    release_id: int | None
    asset_id: int | None = None
    name: str | None = None
    requests: tuple[str, ...] = ()
    noun: str = "asset"  # what the row is: "asset", "release"
    assets: int | None = None  # a release's DELETE: the assets that go with it
    assets_exact: bool = True  # False: at least ``assets`` (a cut-short embedded list)

    @property
    def release(self) -> tuple[str, str, int | None]:
        """The release, case-insensitively (a NULL release id: one unknown release)."""
        return self.owner.lower(), self.repo.lower(), self.release_id


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def described(writes: Sequence[Write], dry_run: bool = False) -> str:
    """``deleted 12 assets in 3 releases`` (verbs in the order first seen; the releases
    counted are those of the assets written), ``deleted 2 releases (14 assets)`` (the
    assets that went with them); ``would delete ...`` for a dry run."""
    verbs = Counter((write.verb, write.noun) for write in writes)
    done = ", ".join(
        f"{would(verb) if dry_run else verb} {_count(n, noun)}{_along(writes, verb, noun)}"
        for (verb, noun), n in verbs.items()
    )
    releases = {write.release for write in writes if write.noun == "asset"}
    return f"{done} in {_count(len(releases), 'release')}" if releases else done


def _along(writes: Sequence[Write], verb: str, noun: str) -> str:
    """`` (14 assets)``: the assets the writes of ``verb`` and ``noun`` took along."""
    along = [w for w in writes if (w.verb, w.noun) == (verb, noun) and w.assets is not None]
    if not along:
        return ""
    least = "" if all(w.assets_exact for w in along) else "at least "
    return f" ({least}{_count(sum(w.assets or 0 for w in along), 'asset')})"


def assets_along(writes: Sequence[Write]) -> int:
    """All the assets the writes touch: each asset row, and each release's assets."""
    return sum((w.assets or 0) if w.noun == "release" else 1 for w in writes)



def summary(writes: Sequence[Write], requests: int, dry_run: bool = False) -> str:
    """``deleted 12 assets in 3 releases; 13 requests``; a dry run's counts the write
    requests it did not send, and the reads it did."""
    if dry_run:
        planned = sum(len(write.requests) for write in writes)
        sent = f"{_count(planned, 'write request')} not sent ({_count(requests, 'read')})"
        return f"dry run: {described(writes, True)}; {sent}"
    return f"{described(writes)}; {_count(requests, 'request')}"


_PRESENT = {
    "created": "create",
    "published": "publish",
    "uploaded": "upload",
    "replaced": "replace",
    "kept": "keep",
    "updated": "update",
    "deleted": "delete",
}


def would(verb: str) -> str:
    """``deleted`` -> ``would delete``."""
    return f"would {_PRESENT.get(verb, verb)}"
