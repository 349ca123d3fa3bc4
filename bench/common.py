"""Helpers shared by the benchmarks: the emulator subprocess and timing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent


class EmulatorProcess:
    """``bench/serve.py`` in a subprocess; ``served()`` reads its request count."""

    def __init__(self, shape: str, latency: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "serve.py"), "--shape", shape, "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.api_url = self.process.stdout.readline().strip()  # type: ignore[union-attr]

    def served(self) -> int:
        """Requests the emulator served since the last call."""
        self.process.stdin.write("count\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        return int(self.process.stdout.readline())  # type: ignore[union-attr]

    def core_used(self, token: str) -> int:
        """Rate-limit units used so far (GET /rate_limit is not counted, nor logged here)."""
        headers = {"Authorization": f"Bearer {token}"}
        body = requests.get(f"{self.api_url}/rate_limit", headers=headers, timeout=10).json()
        self.served()  # leave the /rate_limit request out of the next count
        return body["resources"]["core"]["used"]

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.stdin.write("quit\n")  # type: ignore[union-attr]
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait(timeout=30)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
