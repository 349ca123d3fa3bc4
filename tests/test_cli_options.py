"""``sqlgh -o NAME=VALUE``: the shell sets the connection options connect() takes, and
the errors that name an option say how to set it there."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from helpers import seed_one_asset

from sqlgh.cli import Arguments, option_value, parse_arguments
from sqlgh.connection import OPTIONS
from sqlgh.emulator import Emulator, Fault
from sqlgh.github import configure
from sqlgh.github.errors import TransportError
from sqlgh.github.retry import explain_transport
from tests.cli_helpers import ROOT, sqlgh

ONE = "SELECT name FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = {}"


def test_an_option_reaches_the_connection_and_its_error_says_how_to_set_it(
    emulator: Emulator,
) -> None:
    """read_timeout=0.2 (default 30) against a server silent for 3 s: the shell gives up
    at once, and the error tells the shell user the -o to wait longer."""
    release = seed_one_asset(emulator)
    emulator.add_fault(Fault("slow", method="GET", path=r"/releases/\d+$", delay=3, times=-1))
    result = sqlgh(
        "-o", "read_timeout=0.2", "--option", "retries=0", "-c", ONE.format(release["id"]),
        api_url=emulator.api_url, uploads_url=emulator.uploads_url, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        "GitHub sent nothing for 0.2 s (the read_timeout option; to wait longer: "
        "sqlgh -o read_timeout=0.4 in the shell, sqlgh.connect(read_timeout=0.4) in Python)"
    ) in result.stderr


def test_text_and_boolean_values(emulator: Emulator, tmp_path: Path) -> None:
    """cache_path is text; cache=false (a boolean) keeps the file from being made."""
    release = seed_one_asset(emulator)
    for cache, made in (("false", False), ("true", True)):
        path = tmp_path / f"cache-{cache}.sqlite"
        result = sqlgh(
            f"--option=cache_path={path}", "-o", f"cache={cache}", "-c", ONE.format(release["id"]),
            api_url=emulator.api_url, uploads_url=emulator.uploads_url,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("one.bin") == 1
        assert path.exists() is made


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("OFF", False), ("yes", True), ("0", 0), ("120", 120), ("1.5", 1.5),
        ("1e3", 1000.0), ("nan", "nan"), ("inf", "inf"), ("/tmp/c.sqlite", "/tmp/c.sqlite"),
        ("", ""),
    ],
)  # fmt: skip
def test_values_are_read_as_numbers_booleans_or_text(text: str, value: object) -> None:
    parsed = option_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_every_form_of_the_option_is_parsed() -> None:
    args = parse_arguments(
        ["-o", "retries=1", "--option", "cache=no", "--option=statement_timeout=2.5",
         "-o=per_page=10", "-c", "SELECT 1"]
    )  # fmt: skip
    assert args == Arguments(
        commands=["SELECT 1"],
        options={"retries": 1, "cache": False, "statement_timeout": 2.5, "per_page": 10},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "read_timout=5"], "sqlgh: -o read_timout: no such option; the options are "
         + ", ".join(OPTIONS) + " (see sqlgh --help)\n"),
        (["-o", "read_timeout"], "sqlgh: -o needs NAME=VALUE, not 'read_timeout' (see sqlgh "
         "--help)\n"),
        (["-o"], "sqlgh: -o needs a value (see sqlgh --help)\n"),
        (["-o", "read_timeout=soon", "-c", "SELECT 1"], "sqlgh: option read_timeout must be a "
         "number >= 0.001, not 'soon'\n"),
        (["-o", "progress=1"], "sqlgh: -o progress: no such option; the options are "
         + ", ".join(OPTIONS) + " (see sqlgh --help)\n"),
    ],
)  # fmt: skip
def test_a_wrong_option_exits_2(args: list[str], message: str) -> None:
    result = sqlgh(*args)
    assert (result.returncode, result.stderr) == (2, message)


def test_help_lists_every_option() -> None:
    result = sqlgh("--help")
    assert "-o, --option NAME=VALUE" in result.stdout
    listed = set(re.findall(r"\w+", result.stdout.split("NAME is one of:")[1].split("--demo")[0]))
    assert listed == set(OPTIONS)


def test_the_options_are_the_documented_ones() -> None:
    """The shell takes exactly the options of configure's table and connect()'s own, and
    docs/getting-started.md lists them all."""
    table = re.findall(r"^``(\w+)``", configure.__doc__ or "", re.M)
    guide = (ROOT / "docs" / "getting-started.md").read_text()
    section = guide.split("\n## Options\n")[1].split("\n## ")[0]
    assert set(OPTIONS) == set(table) | {"upload_attempts", "max_content_size", "reuse_listings"}
    assert set(re.findall(r"^\| `(\w+)`", section, re.M)) == set(OPTIONS)


# --- each error that names an option says how to set it, in the shell and in Python ----------
def _run_failing(emulator: Emulator, *args: str) -> str:
    """The shell's stderr for a run that must fail on the query."""
    result = sqlgh(*args, api_url=emulator.api_url, uploads_url=emulator.uploads_url, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


def test_statement_timeout_error_says_how_to_set_it(emulator: Emulator) -> None:
    release = seed_one_asset(emulator)
    emulator.add_fault(Fault("slow", method="GET", path=r"/releases/\d+$", delay=3, times=-1))
    err = _run_failing(emulator, "-o", "statement_timeout=0.5", "-c", ONE.format(release["id"]))
    assert (
        "ran past statement_timeout (0.5 s) and was stopped during GET "
    ) in err
    assert (
        "give it more time with the statement_timeout option (0: no limit; sqlgh -o "
        "statement_timeout=1 in the shell, sqlgh.connect(statement_timeout=1) in Python)"
    ) in err


def test_low_speed_error_says_how_to_set_it(emulator: Emulator) -> None:
    release = seed_one_asset(emulator)
    emulator.add_fault(
        Fault("trickle_body", method="GET", path=r"/releases/\d+$", delay=0.05, times=-1)
    )
    err = _run_failing(
        emulator, "-o", "low_speed_time=0.5", "-o", "low_speed_limit=100000", "-o", "retries=0",
        "-c", ONE.format(release["id"]),
    )  # fmt: skip
    assert (
        "less than low_speed_limit (100000 bytes/s) for low_speed_time (0.5 s): the server or "
        "the network is stalling (on a link this slow, lower low_speed_limit or raise "
        "low_speed_time: sqlgh -o low_speed_time=2 in the shell, "
        "sqlgh.connect(low_speed_time=2) in Python)"
    ) in err


def test_rate_limit_error_says_how_to_set_max_rate_limit_wait(emulator: Emulator) -> None:
    """The first query leaves no requests and the reset is an hour away: the second fails
    at once, saying how to wait for it instead."""
    release = seed_one_asset(emulator)
    emulator.set_rate_limit(remaining=1, reset=int(time.time()) + 3600)
    query = ONE.format(release["id"])
    err = _run_failing(emulator, "-o", "cache=false", "-c", query, "-c", query)
    wait = re.search(r"set max_rate_limit_wait to (\d+) or more to wait \((.*?)\)\n", err)
    assert wait, err
    seconds = wait[1]
    assert 3600 <= int(seconds) <= 3602
    assert wait[2] == (
        f"sqlgh -o max_rate_limit_wait={seconds} in the shell, "
        f"sqlgh.connect(max_rate_limit_wait={seconds}) in Python"
    )


@pytest.mark.parametrize(
    ("cause", "shown"),
    [
        (requests.ConnectTimeout(), "could not connect within 2 s (the connect_timeout option; "
         "to wait longer: sqlgh -o connect_timeout=4 in the shell, "
         "sqlgh.connect(connect_timeout=4) in Python)"),
        (TimeoutError(), "the server took nothing of the request for 2 s (each wait to send is "
         "bounded by the connect_timeout option; to wait longer: sqlgh -o connect_timeout=4 "
         "in the shell, sqlgh.connect(connect_timeout=4) in Python)"),
    ],
)  # fmt: skip
def test_connect_timeout_errors_say_how_to_set_it(cause: BaseException, shown: str) -> None:
    assert explain_transport(TransportError("GET", "/x", cause), (2.0, 30.0)) == shown
