"""The names GitHub gives uploaded assets, and the temporary names sqlgh uses.

GitHub "renames asset filenames that have special characters, non-alphanumeric
characters, and leading or trailing periods" and does not say how (REST docs, "Upload a
release asset"; github/rest-api-description#2968 was closed without a rule). Reports show
more than accents going: ``a5_ð_æ_©_ŋ.txt`` became ``a5_d_ae_._ng.txt``
(travis-ci/dpl#821), ``~``, ``:``, spaces and parentheses became ``.``
(softprops/action-gh-release#159, actions/upload-release-asset#57), ``%%%%%!!!`` one ``.``
(electron/forge#1761), a base name of emoji only ``default`` (softprops/action-gh-release
#542), while a percent-encoded ``+`` is kept (github/rest-api-description#2968). So sqlgh
trusts only what GitHub returns: the name in an upload's answer, remembered for the
connection. A name of letters, digits, ``-``, ``_``, ``+`` and single inner periods is
stored as it is; any other name whose stored form is not known yet is learned, when it
matters, from the answer to a one-byte upload under a temporary name.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from anyascii import anyascii

from sqlgh.tables.spec import Api

# A run of other characters, with the periods around it, becomes one period.
_NOT_STORED = re.compile(r"\.*[^A-Za-z0-9._+-][^A-Za-z0-9_+-]*")
_KEPT_AS_IS = re.compile(r"[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*")
TEMPORARY_KINDS = ("new", "old", "probe")


def _ascii(char: str) -> str:
    """``char`` as GitHub spells it in a stored name ("?": not at all). GitHub's spelling
    matches Rails' transliteration table, which covers the Latin letters U+00C0-U+017F:
    accents dropped (NFKD), other letters spelled out by anyascii (ð -> d, æ -> ae,
    ŋ -> ng; it spells Þ, ×, ĸ and ŉ otherwise than Rails)."""
    if char.isascii():
        return char
    if not "\u00c0" <= char <= "\u017f" or char in "÷ſ":
        return "?"
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if plain:
        return plain
    spelled = anyascii(char)
    return spelled.upper() if char.isupper() else spelled


def _clean(name: str) -> str:
    spelled = "".join(_ascii(c) for c in unicodedata.normalize("NFC", name))
    return _NOT_STORED.sub(".", spelled).strip(".")


def stored_name_guess(name: str) -> str:
    """A guess at GitHub's name for an upload called ``name``, by the rules reports show
    (sqlgh sends names percent-encoded, so a '+' is kept): accents dropped, other Latin
    letters spelled out (ð -> d, æ -> ae, ŋ -> ng), any other run of characters '.'
    (merging with periods beside it), leading and trailing periods gone, and a base name
    with nothing left ("🚀.zip") "default" (softprops/action-gh-release#542). Only a
    guess: sqlgh trusts the name GitHub returns."""
    base, dot, extension = name.partition(".")
    if base and not _clean(base) and (_clean(extension) or not dot):
        return ".".join(filter(None, ("default", _clean(extension))))
    return _clean(name)


def known_stored_name(api: Api, name: str) -> str | None:
    """The name GitHub stores for an upload called ``name``, when it is known for sure."""
    if _KEPT_AS_IS.fullmatch(name):
        return name
    return api.memo.stored_names.get(name)


def learn_stored_name(api: Api, asked: str, stored: str) -> None:
    """Remember that an upload asked to be ``asked`` was stored as ``stored``."""
    if stored:
        api.memo.stored_names[asked] = stored


def names_for(api: Api, name: str) -> set[str]:
    """Every name an asset uploaded as ``name`` may carry on GitHub, as far as known."""
    known = known_stored_name(api, name)
    return {known} if known else {name, stored_name_guess(name)}


def holding(assets: Iterable[Mapping[str, Any]], names: Collection[str]) -> Any | None:
    """The first of ``assets`` whose name (as GitHub stores it) is one of ``names``: the
    one rule for which asset holds a name. Callers differ only in the names they pass
    (``names_for``, ``Uploader.stored_names``, or a name GitHub returned)."""
    return next((asset for asset in assets if asset.get("name") in names), None)


def new_tag() -> str:
    """A random tag that makes a temporary name this write's own."""
    return secrets.token_hex(4)


def temporary_name(kind: str, tag: str, name: str) -> str:
    """``sqlgh-<kind>-<tag>-<name>``: an asset a write made or moved aside for a moment."""
    assert kind in TEMPORARY_KINDS
    return f"sqlgh-{kind}-{tag}-{name}"


def name_within(kind: str, tag: str, stored: str) -> str | None:
    """The stored form of ``name`` read off the stored name of ``temporary_name(kind, tag,
    name)``: the prefix is kept as it is (it ends in '-', so nothing merges across it);
    periods it left inside the name would have led it, and go. None if it is not there."""
    prefix = temporary_name(kind, tag, "")
    if not stored.startswith(prefix):
        return None
    return stored[len(prefix) :].strip(".") or None
