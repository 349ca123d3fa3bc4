"""Issue 17 part 7: a sqlite3 user's habits work in the real ``sqlgh`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sqlgh.emulator import Emulator
from tests.cli_helpers import ROOT, sqlgh


def test_once_sends_only_the_next_output_to_a_file(demo: Emulator, tmp_path: Path) -> None:
    target = tmp_path / "once.csv"
    result = sqlgh(
        "--format", "csv", "-c", f".once {target}", "-c", "SELECT 'to the file' AS a",
        "-c", "SELECT 'to stdout' AS b", api_url=demo.api_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "a\nto the file\n"
    assert result.stdout == "b\nto stdout\n"


def test_import_creates_a_new_table_from_the_first_row(demo: Emulator, tmp_path: Path) -> None:
    watched = tmp_path / "watched.csv"
    watched.write_text('owner,repo name\nacme,rocket\nglobex,"laser"\n')
    result = sqlgh(
        "--format", "csv", "-c", f".import --csv {watched} watched", "-c", ".schema watched",
        "-c", "SELECT w.owner, count(*) FROM watched w JOIN release_assets a "
        "ON a.owner = w.owner AND a.repo = w.\"repo name\" GROUP BY 1 ORDER BY 1",
        api_url=demo.api_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'CREATE TABLE watched(owner TEXT, "repo name" TEXT);'
    assert [line.split(",")[0] for line in lines[2:]] == ["acme", "globex"]


def test_import_into_a_table_that_exists_reads_every_row(tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("a,1\nb,2\n")
    result = sqlgh(
        "--format", "csv", "-c", "CREATE TABLE t(x, y)", "-c", ".mode csv",
        "-c", f".import {data} t", "-c", f".import --csv --skip 1 {data} t",
        "-c", "SELECT x, count(*) FROM t GROUP BY x",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["x,count(*)", "a,1", "b,2"]


def test_parameter_set_binds_with_sqlite3_quoting(demo: Emulator) -> None:
    result = sqlgh(
        "--format", "csv",
        "-c", ".parameter set :owner 'acme'", "-c", ".parameter set $repo rocket",
        "-c", ".parameter set :n 2", "-c", ".parameter set :text \"'2'\"",
        "-c", "SELECT count(*) > 0, typeof(:n), typeof(:text) FROM release_assets "
        "WHERE owner = :owner AND repo = $repo",
        api_url=demo.api_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "1,integer,text"


@pytest.mark.parametrize(("bail", "shown"), [("off", "one\ntwo\n"), ("on", "one\n")])
def test_a_piped_script_that_failed_exits_1_even_with_bail_off(bail: str, shown: str) -> None:
    script = f".bail {bail}\nSELECT 'one';\nSELECT nope;\nSELECT 'two';\n"
    result = sqlgh("--format", "csv", "-noheader", stdin=script)
    assert (result.returncode, result.stdout) == (1, shown)
    assert "no such column: nope" in result.stderr


def test_python_m_sqlgh_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sqlgh", "--format", "csv", "-c", "SELECT 40 + 2 AS n"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "n\n42\n"), result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "abc"], "sqlgh: --token: sqlgh reads the token from GH_TOKEN, else "
         "GITHUB_TOKEN or `gh auth token`; see docs/auth.md (see sqlgh --help)\n"),
        (["--token=abc"], "sqlgh: --token: sqlgh reads the token from GH_TOKEN, else "
         "GITHUB_TOKEN or `gh auth token`; see docs/auth.md (see sqlgh --help)\n"),
        (["--fromat", "csv"], "sqlgh: --fromat: no such option; did you mean --format? "
         "(see sqlgh --help)\n"),
        (["-zzz"], "sqlgh: -zzz: no such option (see sqlgh --help)\n"),
    ],
)  # fmt: skip
def test_an_unknown_option_exits_2_with_a_hint(args: list[str], message: str) -> None:
    result = sqlgh(*args, "-c", "SELECT 1")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


def test_sqlite_shell_flags_are_taken_even_with_no_color_set() -> None:
    # tests.cli_helpers.sqlgh sets NO_COLOR, which made APSW's shell drop every flag
    result = sqlgh("-csv", "-header", "-nullvalue", "-", "-c", "SELECT 1 AS a, NULL AS b")
    assert (result.returncode, result.stdout, result.stderr) == (0, "a,b\n1,-\n", "")


def test_a_statement_word_alone_is_sql_not_a_database(tmp_path: Path) -> None:
    result = sqlgh("SELECT", cwd=tmp_path)
    assert result.returncode == 1
    assert "incomplete input" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no database file named SELECT


def test_import_of_a_spreadsheet_csv_drops_its_byte_order_mark(tmp_path: Path) -> None:
    data = tmp_path / "excel.csv"
    data.write_bytes(b"\xef\xbb\xbfname,size\r\nx.zip,1\r\n")
    existing = tmp_path / "rows.csv"
    existing.write_bytes(b"\xef\xbb\xbfy.zip,2\r\n")
    result = sqlgh(
        "--format", "csv", "-c", f".import --csv {data} t", "-c", ".schema t",
        "-c", "CREATE TABLE u(name, size)", "-c", f".import --csv {existing} u",
        "-c", "SELECT name, size FROM t UNION ALL SELECT name, size FROM u",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "CREATE TABLE t(name TEXT, size TEXT);", "name,size", "x.zip,1", "y.zip,2"
    ]


def test_import_renames_repeated_and_empty_header_names_as_sqlite3_does(tmp_path: Path) -> None:
    data = tmp_path / "dup.csv"
    data.write_text("name,Name,,size\nx.zip,X,-,1\n")
    result = sqlgh("--format", "csv", "-c", f".import --csv {data} t", "-c", ".schema t")
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'CREATE TABLE t(name_1 TEXT, Name_2 TEXT, "?" TEXT, size TEXT);\n'
    assert result.stderr == (
        f'Columns renamed during .import {data} due to duplicates:\n'
        '"name" to "name_1",\n"Name" to "Name_2"\n'
    )


def test_once_to_a_path_that_cannot_be_written_says_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir.csv"
    result = sqlgh("-c", f".once {missing}", "-c", "SELECT 1")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f".once: cannot write {missing} (No such file or directory); give the path of a "
        "file in a directory you can write"
    ), result.stderr


def test_parameter_set_never_runs_statements_hidden_in_a_value(tmp_path: Path) -> None:
    database = str(tmp_path / "kept.db")
    value = '"1); DROP TABLE t; SELECT (2"'
    result = sqlgh(
        database, "--format", "csv", "-c", "CREATE TABLE t(x)", "-c", "INSERT INTO t VALUES (1)",
        "-c", f".parameter set :v {value}", "-c", "SELECT count(*), :v FROM t",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr  # before: t was dropped, then an error
    assert result.stdout.splitlines()[1] == "1,1); DROP TABLE t; SELECT (2"  # bound as text


def test_an_import_that_fails_leaves_no_table_so_a_rerun_reads_the_header(
    tmp_path: Path,
) -> None:
    database = str(tmp_path / "import.db")
    data = tmp_path / "rows.csv"
    data.write_text("name,size\nx.zip,1\ny.zip\n")  # the last row is short
    failed = sqlgh(database, "-c", f".import --csv {data} t")
    assert failed.returncode == 1
    assert "row 2 has 1 columns but should have 2" in failed.stderr
    data.write_text("name,size\nx.zip,1\ny.zip,2\n")  # fixed, and imported again
    again = sqlgh(database, "--format", "csv", "-c", f".import --csv {data} t",
                  "-c", "SELECT name, size FROM t")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["name,size", "x.zip,1", "y.zip,2"]
