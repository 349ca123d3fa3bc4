"""``--format chart`` / ``.mode chart``: the last column as horizontal bars."""

from __future__ import annotations

import pytest
from cli_helpers import QUERIES, sqlgh

from sqlgh.chart import bar_chart
from sqlgh.emulator import Emulator

ROWS = "SELECT 'rocket' AS repo, 'v2' AS tag, 40 AS downloads UNION ALL SELECT 'anvil', 'v1', 10"


def test_bars_are_scaled_to_the_largest_value() -> None:
    rows = [("rocket", "v2", 40), ("anvil", None, 10)]
    text = bar_chart(["repo", "tag", "downloads"], rows, 50, null="-")
    assert text.splitlines() == [  # 29 columns of bars: 50 less the text and 3 spaces
        "repo tag  downloads",
        "rocket v2        40 " + "█" * 29,
        "anvil -          10 " + "█" * 7 + "▎",  # a quarter of 29 is 7¼
    ]


def test_nulls_and_negative_numbers_get_no_bar() -> None:
    lines = bar_chart(["n", "v"], [("a", None), ("b", -2), ("c", 2.5)], 30).splitlines()
    assert lines == ["n   v", "a   0", "b  -2", "c 2.5 " + "█" * 23]


def test_the_command_draws_a_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    result = sqlgh("--format", "chart", "-c", ROWS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "repo tag  downloads",
        "rocket v2        40 " + "█" * 19,
        "anvil v1         10 " + "█" * 4 + "▊",
    ]
    mode = sqlgh("-c", ".mode chart", "-c", ROWS)
    assert mode.stdout.splitlines()[1].startswith("rocket v2        40 ███")


def test_a_last_column_that_is_not_a_number_is_refused_with_advice() -> None:
    result = sqlgh("--format", "chart", "-c", "SELECT 7 AS n, 'x' AS name")
    assert result.returncode == 1
    assert (
        "chart: the last column (name) is drawn as bars and must be a number, but row 1 has "
        "'x'; end the SELECT with a numeric column, or choose another --format (.mode)"
    ) in result.stderr


@pytest.mark.parametrize("name", ["top_downloads", "org_storage"])
def test_the_reports_made_for_charts_end_in_a_number(demo: Emulator, name: str) -> None:
    result = sqlgh("--format", "chart", str(QUERIES / f"{name}.sql"), api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 11  # a header and ten bars
    assert all("█" in line for line in result.stdout.splitlines()[1:])


def test_labels_keep_their_text_and_wide_letters_do_not_push_the_numbers_out() -> None:
    rows = [("日本語ラベル", 4), ("[bold]tool[/bold]", 2), ("a\nb", 1)]
    lines = bar_chart(["name", "n"], rows, 40).splitlines()
    assert len(lines) == 4  # a label takes one line
    assert lines[1].startswith("日本語ラベル      4 ██")
    assert lines[2].startswith("[bold]tool[/bold] 2 ██")  # no rich markup is read
    assert lines[3].startswith("a^Jb              1 ██")


def test_an_infinite_value_is_refused_with_advice() -> None:
    result = sqlgh("--format", "chart", "-c", "SELECT 'a' AS k, 1e999 AS n")
    assert result.returncode == 1
    assert "chart: the last column (n) is drawn as bars, but row 1 has inf" in result.stderr
    assert "Traceback" not in result.stderr
