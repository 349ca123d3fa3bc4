"""The docs cannot drift: the table reference is generated, README examples are re-run,
every command docs/getting-started.md shows is run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sqlgh.docgen import DEFAULT_OUTPUT, main, render
from sqlgh.emulator import Emulator
from tests.cli_helpers import ROOT, TOKEN, sqlgh

README = (ROOT / "README.md").read_text()
PYPROJECT = (ROOT / "pyproject.toml").read_text()
DOCS = [
    "getting-started.md",
    "tables.md",
    "writing.md",
    "releases.md",
    "downloads.md",
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


def test_readme_makes_a_virtualenv_before_the_two_commands() -> None:
    venv = README.index("\npython3 -m venv .venv && . .venv/bin/activate\n")
    assert venv < README.index("pip install . && sqlgh --demo queries/inventory.sql")


def test_license_file_matches_pyproject() -> None:
    assert re.search(r'^license = "MIT"$', PYPROJECT, re.M)
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_bench_inventory_says_which_extra_it_needs() -> None:
    doc = (ROOT / "bench" / "inventory.py").read_text().split('"""')[1]
    assert "pip install -e '.[bench]'" in doc
    assert re.search(r"^bench = \[", PYPROJECT, re.M)


EXAMPLES = re.findall(r"```\n\$ sqlgh (--demo .*?)\n(.*?)```", README, re.S)


def test_readme_has_five_examples() -> None:
    assert len(EXAMPLES) == 5


@pytest.mark.parametrize(
    ("command", "output"), EXAMPLES, ids=["box", "markdown", "publish", "whole-owner", "csv"]
)
def test_readme_example_output_is_real(command: str, output: str) -> None:
    result = sqlgh(*shlex.split(command))
    assert result.returncode == 0, result.stderr
    assert result.stdout == output


# docs/getting-started.md: every command it shows runs and prints what it says ------------
GETTING_STARTED = (ROOT / "docs" / "getting-started.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", GETTING_STARTED, re.S)
DEMO_NOTE = re.compile(r"^sqlgh: demo mode: .*\n", re.M)


def _block(starting: str) -> str:
    (found,) = [text for _, text in BLOCKS if text.startswith(starting)]
    return found


def _transcript(text: str) -> list[tuple[list[str], str]]:
    """``$ COMMAND`` lines (continued while a quote is open) with the output shown after."""
    steps: list[tuple[list[str], str]] = []
    lines = text.splitlines(keepends=True)
    while lines:
        command = lines.pop(0)
        assert command.startswith("$ "), command
        while True:
            try:
                words = shlex.split(command[2:])
                break
            except ValueError:  # a quote still open: the command goes on
                command += lines.pop(0)
        shown = ""
        while lines and not lines[0].startswith("$ "):
            shown += lines.pop(0)
        steps.append((words, shown))
    return steps


def test_every_getting_started_block_is_checked_here() -> None:
    # a block added to the page needs its test below
    starts = ["python3 -m venv", "$ sqlgh --demo\n", "sqlgh [OPTIONS]", "$ cat report.sql"]
    starts += ["$ sqlgh inventory.db", "import sqlgh"]
    assert sorted(text for _, text in BLOCKS) == sorted(_block(start) for start in starts)


def test_getting_started_install_runs_the_inventory_on_the_demo() -> None:
    commands = [line for line in _block("python3 -m venv").splitlines() if line.startswith("sqlgh")]
    assert commands == ["sqlgh --demo queries/inventory.sql"]
    result = sqlgh(*shlex.split(commands[0])[1:])
    assert result.returncode == 0, result.stderr
    assert DEMO_NOTE.fullmatch(result.stderr)  # "one line on standard error saying so"
    assert "repo" in result.stdout


def test_getting_started_shell_session_runs() -> None:
    typed = [line[len("sqlgh> ") :] for line in _block("$ sqlgh --demo\n").splitlines()[1:]]
    assert typed[0].startswith("SELECT name, size FROM release_assets")
    result = sqlgh("--demo", stdin="\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ rocket-")]
    assert len(rows) == 3  # LIMIT 3
    assert "1 request, " in result.stdout  # .requests
    assert "release_assets\nreleases\n" in result.stdout  # .tables
    assert "by_tag: WHERE gives owner, repo, tag_name" in result.stdout  # .keys releases
    assert ".requests ?all?" in result.stderr and "sqlgh's tables (" in result.stderr  # .help


@pytest.mark.parametrize("start", ["$ cat report.sql", "$ sqlgh inventory.db"])
def test_getting_started_transcripts_are_real(start: str, tmp_path: Path) -> None:
    for words, shown in _transcript(_block(start)):
        if words[0] == "cat":
            (tmp_path / words[1]).write_text(shown)
            continue
        assert words[0] == "sqlgh", words
        result = sqlgh(*words[1:], cwd=tmp_path)
        assert result.stdout + DEMO_NOTE.sub("", result.stderr) == shown, words
        assert result.returncode == (1 if "needs owner" in shown else 0)


def test_getting_started_python_example_runs(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_org("cli")
    emulator.add_repo("cli", "cli")
    release = emulator.add_release("cli", "cli", "v2.0.0")
    for number in range(7):
        emulator.add_asset("cli", "cli", release["id"], f"gh_{number}.tar.gz", size=number + 1)
    script = tmp_path / "example.py"
    script.write_text(_block("import sqlgh"))
    env = {**os.environ, "GITHUB_API_URL": emulator.api_url, "GH_TOKEN": TOKEN}
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"gh_{n}.tar.gz {n + 1}" for n in range(5)]
