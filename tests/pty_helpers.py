"""Running the real ``sqlgh`` command on a pseudo-terminal of a given size."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Sequence

from tests.cli_helpers import ROOT, TOKEN

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
EXIT_GRACE = 5.0  # seconds the command gets to exit once its terminal says no more


def sqlgh_tty(
    *args: str,
    typed: str | Sequence[tuple[str, str]],
    api_url: str | None = None,
    columns: int = 80,
    timeout: float = 60,
    status: int | None = 0,
) -> str:
    """Run ``python -m sqlgh.cli ARGS`` with a terminal ``columns`` wide as its standard
    input, output and error, and type ``typed``: text typed at once, or a dialogue of
    (prompt, line) steps, each line typed once the output since the last line ends with
    its prompt. Return what the terminal showed (echo included, escape sequences and
    carriage returns removed). The command must exit with ``status`` (None: any)."""
    with tempfile.TemporaryDirectory() as home:  # the shell's history file goes there
        steps = [("", typed)] if isinstance(typed, str) else [(p, f"{t}\n") for p, t in typed]
        shown, code = _run(list(args), steps, api_url, columns, timeout, home)
    if status is not None and code != status:
        raise AssertionError(f"sqlgh exited with {code}, not {status}; it showed {shown!r}")
    return shown


def _run(
    args: list[str],
    steps: list[tuple[str, str]],
    api_url: str | None,
    columns: int,
    timeout: float,
    home: str,
) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    env.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "TERM": "dumb", "HOME": home})
    if api_url is not None:
        env.update({"GITHUB_API_URL": api_url, "GH_TOKEN": TOKEN})
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "sqlgh.cli", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(terminal)
    shown = bytearray()
    answered = 0  # how much of the output came before the last line typed
    deadline = time.monotonic() + timeout
    poller = select.poll()  # not select.select: descriptors above 1024 are possible here
    poller.register(controller, select.POLLIN)
    try:
        while time.monotonic() < deadline:
            if steps and _ends_with(shown[answered:], steps[0][0]):
                os.write(controller, steps.pop(0)[1].encode())
                answered = len(shown)
            if poller.poll(100):
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: the command ended
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        else:
            raise TimeoutError(f"sqlgh did not end within {timeout} s: {shown.decode()!r}")
        code = process.wait(EXIT_GRACE)
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    return _ESCAPES.sub("", shown.decode("utf-8", "replace")).replace("\r", ""), code


def _ends_with(output: bytes | bytearray, prompt: str) -> bool:
    text = _ESCAPES.sub("", bytes(output).decode("utf-8", "replace"))
    return text.rstrip().endswith(prompt.rstrip())
