"""Peak memory of reading an asset's bytes: ``SELECT data``, ``writefile(name, data)``, and
``download()``, for one large generated asset.

    python bench/content_memory.py [--size-mb 500] [--max-content-size BYTES]

The emulator runs in its own process and holds one generated asset of ``--size-mb`` MiB
(produced as it is read, never held). Each statement runs in a fresh Python process that
reports its peak memory growth as ``bench/transfer.py`` measures it: the peak resident set
(``VmHWM``, reset through ``/proc/self/clear_refs`` just before the statement) minus the
resident set before it. ``--max-content-size`` is passed to ``sqlgh.connect`` as the
``max_content_size`` option (the largest asset ``data`` downloads); leave it out to run
with the default, or on code that predates the option. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import markdown_table
from transfer import OWNER, REPO, TOKEN, rss_kb

WHERE = "FROM release_assets WHERE owner=:owner AND repo=:repo AND id=:id"
STATEMENTS = {
    "SELECT data": f"SELECT data {WHERE}",
    "SELECT writefile(file, data)": f"SELECT writefile(:file, data) {WHERE}",
    "SELECT download(...)": "SELECT download(:owner, :repo, :id, :file, 'overwrite')",
}


def serve(size: int, pipe: Any, stop: Any) -> None:
    """Child process: an emulator with acme/bench, one release and one generated asset."""
    from sqlgh.emulator import Emulator

    with Emulator() as emu:
        emu.add_repo(OWNER, REPO)
        release = emu.add_release(OWNER, REPO, "v1")
        asset = emu.add_asset(OWNER, REPO, release["id"], "big.bin", size=size)
        pipe.send({"api_url": emu.api_url, "asset_id": asset["id"]})
        stop.wait()


def worker(argv: list[str]) -> None:
    """Child process: run one statement; print JSON with seconds, growth and outcome."""
    import sqlgh

    label, api_url, asset_id, file, options = argv
    db = sqlgh.connect(api_url=api_url, token=TOKEN, **json.loads(options))
    values = {"owner": OWNER, "repo": REPO, "id": int(asset_id), "file": file}
    db.execute(f"SELECT name {WHERE}", values).fetchall()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current RSS
    before = rss_kb("VmRSS")
    started = time.perf_counter()
    try:
        (value,) = db.execute(STATEMENTS[label], values).fetchone()
        outcome = f"{len(value)} bytes" if isinstance(value, bytes) else f"{value}"
    except Exception as exc:  # the refusal above max_content_size is a result too
        outcome = f"{type(exc).__name__}: {str(exc)[:90]}"
    seconds = time.perf_counter() - started
    growth = rss_kb("VmHWM") - before
    print(json.dumps({"seconds": seconds, "growth_kb": growth, "outcome": outcome}))


def run_worker(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--max-content-size", type=int, default=None)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024
    options = {"mutation_interval": 0}
    if args.max_content_size is not None:
        options["max_content_size"] = args.max_content_size

    ours, theirs = multiprocessing.Pipe()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(size, theirs, stop), daemon=True)
    server.start()
    info = ours.recv()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="sqlgh-bench-") as tmp:
            for label in STATEMENTS:
                file = os.path.join(tmp, "out.bin")
                result = run_worker(
                    label, info["api_url"], str(info["asset_id"]), file, json.dumps(options)
                )
                with_file = os.path.exists(file) and os.path.getsize(file)
                if with_file:
                    os.unlink(file)
                rows.append(
                    [
                        f"`{label}`",
                        f"{result['growth_kb'] / 1024:.0f} MiB",
                        f"{result['seconds']:.2f} s",
                        result["outcome"] + (f" ({with_file} bytes on disk)" if with_file else ""),
                    ]
                )
    finally:
        stop.set()
        server.join(10)
    shown = {k: v for k, v in options.items() if k != "mutation_interval"} or "defaults"
    print(f"{args.size_mb} MiB generated asset; options: {shown}")
    print(markdown_table(["statement", "peak memory growth", "time", "outcome"], rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main()
