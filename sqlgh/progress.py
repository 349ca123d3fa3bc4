"""Progress bars for the ``sqlgh`` command: tqdm on standard error, only on a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from sqlgh.github.progress import Progress, ProgressFactory, no_progress


def terminal_progress(*, total: int | None = None, desc: str = "", unit: str = "") -> Progress:
    """A tqdm bar on standard error that appears after half a second and clears when done."""
    from tqdm import tqdm

    as_bytes = unit == "B"
    return tqdm(
        total=total,
        desc=desc,
        unit=unit or "it",
        unit_scale=as_bytes,
        unit_divisor=1024 if as_bytes else 1000,
        leave=False,
        delay=0.5,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def progress_for(stream: TextIO) -> ProgressFactory:
    """tqdm bars when ``stream`` is a terminal, none otherwise (pipes, files, CI logs)."""
    isatty = getattr(stream, "isatty", None)
    return terminal_progress if isatty is not None and isatty() else no_progress
