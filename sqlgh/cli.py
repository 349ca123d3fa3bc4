"""The ``sqlgh`` command: a SQLite shell whose tables are GitHub's releases and assets."""

from __future__ import annotations

import difflib
import math
import os
import re
import shlex
import sys
import textwrap
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

import apsw

from sqlgh import __version__
from sqlgh.connection import OPTIONS, make_session
from sqlgh.progress import progress_for
from sqlgh.shell import FORMATS, SqlghShell

HELP = """\
usage: sqlgh [OPTIONS] [DATABASE] [SQL | .COMMAND | FILE.sql ...]

Query and change GitHub release assets with SQL. Without SQL to run, sqlgh is an
interactive SQLite shell (".help" lists its commands); with SQL, dot-commands or .sql
files, it runs them in order and stops at the first error (exit status 1). A piped
script run with ".bail off" goes on past errors and exits 1 if any statement failed.

DATABASE is an SQLite file for your own tables (default: in memory). The first argument
is taken as SQL rather than a DATABASE when it ends in .sql, starts with a dot-command or
contains a space or a semicolon.

options:
  -c SQL              run SQL (or a dot-command); may be repeated
  --format FORMAT     box (default), table, csv, tsv, json, jsonl, markdown, line or
                      chart (bars of the last column; also .mode chart)
  --api-url URL       GitHub API (default: $GITHUB_API_URL or https://api.github.com;
                      GitHub Enterprise Server: https://HOST/api/v3)
  --uploads-url URL   GitHub's uploads host, if not derived from the API URL (see
                      docs/auth.md: only these two hosts ever get the token)
  -p, --parameter NAME=VALUE
                      bind :NAME (or $NAME, @NAME) to VALUE in the SQL and .sql files
                      run, as the shell's .parameter set does; may be repeated. VALUE
                      is text (a whole number becomes an integer), e.g.
                      -p files='["dist/a.tar.gz", "dist/b.zip"]' (docs/releases.md)
  -o, --option NAME=VALUE
                      set an option of the connection, as sqlgh.connect(NAME=VALUE) does
                      (docs/getting-started.md); may be repeated. VALUE is read as a
                      number, true/false, or else text. NAME is one of:
{option_names}
  --demo              run against a built-in GitHub emulator with demo data (owners acme,
                      globex, initech, octocat): no token, no network. It starts
                      fresh on every run: what a run uploads or deletes is gone after it
  --demo-state FILE   --demo, keeping the emulator's data in FILE between runs (loaded
                      when FILE exists, saved at exit)
  --dry-run           run reads, and print the write requests INSERT, UPDATE and DELETE
                      would send, sending none (".dryrun on|off" in the shell)
  --yes               never ask before a large DELETE or UPDATE (for scripts)
  --confirm-over N    in an interactive shell, ask before a DELETE or UPDATE that would
                      touch more than N assets (default 10), or assets of several releases
                      when it names no release
  --version           show the versions of sqlgh, SQLite and APSW
  -h, --help          show this help
  SQLite shell options such as -header, -echo, -nullvalue TEXT also work.

The token comes from the environment: GH_TOKEN, then GITHUB_TOKEN, then `gh auth token`
(public data needs none; writes need "Contents: write").

examples:
  sqlgh --demo queries/inventory.sql
  sqlgh --demo -c "SELECT name, size FROM release_assets
                   WHERE owner = 'acme' AND repo = 'rocket' ORDER BY size DESC LIMIT 3"
  sqlgh --format csv inventory.db queries/inventory.sql > inventory.csv
  sqlgh -c "SELECT tag_name, published_at FROM releases WHERE owner = 'cli' AND repo = 'cli'"
  GH_TOKEN=... sqlgh -c "DELETE FROM release_assets
                         WHERE owner = 'me' AND repo = 'app' AND state <> 'uploaded'"
  sqlgh --demo -c "SELECT count(*) FROM repositories WHERE owner = 'acme'" -c .requests
  sqlgh -o statement_timeout=120 -o cache=false queries/inventory.sql
""".format(
    option_names=textwrap.fill(
        ", ".join(OPTIONS), width=88, initial_indent=" " * 22, subsequent_indent=" " * 22
    )
)

