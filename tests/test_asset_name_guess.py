"""sqlgh's guess at the names GitHub stores agrees with the emulator's rules (issue 18),
so INSERT OR IGNORE / OR REPLACE find an asset GitHub renamed without a probe upload."""

from __future__ import annotations

import pytest
from conftest import connect_to
from helpers import Acme, seed_acme

from sqlgh.emulator import Emulator
from sqlgh.emulator.naming import sanitize_asset_name
from sqlgh.tables.asset_names import stored_name_guess

# Latin-1 Supplement and Latin Extended-A, the letters Rails' transliteration table covers,
# with the symbols between them and a few emoji.
CHARACTERS = [chr(c) for c in range(0xA0, 0x180)] + ["🚀", "🎉", "中", "©", "+", "e\u0301"]
# anyascii spells these otherwise than Rails' table: a wrong guess costs one probe upload
# (asset_names.py), never a wrong row.
SPELLED_OTHERWISE = {"Þ", "×", "ĸ", "ŉ"}


@pytest.mark.parametrize("char", [c for c in CHARACTERS if c not in SPELLED_OTHERWISE])
def test_guess_agrees_with_the_emulator(char: str) -> None:
    for name in (f"a{char}b.txt", f"{char}.zip", f"x_{char}{char}_y"):
        assert stored_name_guess(name) == sanitize_asset_name(name), name


@pytest.mark.parametrize(
    "name", ["a5_ð_æ_©_ŋ.txt", "🚀.zip", "tool-1.0+build.5.tar.gz", "My App (1).exe"]
)
def test_insert_or_ignore_finds_a_renamed_asset_without_a_probe(
    emulator: Emulator, name: str
) -> None:
    acme: Acme = seed_acme(emulator)
    stored = emulator.add_asset("acme", "tool", acme.new, name, content=b"old")
    assert stored["name"] != name or "+" in name
    db = connect_to(emulator)
    emulator.clear_log()
    db.execute(
        "INSERT OR IGNORE INTO release_assets(owner, repo, release_id, name, data) "
        "VALUES ('acme', 'tool', ?, ?, x'01')",
        (acme.new, name),
    )
    assert db.last_insert_rowid() == stored["id"]
    assert [r.method for r in emulator.log] == ["GET", "GET"]  # the release, its assets
