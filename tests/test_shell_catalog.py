"""Issue 17 part 1: the shell shows sqlgh's tables (.tables, .schema, .keys, .help, hints)."""

from __future__ import annotations

from pathlib import Path

from sqlgh.emulator import Emulator
from sqlgh.tables import TABLES
from tests.cli_helpers import sqlgh

NAMES = sorted([*(table.name for table in TABLES), "download_assets"])
ROOT = Path(__file__).resolve().parent.parent


def test_tables_lists_sqlghs_tables_beside_the_databases_own(tmp_path: Path) -> None:
    result = sqlgh(str(tmp_path / "mine.db"), "CREATE TABLE watched(owner, repo)", ".tables")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted([*NAMES, "watched"])
    matching = sqlgh("-c", ".tables rel%")
    assert matching.stdout.split() == ["release_assets", "releases"]


def test_schema_shows_key_and_hidden_columns() -> None:
    result = sqlgh("-c", ".schema release_assets")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "CREATE TABLE release_assets(" in lines
    assert '  "owner" TEXT,  -- key' in lines and '  "id" INTEGER,  -- key, rowid' in lines
    assert '  "uploader" TEXT HIDDEN,  -- JSON' in lines and '  "data" BLOB HIDDEN,' in lines
    assert lines[-2:] == ['  "path" TEXT HIDDEN', ");"]


def test_schema_without_a_table_shows_every_table(tmp_path: Path) -> None:
    result = sqlgh(str(tmp_path / "mine.db"), "CREATE TABLE watched(owner, repo)", ".schema")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE watched(owner, repo);" in result.stdout
    for name in NAMES:
        assert f"CREATE TABLE {name}(" in result.stdout


def test_no_such_table_names_the_closest_one(demo: Emulator) -> None:
    sql = "SELECT name FROM release_asset WHERE owner = 'acme'"
    result = sqlgh("-c", sql, api_url=demo.api_url)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "no such table: release_asset; did you mean release_assets? (.tables lists the tables)\n"
    )
    far = sqlgh("-c", "SELECT * FROM zzz")
    assert far.stderr.startswith("no such table: zzz; .tables lists the tables\n")


def test_help_ends_with_the_tables() -> None:
    result = sqlgh("-c", ".help")
    assert result.returncode == 0
    tail = result.stderr[result.stderr.index("sqlgh's tables (") :]
    assert [line.split()[0] for line in tail.splitlines()[1:] if line.strip()] == [
        *(table.name for table in TABLES),
        "download_assets",
    ]
    assert ".keys TABLE" in result.stderr


def test_keys_shows_each_access_path_with_its_cost_and_an_example() -> None:
    result = sqlgh("-c", ".keys release_assets")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    (table,) = [t for t in TABLES if t.name == "release_assets"]
    for path in table.paths:
        assert f"{path.name}: WHERE gives {', '.join(path.keys)}\n" in text
        assert f"  requests: {path.requests.split()[0]}" in text
    assert (
        "  example:  SELECT * FROM release_assets WHERE owner = 'OWNER' AND repo = 'REPO' "
        "AND release_id = 123;\n"
    ) in text
    wrong = sqlgh("-c", ".keys release_asset")
    assert wrong.returncode == 1
    assert "Usage: .keys TABLE, where TABLE is one of release_assets, releases" in wrong.stderr


def test_tables_and_schema_show_download_assets_and_its_columns() -> None:
    result = sqlgh("-c", ".tables down%", "-c", ".schema download_assets")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "download_assets"
    assert "CREATE TABLE download_assets(" in lines
    for column in ("owner", "repo", "release_id"):
        assert any(line.startswith(f'  "{column}" ') and "-- key" in line for line in lines)
    assert '  "id" INTEGER,  -- key, rowid' in lines
    assert '  "status" TEXT,' in lines
    assert '  "destination" TEXT HIDDEN,  -- key' in lines
    assert lines[-2:] == ['  "options" TEXT HIDDEN', ");"]


def test_keys_download_assets_says_how_it_is_used() -> None:
    result = sqlgh("-c", ".keys download_assets")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "by_release: WHERE gives owner, repo, release_id, destination" in text
    assert "by_id: WHERE gives owner, repo, id, destination" in text
    assert "no other condition (filter in a subquery" in text
    assert "2 per file (the API's redirect, then storage)" in text
    assert (
        "example: SELECT * FROM download_assets WHERE owner = 'OWNER' AND repo = 'REPO' "
        "AND release_id = 123 AND destination = 'downloads/';"
    ) in text


def test_tables_md_documents_download_assets() -> None:
    text = (ROOT / "docs" / "tables.md").read_text()
    section = text[text.index("## download_assets\n") :]
    for column in ("owner", "repo", "release_id", "id", "name", "size", "path", "status"):
        assert f"| `{column}`" in section
    assert "| `destination` | TEXT HIDDEN |" in section
    assert "| by_release | `owner` AND `repo` AND `release_id` AND `destination` |" in section