# SQLite shell options that take a value, passed through to apsw.shell.Shell
SHELL_OPTIONS_WITH_VALUE = frozenset({"init", "separator", "nullvalue", "encoding"})
# ... and the flags it knows besides its output modes (apsw.shell.Shell.process_args)
SHELL_FLAGS = frozenset(
    {"header", "noheader", "echo", "bail", "interactive", "batch"}
    | {"no-colour", "no-color", "nocolour", "nocolor"}
)
# What an option other tools take means here
OPTION_HINTS = {
    "token": "sqlgh reads the token from GH_TOKEN, else GITHUB_TOKEN or `gh auth token`; "
    "see docs/auth.md",
    "hostname": "for GitHub Enterprise Server use --api-url https://HOST/api/v3",
    "repo": "name the repository in SQL: WHERE owner = 'OWNER' AND repo = 'REPO'",
    "cmd": "use -c SQL",
}
SQLGH_OPTIONS = ("c", "format", "api-url", "uploads-url", "option", "demo", "version", "help")
# First words of SQL statements: a first argument that is one of them alone is SQL
# (failing as such), not the name of a database file
STATEMENT_WORDS = frozenset(
    {"alter", "analyze", "attach", "begin", "commit", "create", "delete", "detach", "drop"}
    | {"end", "explain", "insert", "pragma", "reindex", "release", "replace", "rollback"}
    | {"savepoint", "select", "update", "vacuum", "values", "with"}
)
_DOT_COMMAND = re.compile(r"\.[A-Za-z]")


class UsageError(Exception):
    """The command line cannot be understood."""


@dataclass
class Arguments:
    """The command line, with SQL, dot-commands and files in the order given."""

    database: str | None = None
    commands: list[str] = field(default_factory=list)
    format: str = "box"
    api_url: str | None = None
    uploads_url: str | None = None
    options: dict[str, object] = field(default_factory=dict)  # -o NAME=VALUE
    parameters: dict[str, object] = field(default_factory=dict)  # -p NAME=VALUE
    demo: bool = False
    demo_state: str | None = None  # --demo-state FILE
    dry_run: bool = False
    yes: bool = False
    confirm_over: int | None = None
    help: bool = False
    version: bool = False
    shell_options: list[str] = field(default_factory=list)
    # an output mode given as sqlite3 takes it (-csv): set here, since APSW's shell drops
    # such a flag when NO_COLOR is set (apsw 3.54 Shell.process_args)
    mode: str | None = None


def looks_like_commands(argument: str) -> bool:
    """Whether a first positional argument is SQL, a dot-command or a .sql file."""
    return (
        argument.lower().endswith(".sql")
        or bool(_DOT_COMMAND.match(argument))
        or any(c.isspace() or c == ";" for c in argument)
        or (argument.lower() in STATEMENT_WORDS and not os.path.exists(argument))
    )


def unknown_option(item: str) -> UsageError:
    """The error for an option neither sqlgh nor the SQLite shell takes, with a hint."""
    name = item.lstrip("-").partition("=")[0]
    hint = OPTION_HINTS.get(name, "no such option")
    if name not in OPTION_HINTS:
        close = difflib.get_close_matches(name, [*SQLGH_OPTIONS, *sorted(SHELL_FLAGS)], n=1)
        if close:
            hint += f"; did you mean {'-' if len(close[0]) == 1 else '--'}{close[0]}?"
    return UsageError(f"{item.partition('=')[0]}: {hint}")


