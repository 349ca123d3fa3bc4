"""Start-up time: ``python -c "import sqlgh"`` and ``sqlgh --demo -c "SELECT 1"``.

    python bench/startup.py [--runs 15] [--bytecode] [--python OTHER_PYTHON ...]

Each run is a fresh process timed from spawn to exit (wall clock), as hyperfine does. The
commands take turns, one run of each per round, after one round that is not counted (it
fills the OS file cache), so load from other work on the machine falls on all of them
alike. ``python -c pass`` is the interpreter's own start-up, for scale. Prints a Markdown
table of median, min and max, and exits with status 1 when a median misses its target
(issue 13 part 6: 0.25 s and 0.4 s).

``--python`` adds another interpreter (a virtual environment with other sqlgh code
installed, say ``main``'s) whose commands run in the same rounds: a before-and-after
comparison on a shared machine, where a run minutes later meets another load.

Python compiles a module without a cached ``.pyc`` at every import; a normal install
writes them, but ``PYTHONDONTWRITEBYTECODE`` (set in some environments) stops that for
an editable checkout. The bench runs in the environment it is given and says whether
bytecode is cached; ``--bytecode`` caches it in a temporary directory
(``PYTHONPYCACHEPREFIX``), as an installed package has it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, markdown_table

TARGETS = {"import": 0.25, "demo": 0.4}


def commands(python: str) -> list[tuple[str, list[str], float | None]]:
    """(what is timed, its command, its target in seconds or None) for one interpreter."""
    script = Path(python).with_name("sqlgh")
    sqlgh = [str(script)] if script.exists() else [python, "-m", "sqlgh.cli"]
    return [
        ("python -c pass", [python, "-c", "pass"], None),
        ('python -c "import sqlgh"', [python, "-c", "import sqlgh"], TARGETS["import"]),
        ('sqlgh --demo -c "SELECT 1"', [*sqlgh, "--demo", "-c", "SELECT 1"], TARGETS["demo"]),
    ]


def timed_run(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning ``command`` to its exit; raises if it fails.

    It runs in ``bench/``: in the checkout's root, ``python -c`` would import the
    checkout's ``sqlgh`` rather than the one the interpreter has installed.
    """
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=HERE, env=env, stdin=subprocess.DEVNULL, capture_output=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode(errors='replace')}")
    return elapsed


def measure(
    pythons: list[str], runs: int, env: dict[str, str]
) -> dict[tuple[str, str], list[float]]:
    """``runs`` timings of each command of each interpreter, taken in turns after one
    uncounted round; keyed by (interpreter, what is timed)."""
    plan = [(python, label, run) for python in pythons for label, run, _ in commands(python)]
    times: dict[tuple[str, str], list[float]] = {(p, label): [] for p, label, _ in plan}
    for round_number in range(runs + 1):
        for python, label, command in plan:
            elapsed = timed_run(command, env)
            if round_number:
                times[python, label].append(elapsed)
    return times


def report(pythons: list[str], times: dict[tuple[str, str], list[float]]) -> tuple[str, bool]:
    """The Markdown table, and whether every median of the first interpreter met its target."""
    rows, met = [], True
    for python in pythons:
        for label, _, target in commands(python):
            runs = times[python, label]
            median = statistics.median(runs)
            verdict = "" if target is None else ("met" if median < target else "MISSED")
            if python == pythons[0]:
                met = met and verdict != "MISSED"
            shown_target = "" if target is None else f"< {target:.2f}"
            row = [f"`{label}`", f"{median:.3f}", f"{min(runs):.3f}", f"{max(runs):.3f}"]
            rows.append([python, *row, shown_target, verdict])
    header = ["interpreter", "command", "median s", "min s", "max s", "target s", ""]
    return markdown_table(header, rows), met


def main() -> int:
    """Run the bench; print the table; 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="counted runs of each command")
    parser.add_argument(
        "--bytecode", action="store_true", help="cache compiled modules, as an install does"
    )
    parser.add_argument(
        "--python", action="append", default=[], help="another interpreter, timed alongside"
    )
    args = parser.parse_args()
    pythons = [sys.executable, *args.python]
    env = dict(os.environ)
    pycache = None
    if args.bytecode:
        pycache = tempfile.mkdtemp(prefix="sqlgh-bench-pycache-")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    try:
        times = measure(pythons, args.runs, env)
    finally:
        if pycache is not None:
            shutil.rmtree(pycache, ignore_errors=True)
    cached = not env.get("PYTHONDONTWRITEBYTECODE")
    table, met = report(pythons, times)
    print(
        f"{args.runs} runs each, taken in turns; bytecode "
        f"{'cached' if cached else 'NOT cached (PYTHONDONTWRITEBYTECODE)'}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n"
    )
    print(table)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
