"""How GitHub renames uploaded asset files.

GitHub documents only that it "renames asset filenames that have special characters,
non-alphanumeric characters, and leading or trailing periods". The rules below are inferred
from reports of what it actually stored:
- travis-ci/dpl#821: ``a5_ !#$%&'()+,-.0123456789;=@ABC…[]^_`abc…{}~.txt`` became
  ``a5_.-.0123456789.ABC….\\_.abc….txt`` and ``a5_ð_æ_©_ŋ.txt`` became ``a5_d_ae_._ng.txt``;
- softprops/action-gh-release#159 (``~``, ``:``), actions/upload-release-asset#57
  (``(`` ``)``), cli/cli#10585 (spaces): each became ``.``;
- electron/forge#1761: ``fake.      file.txt`` -> ``fake.file.txt``,
  ``erick%%%%%!!!zhao.txt`` -> ``erick.zhao.txt``.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD cannot take apart; the spellings follow Rails' I18n transliteration,
# which matches the ð -> d, æ -> ae, ŋ -> ng seen in travis-ci/dpl#821.
_LETTERS = {
    "Æ": "AE",
    "æ": "ae",
    "Ð": "D",
    "ð": "d",
    "Ø": "O",
    "ø": "o",
    "Þ": "TH",
    "þ": "th",
    "ß": "ss",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "Ĳ": "IJ",
    "ĳ": "ij",
    "Ł": "L",
    "ł": "l",
    "Ŋ": "NG",
    "ŋ": "ng",
    "Œ": "OE",
    "œ": "oe",
    "Ŧ": "T",
    "ŧ": "t",
}

# A run of anything but letters, digits, '_' and '-' (periods included, so that a period
# next to replaced characters merges into the one period they become).
_RUN = re.compile(r"[^A-Za-z0-9_-]+")


def _transliterate(char: str) -> str:
    if char.isascii():
        return char
    if char in _LETTERS:
        return _LETTERS[char]
    ascii_part = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return ascii_part or "?"


def _collapse(match: re.Match[str]) -> str:
    run = match.group()
    return run if run.strip(".") == "" else "."


def sanitize_asset_name(name: str) -> str:
    """Return the name GitHub would store for an uploaded file called ``name``."""
    ascii_name = "".join(_transliterate(c) for c in name)
    return _RUN.sub(_collapse, ascii_name).strip(".")
