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

from tests.cli_helpers import ROOT, TOKEN

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")


def sqlgh_tty(
    *args: str, typed: str, api_url: str | None = None, columns: int = 80, timeout: float = 60
) -> str:
    """Run ``python -m sqlgh.cli ARGS`` with a terminal ``columns`` wide as its standard
    input, output and error; type ``typed``; return what the terminal showed (echo
    included, escape sequences and carriage returns removed)."""
    with tempfile.TemporaryDirectory() as home:  # the shell's history file goes there
        return _run(list(args), typed, api_url, columns, timeout, home)


def _run(
    args: list[str], typed: str, api_url: str | None, columns: int, timeout: float, home: str
) -> str:
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
    os.write(controller, typed.encode())
    shown = bytearray()
    deadline = time.monotonic() + timeout
    poller = select.poll()  # not select.select: descriptors above 1024 are possible here
    poller.register(controller, select.POLLIN)
    try:
        while time.monotonic() < deadline:
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
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    return _ESCAPES.sub("", shown.decode("utf-8", "replace")).replace("\r", "")
