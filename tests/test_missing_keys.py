"""One rule for missing data, through the real ``sqlgh`` command: a key typed alone that
GitHub does not have is an error; one among many (an IN list, a join, a subquery) gives
no rows and one warning line on standard error, and the report goes on."""

from __future__ import annotations

import contextlib
import io

import pytest
from conftest import connect_to
from helpers import Acme

from tests.cli_helpers import sqlgh

NOT_FOUND = ": not found, or it is not visible to this token (it needs Contents: read)\n"


def _run(acme: Acme, *sql: str) -> tuple[int, str, str]:
    args = [part for statement in sql for part in ("-c", statement)]
    result = sqlgh("--format", "csv", *args, api_url=acme.emu.api_url)
    return result.returncode, result.stdout, result.stderr


def test_a_repository_typed_alone_that_does_not_exist_is_an_error(acme: Acme) -> None:
    status, _, stderr = _run(
        acme, "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'nope'"
    )
    assert status == 1
    assert stderr.startswith("release_assets: repository acme/nope does not exist")


def test_missing_repositories_of_an_in_list_warn_and_the_rest_is_reported(acme: Acme) -> None:
    status, stdout, stderr = _run(
        acme,
        "SELECT owner, repo, count(*) FROM release_assets WHERE owner IN ('acme', 'mona') "
        "AND repo IN ('tool', 'dots') GROUP BY owner, repo",
        "SELECT 'ran' AS next",
    )
    assert status == 0
    assert stdout.splitlines() == ["owner,repo,count(*)", "acme,tool,4", "next", "ran"]
    assert stderr == (
        "sqlgh: warning: release_assets: no rows for repository acme/dots, repository "
        "mona/tool" + NOT_FOUND
    )


def test_a_left_join_from_a_watch_list_with_a_renamed_repository(acme: Acme) -> None:
    status, stdout, stderr = _run(
        acme,
        "CREATE TABLE watch(owner, repo); "
        "INSERT INTO watch VALUES ('acme', 'tool'), ('acme', 'old-name'), ('mona', 'dots')",
        "SELECT w.repo, count(r.id) FROM watch w LEFT JOIN releases r "
        "ON r.owner = w.owner AND r.repo = w.repo GROUP BY w.repo ORDER BY w.repo",
    )
    assert status == 0
    assert stdout.splitlines() == ["repo,count(r.id)", "dots,0", "old-name,0", "tool,3"]
    assert stderr == "sqlgh: warning: releases: no rows for repository acme/old-name" + NOT_FOUND


@pytest.mark.parametrize(
    ("sql", "missing"),
    [
        (
            "SELECT count(*) FROM releases WHERE owner = 'acme' AND repo IN ('tool', 'gone')",
            "releases: no rows for repository acme/gone",
        ),
        (
            "SELECT count(*) FROM repositories WHERE owner IN ('acme', 'nobody-here')",
            "repositories: no rows for owner nobody-here",
        ),
        (
            "SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
            "AND release_id IN (SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool' "
            "UNION ALL SELECT 999999)",
            "release_assets: no rows for release 999999 of acme/tool",
        ),
        (
            "SELECT count(*) FROM release_assets WHERE owner IN ('acme', 'nobody-here')",
            "release_assets: no rows for owner nobody-here",
        ),
    ],
)
def test_every_table_follows_the_rule(acme: Acme, sql: str, missing: str) -> None:
    status, stdout, stderr = _run(acme, sql)
    assert status == 0, stderr
    assert int(stdout.splitlines()[1]) > 0
    assert stderr == f"sqlgh: warning: {missing}{NOT_FOUND}"


def test_a_missing_release_typed_alone_is_an_error(acme: Acme) -> None:
    status, _, stderr = _run(
        acme,
        "SELECT count(*) FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
        "AND release_id = 999999",
    )
    assert status == 1
    assert stderr.startswith("release_assets: release 999999 of acme/tool does not exist")


def test_a_bound_parameter_counts_as_one_among_many_and_the_warning_says_what_to_do(
    acme: Acme,
) -> None:
    # SQLite shows a virtual table a literal's value while planning, never a parameter's:
    # a parameter cannot be told from a join's value, so it gets the lenient rule.
    db = connect_to(acme.emu, token="")
    sql = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = ? AND release_id = ?"
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        assert db.execute(sql, ("secret", 1)).fetchall() == []
    assert stderr.getvalue() == (
        "sqlgh: warning: release_assets: no rows for release 1 of acme/secret: not found, or "
        "it is private: set GH_TOKEN to a token that can read it\n"
    )
