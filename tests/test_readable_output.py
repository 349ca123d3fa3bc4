"""Issue 17 part 2: the first output is readable, and no mode changes a value's characters."""

from __future__ import annotations

import csv
import io

import pytest
from apsw.unicode import text_width

from sqlgh.emulator import Emulator
from sqlgh.text_table import Style, fit_widths, render
from tests.cli_helpers import sqlgh
from tests.pty_helpers import sqlgh_tty

ROCKET = "owner = 'acme' AND repo = 'rocket'"
TRICKY = "SELECT 'Linux (x86-64)' AS label, 'abc123  rocket.tar.gz' AS sha256sum_line"


def _header(demo: Emulator, sql: str) -> list[str]:
    result = sqlgh("--format", "csv", "-c", sql, api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    return next(csv.reader(io.StringIO(result.stdout)))


def test_select_star_leaves_the_json_columns_out_until_named(demo: Emulator) -> None:
    assets = _header(demo, f"SELECT * FROM release_assets WHERE {ROCKET} LIMIT 1")
    assert "uploader" not in assets and "uploader_login" in assets
    releases = _header(demo, f"SELECT * FROM releases WHERE {ROCKET} LIMIT 1")
    assert "assets" not in releases and "assets_count" in releases
    named = sqlgh(
        "--format", "csv", "-c",
        "SELECT uploader ->> '$.login', json_array_length(r.assets) = r.assets_count "
        "FROM release_assets a JOIN releases r ON r.owner = a.owner AND r.repo = a.repo "
        "AND r.id = a.release_id WHERE a.owner = 'acme' AND a.repo = 'rocket' LIMIT 1",
        api_url=demo.api_url,
    )  # fmt: skip
    assert named.returncode == 0, named.stderr
    assert named.stdout.splitlines()[1] == "octocat,1"


@pytest.mark.parametrize("mode", ["box", "table", "csv", "tsv", "line", "markdown", "json"])
def test_no_output_mode_changes_a_values_characters(demo: Emulator, mode: str) -> None:
    result = sqlgh("--format", mode, "-c", TRICKY, api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    assert "Linux (x86-64)" in result.stdout
    assert "abc123  rocket.tar.gz" in result.stdout


@pytest.mark.parametrize(("mode", "shown"), [("csv", "ABC,X'00FF'"), ("tsv", "ABC\tX'00FF'")])
def test_text_modes_write_blobs_as_text_or_hex(demo: Emulator, mode: str, shown: str) -> None:
    sql = "SELECT x'414243' AS a, x'00ff' AS b"
    result = sqlgh("--format", mode, "-c", sql, api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == shown
    assert "<Binary data>" not in result.stdout


def test_box_fits_the_terminal_and_keeps_every_header_whole(demo: Emulator) -> None:
    shown = sqlgh_tty(
        typed=f"SELECT * FROM release_assets WHERE {ROCKET} LIMIT 3;\n.quit\n",
        api_url=demo.api_url,
        columns=200,
    )
    table = [line for line in shown.splitlines() if line[:1] in "╭│╰"]
    assert len(table) == 6, shown  # top, header, 3 rows, bottom: one line each
    header = [cell.strip() for cell in table[1].strip("│").split("│")]
    assert header[:4] == ["owner", "repo", "release_id", "id"] and "uploader_login" in header
    assert all(text_width(line) <= 200 for line in table), shown
    assert "…" in table[2]  # long values give way, with an ellipsis


def test_requests_keeps_its_headers_on_a_narrow_terminal(demo: Emulator) -> None:
    shown = sqlgh_tty(
        typed=f"SELECT count(*) FROM releases WHERE {ROCKET};\n.requests\n.quit\n",
        api_url=demo.api_url,
        columns=80,
    )
    header = next(line for line in shown.splitlines() if "started" in line)
    cells = [cell.strip() for cell in header.strip("│").split("│")]
    assert cells[:4] == ["started", "method", "path", "status"], shown
    assert "GET" in shown and "1 request," in shown


def test_render_cuts_lines_with_an_ellipsis_and_shows_control_characters() -> None:
    text = render(["name", "n"], [["a" * 30, 123456], ["tab\there", None]], Style(width=20))
    lines = text.splitlines()
    assert lines[1] == "│  name   │   n    │"  # n stays as wide as its widest number
    assert lines[2] == "│ aaaaaa… │ 123456 │"
    assert lines[3] == "│ tab^Ih… │ NULL   │"
    assert all(text_width(line) == 20 for line in lines)


def test_fit_widths_never_goes_below_the_floors() -> None:
    assert fit_widths([10, 50, 5], [4, 4, 5], 100) == [10, 50, 5]
    assert fit_widths([10, 50, 5], [4, 4, 5], 30) == [10, 15, 5]
    assert fit_widths([10, 50, 5], [8, 8, 5], 10) == [8, 8, 5]


def test_render_shows_at_most_truncate_characters_of_a_value() -> None:
    lines = render(["body"], [["line one\nline two\nline three"]], Style(80, truncate=12))
    assert lines.splitlines()[3:] == ["│ line one │", "│ lin…     │", "╰──────────╯"]


@pytest.mark.parametrize("unicode", [True, False])
def test_wide_unicode_in_a_narrow_terminal_keeps_every_line_one_width(unicode: bool) -> None:
    # One-letter headers let columns shrink to one character: the ellipsis alone.
    row = ["日本語のとても長いテキスト", "🚀👩‍👩‍👧‍👦 rocket", "e\u0301" * 8, 12345678]
    text = render(["a", "b", "c", "n"], [row], Style(width=20, unicode=unicode))
    lines = text.splitlines()
    assert len({text_width(line) for line in lines}) == 1, text
    assert "12345678" in text  # a number is never cut
    unnamed = render(["", "x"], [["abc", "é" * 30]], Style(width=8)).splitlines()
    assert unnamed[2].startswith("│ … │"), unnamed  # a column without a name is 1 wide
    assert len({text_width(line) for line in unnamed}) == 1


def test_truncate_counts_letters_with_their_accents_and_emoji_whole() -> None:
    accents = render(["a"], [["e\u0301" * 3]], Style(40, truncate=2)).splitlines()[2]
    assert accents == "│ " + "e\u0301" * 2 + "… │"
    family = "👩\u200d👩\u200d👧\u200d👦"
    emoji = render(["a"], [[family * 3]], Style(40, truncate=1)).splitlines()[2]
    assert family + "…" in emoji
