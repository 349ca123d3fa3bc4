"""The real ``sqlgh`` command, run as a subprocess: demo, scripts, formats, exit codes.

Most tests share one demo emulator (``--api-url`` and GH_TOKEN); a few check ``--demo``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqlgh import __version__
from sqlgh.emulator import Emulator
from tests.cli_helpers import ROOT, TOKEN, demo_assets, demo_repositories, sqlgh

ROCKET = (
    "SELECT name, size, download_count FROM release_assets "
    "WHERE owner = 'acme' AND repo = 'rocket' AND release_id = {release} ORDER BY size DESC LIMIT 3"
)


@pytest.fixture(scope="module")
def rocket(demo: Emulator) -> tuple[str, list[tuple[str, int, int]]]:
    """A query over one acme/rocket release and its expected rows (read without sqlgh)."""
    found = [a for a in demo_assets(demo.api_url, ("acme",)) if a["repo"] == "rocket"]
    release = max(a["release_id"] for a in found)
    mine = sorted((a for a in found if a["release_id"] == release), key=lambda a: -a["size"])
    return ROCKET.format(release=release), [
        (a["name"], a["size"], a["download_count"]) for a in mine[:3]
    ]


def test_version() -> None:
    result = sqlgh("--version")
    assert result.returncode == 0
    assert re.fullmatch(
        rf"sqlgh {re.escape(__version__)} \(SQLite 3\.\d+\.\d+, APSW .+\)\n", result.stdout
    )


def test_help_shows_options_and_real_examples() -> None:
    result = sqlgh("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: sqlgh [OPTIONS] [DATABASE]")
    for text in ("--demo", "--format", "--api-url", "-c SQL", "GH_TOKEN", "examples:"):
        assert text in result.stdout
    assert "sqlgh --demo queries/inventory.sql" in result.stdout


def test_demo_runs_a_query_file_without_token_or_network() -> None:
    result = sqlgh("--demo", "queries/inventory.sql")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"sqlgh: demo mode: a GitHub emulator on http://127\.0\.0\.1:\d+ "
        r"\(owners acme, globex, initech, octocat\); nothing leaves this machine\n",
        result.stderr,
    )
    lines = result.stdout.splitlines()
    assert re.match(r"│\s+repository\s+│\s+release\s+│", lines[1])
    assert any(re.match(r"│ firmware\s+│ v\S+\s+│ \S+ │\s+132 │", line) for line in lines)


def test_c_runs_sql_against_the_api_url(demo: Emulator, rocket: tuple) -> None:
    query, expected = rocket
    result = sqlgh("--format", "csv", "-c", query, api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["name", "size", "download_count"]
    assert [(n, int(s), int(d)) for n, s, d in rows[1:]] == expected


def test_api_url_option_overrides_the_environment(demo: Emulator, rocket: tuple) -> None:
    query, expected = rocket
    env_url = "http://127.0.0.1:9"  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "sqlgh.cli", "--api-url", demo.api_url, "--format", "json"],
        input=query + ";\n",
        capture_output=True,
        text=True,
        env={**os.environ, "GITHUB_API_URL": env_url, "GH_TOKEN": TOKEN, "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [(r["name"], r["size"], r["download_count"]) for r in json.loads(result.stdout)] == (
        expected
    )


@pytest.mark.parametrize(
    "name", ["box", "table", "csv", "tsv", "json", "jsonl", "markdown", "line"]
)
def test_every_format(demo: Emulator, rocket: tuple, name: str) -> None:
    query, expected = rocket
    result = sqlgh("--format", name, "-c", query, api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    top = expected[0]
    if name in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(out), delimiter="," if name == "csv" else "\t"))
        assert rows == [["name", "size", "download_count"]] + [
            [n, str(s), str(d)] for n, s, d in expected
        ]
    elif name == "json":
        assert [tuple(r.values()) for r in json.loads(out)] == expected
    elif name == "jsonl":
        assert [tuple(json.loads(line).values()) for line in out.splitlines()] == expected
    elif name == "markdown":
        lines = out.splitlines()
        assert re.fullmatch(r"\| name +\| +size \| download_count \|", lines[0])
        assert re.fullmatch(r"\| -+ \| -+: \| -+: \|", lines[1])
        assert re.fullmatch(rf"\| {re.escape(top[0])} +\| +{top[1]} \| +{top[2]} \|", lines[2])
        assert len(lines) == 2 + len(expected)
    elif name == "line":
        assert f"          name = {top[0]}\n          size = {top[1]}\n" in out
    else:
        corner = "╭" if name == "box" else "+"
        assert out.startswith(corner)
        assert re.search(rf"{re.escape(top[0])}\s+[│|]\s+{top[1]}\s+[│|]\s+{top[2]}", out)


def test_script_error_names_file_and_line_and_stops(demo: Emulator, tmp_path: Path) -> None:
    script = tmp_path / "report.sql"
    script.write_text(
        "SELECT 'first' AS step;\n"
        "\n"
        "-- the next statement lacks owner\n"
        "SELECT name\n"
        "FROM release_assets\n"
        "WHERE repo = 'rocket';\n"
        "SELECT 'never' AS step;\n"
    )
    result = sqlgh("--format", "csv", str(script), api_url=demo.api_url)
    assert result.returncode == 1
    assert "first" in result.stdout and "never" not in result.stdout
    assert result.stderr == (
        "release_assets needs owner (with repo, and release_id or id, to be cheap) in WHERE "
        f"or a join\n  in {script}, line 4\n"
    )


def test_syntax_error_in_nested_file_names_both_files(tmp_path: Path) -> None:
    inner = tmp_path / "inner.sql"
    inner.write_text("SELECT 1;\nSELEC 2;\n")
    outer = tmp_path / "outer.sql"
    outer.write_text(f"-- runs inner\n.read {inner}\nSELECT 3;\n")
    result = sqlgh(str(outer))
    assert result.returncode == 1
    assert result.stderr == (
        'near "SELEC": syntax error\n'
        "   SELEC 2;\n"
        "   ^--- error here\n"
        f"  in {inner}, line 2\n"
        f"  in {outer}, line 2\n"
    )


def test_c_error_exit_status_and_message(demo: Emulator) -> None:
    result = sqlgh(
        "-c",
        "SELECT * FROM release_assets WHERE owner = 'acme/rocket' AND repo = 'x'",
        api_url=demo.api_url,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "release_assets.owner: 'acme/rocket' is not a GitHub user or organization name "
        "(letters, digits, '-' and '_', at most 100 characters); give the login alone, e.g. "
        "owner = 'cli', not 'cli/cli' or a URL\n"
    )


def test_missing_repository_message(demo: Emulator) -> None:
    result = sqlgh(
        "-c",
        "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'nope'",
        api_url=demo.api_url,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "release_assets: repository acme/nope does not exist, or it is not visible to this "
        "token (it needs Contents: read) (GitHub answered 404 (Not Found) to GET "
        "/repos/acme/nope/releases?per_page=100)\n"
    )


def test_piped_script_stops_at_first_error(demo: Emulator) -> None:
    result = sqlgh(
        "--format",
        "csv",
        api_url=demo.api_url,
        stdin="SELECT 'one';\nSELECT * FROM release_assets;\nSELECT 'two';\n",
    )
    assert result.returncode == 1
    assert "one" in result.stdout and "two" not in result.stdout
    assert result.stderr.endswith("in WHERE or a join\n  in <stdin>, line 2\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "yaml"],
            "sqlgh: --format 'yaml' is not one of box, table, csv, tsv, "
            "json, jsonl, markdown, line, chart (see sqlgh --help)\n",
        ),
        (["-c"], "sqlgh: -c needs a value (see sqlgh --help)\n"),
        (
            ["--api-url", "ftp://example.com", "-c", "SELECT 1"],
            "sqlgh: api_url 'ftp://example.com' is not an http(s) URL; use e.g. "
            "https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server\n",
        ),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = sqlgh(*args)
    assert result.returncode == 2
    assert result.stderr == message


def test_database_file_keeps_local_tables_to_join(demo: Emulator, tmp_path: Path) -> None:
    database = tmp_path / "mine.db"
    made = sqlgh(
        str(database),
        "CREATE TABLE watched(owner TEXT, repo TEXT); "
        "INSERT INTO watched VALUES ('acme', 'rocket'), ('globex', 'laser');",
    )
    assert made.returncode == 0, made.stderr
    result = sqlgh(
        "--format",
        "csv",
        str(database),
        "SELECT w.repo, count(*) AS assets FROM watched w "
        "JOIN release_assets a ON a.owner = w.owner AND a.repo = w.repo GROUP BY 1 ORDER BY 1",
        api_url=demo.api_url,
    )
    assert result.returncode == 0, result.stderr
    expected = demo_assets(demo.api_url, ("acme", "globex"))
    counts = {r: sum(a["repo"] == r for a in expected) for r in ("laser", "rocket")}
    assert result.stdout == f"repo,assets\nlaser,{counts['laser']}\nrocket,{counts['rocket']}\n"


def test_requests_dot_command_and_table(demo: Emulator) -> None:
    result = sqlgh(
        "--format",
        "csv",
        "-c",
        "SELECT count(*) AS repos FROM repositories WHERE owner = 'initech'",
        "-c",
        ".requests",
        "-c",
        "SELECT method, path, status, from_cache FROM sqlgh_requests",
        api_url=demo.api_url,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["repos", "8"]
    assert lines[2] == "started,method,path,status,elapsed_ms,from_cache,rate_remaining"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,GET,/orgs/initech/repos\?per_page=100&type=all"
        r",200,[\d.]+,0,\d+",
        lines[3],
    )
    assert re.fullmatch(r"1 request, \d+ ms", lines[4])
    assert lines[5:] == [
        "method,path,status,from_cache",
        "GET,/orgs/initech/repos?per_page=100&type=all,200,0",
    ]


def test_requests_after_a_statement_without_requests(demo: Emulator) -> None:
    result = sqlgh("-c", "SELECT 1", "-c", ".requests", api_url=demo.api_url)
    assert result.returncode == 0
    assert result.stdout.endswith("(no HTTP requests)\n")


def test_markdown_mode_is_a_dot_command_too(demo: Emulator) -> None:
    result = sqlgh("-c", ".mode markdown", "-c", "SELECT 'a|b' AS x, 2 AS n, NULL AS z")
    assert result.stdout == "| x    |   n | z   |\n| ---- | --: | --- |\n| a\\|b |   2 |     |\n"


def test_interactive_error_does_not_end_the_session(demo: Emulator, tmp_path: Path) -> None:
    out = _interactive(
        demo,
        tmp_path,
        [
            "SELECT name FROM release_assets WHERE repo = 'rocket';",
            "SELECT count(*) || ' repositories' FROM repositories WHERE owner = 'globex';",
            ".quit",
        ],
    )
    assert "sqlgh> " in out
    assert "release_assets needs owner" in out
    assert "10 repositories" in out
    assert " in <stdin>" not in out  # interactive errors need no location


def _interactive(emu: Emulator, home: Path, lines: list[str], timeout: float = 20) -> str:
    """Drive ``sqlgh`` under a pseudo-terminal; return everything it showed."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        env = {
            **os.environ,
            "HOME": str(home),
            "NO_COLOR": "1",
            "GITHUB_API_URL": emu.api_url,
            "GH_TOKEN": TOKEN,
            "TERM": "dumb",
        }
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "sqlgh.cli"], env)
    shown = b""
    deadline = time.monotonic() + timeout
    pending = list(lines)
    poller = select.poll()  # poll, not select: the fd may exceed FD_SETSIZE
    poller.register(fd, select.POLLIN)
    while time.monotonic() < deadline:
        ready = poller.poll(200)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if pending and shown.rstrip().endswith(b"sqlgh>"):
            line = pending.pop(0)
            os.write(fd, line.encode() + b"\r")
            shown += b"\n"  # keep prompts of successive lines apart
    finished, status = os.waitpid(pid, os.WNOHANG)
    while not finished and time.monotonic() < deadline + 5:
        time.sleep(0.05)
        finished, status = os.waitpid(pid, os.WNOHANG)
    if not finished:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
    assert finished, f"sqlgh did not exit; it showed {shown!r}"
    assert os.WEXITSTATUS(status) == 0
    return shown.decode(errors="replace")


def test_sql_file_whose_path_has_a_space(demo: Emulator, tmp_path: Path) -> None:
    script = tmp_path / "my report.sql"
    script.write_text("SELECT count(*) FROM repositories WHERE owner = 'acme';\n")
    result = sqlgh("--format", "csv", str(script), api_url=demo.api_url)
    assert result.returncode == 0, result.stderr
    expected = len(demo_repositories(demo.api_url, "acme"))
    assert result.stdout.splitlines()[-1] == str(expected)


def test_an_interrupted_command_exits_even_with_a_thread_left_waiting() -> None:
    """After Ctrl-C (status 130), a thread still waiting (a read the interrupt left behind)
    cannot hold the process open: it exits within the grace period."""
    child = (
        "import threading, sqlgh.cli as cli\n"
        "threading.Thread(target=threading.Event().wait).start()  # never ends\n"
        "cli.main = lambda argv=None: 130\n"
        "cli.console()\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", child], timeout=30, capture_output=True)
    assert result.returncode == 130
    assert time.monotonic() - started < 10
