"""How GitHub renames uploaded asset files: every rule in one place, each with its source.

GitHub documents only that it "renames asset filenames that have special characters,
non-alphanumeric characters, and leading or trailing periods" (REST docs, "Upload a
release asset"). The rules below are inferred from reports of what it actually stored; each
is tested with its report's example in tests/test_emulator_naming.py.

1. Letters with accents lose them, and letters that have no accent to lose are spelled
   out: ``a5_ð_æ_©_ŋ.txt`` became ``a5_d_ae_._ng.txt`` (travis-ci/dpl#821). The spellings
   follow Rails' transliteration (the i18n gem's table), which matches those three and
   turns any character it does not list, such as ``©``, into "?" (then rule 3).
2. ``+`` is kept, when it arrives as ``+``: a GitHub staff member explained that a ``+``
   the client did not percent-encode is read as a space and becomes ``.``, and that an
   encoded one is kept (github/rest-api-description#2968; the same seen in
   microsoft/azure-pipelines-tasks#14275 and centreon/centreon-collect#3722).
3. A run of any other characters, with the periods next to it, becomes one ``.``: ``~``,
   ``:``, spaces, parentheses (softprops/action-gh-release#159,
   actions/upload-release-asset#57, cli/cli#10585), ``fake.      file.txt`` ->
   ``fake.file.txt`` and ``erick%%%%%!!!zhao.txt`` -> ``erick.zhao.txt``
   (electron/forge#1761), and the ASCII punctuation of travis-ci/dpl#821.
4. Leading and trailing periods go (the docs above).
5. A base name with nothing left of it (only emoji, say) becomes ``default``, keeping the
   extension: softprops/action-gh-release#542 (as issue 18 of this project reports it).
   That the same holds for a base name of punctuation only, and for a name without an
   extension, is this emulator's extrapolation: no report shows those.
"""

from __future__ import annotations

import re
import unicodedata

# Rule 1 follows Rails' transliteration (ActiveSupport's ``transliterate``: NFC, then the
# i18n gem's DEFAULT_APPROXIMATIONS, "?" for any character it does not list). That table
# covers U+00C0 to U+017F but for "÷" and "ſ"; where it is not NFKD's ASCII part, it says:
_LETTERS = {
    "Æ": "AE",
    "æ": "ae",
    "Ð": "D",
    "ð": "d",
    "×": "x",
    "Ø": "O",
    "ø": "o",
    "Þ": "Th",
    "þ": "th",
    "ß": "ss",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "ĸ": "k",
    "Ł": "L",
    "ł": "l",
    "ŉ": "'n",
    "Ŋ": "NG",
    "ŋ": "ng",
    "Œ": "OE",
    "œ": "oe",
    "Ŧ": "T",
    "ŧ": "t",
}
_UNLISTED = "÷ſ"

# Rules 2 and 3: a run of anything but letters, digits, '_', '-' and '+' (periods
# included, so that a period next to replaced characters merges into the one period they
# become).
_RUN = re.compile(r"[^A-Za-z0-9_+-]+")
DEFAULT_BASE_NAME = "default"  # rule 5


def _transliterate(char: str) -> str:
    if char.isascii():
        return char
    if char in _LETTERS:
        return _LETTERS[char]
    if "\u00c0" <= char <= "\u017f" and char not in _UNLISTED:
        return unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return "?"


def _collapse(match: re.Match[str]) -> str:
    run = match.group()
    return run if run.strip(".") == "" else "."


def _clean(name: str) -> str:
    """Rules 1 to 4."""
    ascii_name = "".join(_transliterate(c) for c in unicodedata.normalize("NFC", name))
    return _RUN.sub(_collapse, ascii_name).strip(".")


def sanitize_asset_name(name: str) -> str:
    """Return the name GitHub would store for an uploaded file called ``name``."""
    base, dot, extension = name.partition(".")
    if base and not _clean(base) and _clean(extension):
        return f"{DEFAULT_BASE_NAME}.{_clean(extension)}"
    if base and not _clean(name) and not dot:
        return DEFAULT_BASE_NAME
    return _clean(name)
