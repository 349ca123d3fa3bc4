"""The docs cannot drift: the table reference is generated, README examples are re-run."""

from __future__ import annotations

import re
import shlex

import pytest

from sqlgh.docgen import DEFAULT_OUTPUT, main, render
from tests.cli_helpers import ROOT, sqlgh

README = (ROOT / "README.md").read_text()
DOCS = [
    "getting-started.md",
    "tables.md",
    "writing.md",
    "downloads.md",
    "python.md",
    "ghes.md",
    "auth.md",
    "rate-limits.md",
    "troubleshooting.md",
]


def test_tables_md_is_generated_from_the_specs() -> None:
    assert DEFAULT_OUTPUT.read_text() == render(), "run: python -m sqlgh.docgen"
    assert main(["--check"]) == 0


def test_tables_md_lists_every_column_and_access_path() -> None:
    from sqlgh.tables import TABLES

    text = DEFAULT_OUTPUT.read_text()
    for table in TABLES:
        assert f"## {table.name}\n" in text
        for column in table.columns:
            assert f"| `{column.name}`" in text
        for path in table.paths:
            assert f"| {path.name} |" in text


def test_every_doc_exists_and_is_linked_from_the_readme() -> None:
    for name in DOCS:
        assert (ROOT / "docs" / name).is_file(), name
        assert f"(docs/{name})" in README, name


def test_readme_gives_the_two_set_up_commands() -> None:
    assert "pip install . && sqlgh --demo queries/inventory.sql" in README
    assert "pip install -e '.[test]' && python -m pytest" in README


EXAMPLES = re.findall(r"```\n\$ sqlgh (--demo .*?)\n(.*?)```", README, re.S)


def test_readme_has_four_examples() -> None:
    assert len(EXAMPLES) == 4


@pytest.mark.parametrize(
    ("command", "output"), EXAMPLES, ids=["box", "markdown", "whole-owner", "csv"]
)
def test_readme_example_output_is_real(command: str, output: str) -> None:
    result = sqlgh(*shlex.split(command))
    assert result.returncode == 0, result.stderr
    assert result.stdout == output