def as_command(argument: str) -> str:
    """A positional argument as a shell command: a .sql file becomes ``.read FILE``."""
    looks_like_file = not any(c.isspace() for c in argument.strip()) or os.path.isfile(argument)
    if argument.lower().endswith(".sql") and looks_like_file:
        return f".read {shlex.quote(argument)}"
    return argument


def option_value(text: str) -> object:
    """``-o`` VALUE text as connect() takes it: true/false (yes/no, on/off), a whole or
    finite decimal number, or else the text itself (a path, a URL)."""
    word = text.strip().lower()
    if word in ("true", "yes", "on"):
        return True
    if word in ("false", "no", "off"):
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def parse_option(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` of ``-o``: the option's name and its value; UsageError for a name
    connect() does not take."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise UsageError(f"-o needs NAME=VALUE, not {text!r}")
    if name not in OPTIONS:
        raise UsageError(f"-o {name}: no such option; the options are {', '.join(OPTIONS)}")
    return name, option_value(value)


_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_parameter(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` of ``-p``: the binding's name (without its ``:``) and value, text or
    a whole number."""
    name, equals, value = text.partition("=")
    name = name.strip().lstrip(":$@")
    if not equals or not _PARAMETER_NAME.fullmatch(name):
        raise UsageError(
            f"-p needs NAME=VALUE with NAME a word of letters, digits and '_', not {text!r}; "
            "e.g. -p days=30 for :days"
        )
    return name, int(value) if re.fullmatch(r"-?[0-9]+", value.strip()) else value


def parse_arguments(argv: Sequence[str]) -> Arguments:
    """Split the command line into sqlgh's options, shell options and commands.

    The first positional argument is the database unless it looks like commands; SQL,
    dot-commands, ``.sql`` files and ``-c`` values then run in the order given.
    """
    args = Arguments()
    ordered: list[tuple[bool, str]] = []  # (given with -c, text)
    rest = list(argv)
    while rest:
        item = rest.pop(0)
        if item == "--":
            ordered += [(False, r) for r in rest]
            break
        if not item.startswith("-") or item == "-":
            ordered.append((False, item))
            continue
        name, _, inline = item.lstrip("-").partition("=")

        def value(option: str = name, given: str = inline) -> str:
            if given:
                return given
            if not rest:
                raise UsageError(f"{option} needs a value")
            return rest.pop(0)

        if name in ("h", "help"):
            args.help = True
        elif name == "version":
            args.version = True
        elif name == "demo":
            args.demo = True
        elif name == "demo-state":
            args.demo, args.demo_state = True, value("--demo-state")
        elif name == "dry-run":
            args.dry_run = True
        elif name == "yes":
            args.yes = True
        elif name == "confirm-over":
            args.confirm_over = _count_of("--confirm-over", value("--confirm-over"))
        elif name == "c":
            ordered.append((True, value("-c")))
        elif name == "format":
            args.format = value("--format")
            if args.format not in FORMATS:
                raise UsageError(f"--format {args.format!r} is not one of {', '.join(FORMATS)}")
        elif name == "api-url":
            args.api_url = value("--api-url")
        elif name == "uploads-url":
            args.uploads_url = value("--uploads-url")
        elif name in ("p", "parameter"):
            parameter, setting = parse_parameter(value(item.partition("=")[0]))
            args.parameters[parameter] = setting
        elif name in ("o", "option"):
            option, setting = parse_option(value(item.partition("=")[0]))
            args.options[option] = setting
        elif name in SHELL_OPTIONS_WITH_VALUE:
            args.shell_options += [item.partition("=")[0], value(item)]
        elif name in SHELL_FLAGS:
            args.shell_options.append(item)
        elif hasattr(SqlghShell, f"output_{name}"):  # sqlite3's -csv, -json, -box, ...
            args.mode = name
        else:
            raise unknown_option(item)
    positional = [i for i, (flag, _) in enumerate(ordered) if not flag]
    if positional and not looks_like_commands(ordered[positional[0]][1]):
        args.database = ordered.pop(positional[0])[1]
    args.commands = [text if flag else as_command(text) for flag, text in ordered]
    return args


def _count_of(option: str, text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise UsageError(f"{option} needs a whole number of assets, not {text!r}")
    return number


def version_text() -> str:
    """``sqlgh 0.1.0 (SQLite 3.x, APSW 3.x)``."""
    return f"sqlgh {__version__} (SQLite {apsw.sqlite_lib_version()}, APSW {apsw.apsw_version()})"


def run(args: Arguments) -> int:
    """Run the shell for parsed arguments; return the exit status."""
    with ExitStack() as stack:
        options: dict[str, object] = {"token": None, "api_url": args.api_url}
        try:
            if args.demo:
                # Imported here: the emulator would cost every other start-up 12-40 ms.
                from sqlgh.demo_mode import demo_note, demo_settings, running_demo

                emulator = stack.enter_context(running_demo(args.demo_state))
                print(demo_note(emulator, args.demo_state), file=sys.stderr, flush=True)
                options = demo_settings(emulator)
            if args.uploads_url:
                options["uploads_url"] = args.uploads_url
            options.update(args.options)
            session = make_session(progress=progress_for(sys.stderr), **options)
        except ValueError as exc:
            print(f"sqlgh: {exc}", file=sys.stderr)
            return 2
        session.dry_run = args.dry_run
        shell = SqlghShell(session)
        stack.callback(shell.close)
        shell.assume_yes = args.yes
        if args.confirm_over is not None:
            shell.confirm_over = args.confirm_over
        return _drive(shell, args)
    return 0  # pragma: no cover - ExitStack does not swallow exceptions


def _drive(shell: SqlghShell, args: Arguments) -> int:
    shell.set_format(args.format)
    shell.bindings.update(args.parameters)
    if args.mode is not None:
        shell.command_mode([args.mode])
    shell_args = list(args.shell_options)
    if args.database is not None or args.commands:
        shell_args.append(args.database or "")
    shell_args += args.commands
    try:
        shell.process_args(shell_args)
    except Exception:
        shell.bail = False
        shell.handle_exception()
        return 1
    if args.commands:
        return 0
    if shell.interactive:
        shell.bail = False
    else:  # SQL piped in: a script, so the first error stops it
        shell.bail = True
    try:
        shell.cmdloop(intro=shell.intro())
    except Exception:
        shell.bail = False
        shell.handle_exception()
        return 1
    if shell.failures and not shell.interactive:  # a script that went on after errors
        return 1
    return 0


INTERRUPTED_EXIT_GRACE = 2.0  # seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sqlgh`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "snapshot":
        from sqlgh.snapshot import main as snapshot  # its own module: cli only dispatches

        return snapshot(argv[1:])
    try:
        args = parse_arguments(argv)
    except UsageError as exc:
        print(f"sqlgh: {exc} (see sqlgh --help)", file=sys.stderr)
        return 2
    if args.help:
        sys.stdout.write(HELP)
        return 0
    if args.version:
        print(version_text())
        return 0
    try:
        return run(args)
    except KeyboardInterrupt:
        # What a write had done is already on standard error; no traceback on top.
        print("sqlgh: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, as shells report it


def console() -> None:
    """The ``sqlgh`` console script: ``main()``, then exit with its status.

    After Ctrl-C the exit is bounded: a read thread the interrupt left waiting (one seen
    to hold interpreter shutdown forever, now and then, when Ctrl-C came early in a
    statement) cannot keep the process alive past ``INTERRUPTED_EXIT_GRACE`` seconds.
    """
    status = main()
    if status == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        timer = threading.Timer(INTERRUPTED_EXIT_GRACE, os._exit, (status,))
        timer.daemon = True  # it must not hold the exit itself
        timer.start()
    sys.exit(status)


if __name__ == "__main__":
    console()
