"""Upload and download a large file through the emulator: sqlgh against curl, side by side.

    python bench/transfer.py [--size-mb 200] [--rounds 3]

The emulator runs in a separate process (started here with multiprocessing, because it
has no API to create a repository or release from outside). Each sqlgh transfer runs in a
fresh Python process that reports its own peak memory growth: the peak resident set
(``VmHWM``, reset just before the transfer via ``/proc/self/clear_refs``) minus the
resident set before it. curl runs against the same emulator with the same file:
``curl --data-binary @file`` for the upload, ``curl -o`` for the download (the 302 to
storage is resolved first, so that curl, like sqlgh, sends no token to storage).
Prints a Markdown table of medians.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

TOKEN = "test-token"
OWNER, REPO = "acme", "bench"


def serve(pipe: Any, stop: Any) -> None:
    """Child process: run an emulator with acme/bench and one release until ``stop``."""
    from sqlgh.emulator import Emulator

    with Emulator() as emu:
        emu.add_repo(OWNER, REPO)
        release = emu.add_release(OWNER, REPO, "v1")
        pipe.send({"api_url": emu.api_url, "release": release})
        stop.wait()


def rss_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(argv: list[str]) -> None:
    """Child process: one sqlgh transfer; print JSON with seconds and memory growth."""
    import sqlgh

    action, api_url, release_id, path = argv
    db = sqlgh.connect(api_url=api_url, token=TOKEN, mutation_interval=0)
    db.execute(  # warm: imports, connection, the release's upload_url memo
        "SELECT count(*) FROM release_assets WHERE owner=? AND repo=? AND release_id=?",
        (OWNER, REPO, int(release_id)),
    ).fetchall()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write(
            "5" if os.environ.get("NOCLEAR") is None else ""
        )  # reset VmHWM to the current RSS
    before = rss_kb("VmRSS")
    started = time.perf_counter()
    if action == "upload":
        name = f"sqlgh-{time.time_ns()}.bin"
        db.execute(
            "INSERT INTO release_assets(owner, repo, release_id, name, path) VALUES (?,?,?,?,?)",
            (OWNER, REPO, int(release_id), name, path),
        )
        result: Any = db.last_insert_rowid()
    else:
        asset_id, destination = path.split(":", 1)
        (result,) = db.execute(
            "SELECT download(?, ?, ?, ?)", (OWNER, REPO, int(asset_id), destination)
        ).fetchone()
    seconds = time.perf_counter() - started
    growth = rss_kb("VmHWM") - before
    print(json.dumps({"seconds": seconds, "growth_kb": growth, "result": result}))


def run_worker(*args: str) -> dict:
    os.sync()  # start every transfer without dirty pages from the one before
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def curl(*args: str, sync: bool = True) -> str:
    if sync:
        os.sync()
    return subprocess.run(
        ["curl", "-sS", "--fail", *args], check=True, capture_output=True, text=True
    ).stdout


def curl_upload(upload_url: str, path: str) -> float:
    url = upload_url.split("{", 1)[0] + f"?name=curl-{time.time_ns()}.bin"
    os.sync()
    started = time.perf_counter()
    curl(
        "-X",
        "POST",
        "-H",
        f"Authorization: Bearer {TOKEN}",
        "-H",
        "Content-Type: application/octet-stream",
        "-H",
        "Expect:",
        "--data-binary",
        f"@{path}",
        "-o",
        os.devnull,
        url,
        sync=False,
    )
    return time.perf_counter() - started


def curl_download(api_url: str, asset_id: int, target: str) -> float:
    url = f"{api_url}/repos/{OWNER}/{REPO}/releases/assets/{asset_id}"
    os.sync()
    started = time.perf_counter()
    location = curl(
        "-H",
        f"Authorization: Bearer {TOKEN}",
        "-H",
        "Accept: application/octet-stream",
        "-o",
        os.devnull,
        "-w",
        "%{redirect_url}",
        url,
        sync=False,
    )
    curl("-o", target, location, sync=False)
    return time.perf_counter() - started


def make_file(path: str, size: int) -> None:
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 1 << 20))
            out.write(block)
            left -= len(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024

    ours, theirs = multiprocessing.Pipe()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(theirs, stop), daemon=True)
    server.start()
    info = ours.recv()
    api_url, release = info["api_url"], info["release"]
    results: dict[str, list[dict]] = {
        "sqlgh up": [],
        "curl up": [],
        "sqlgh down": [],
        "curl down": [],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="sqlgh-bench-") as tmp:
            source = os.path.join(tmp, "source.bin")
            make_file(source, size)
            asset_id = None
            # Rounds alternate which tool goes first, so neither always meets the other's
            # write-back.
            for n in range(args.rounds):
                for tool in ("sqlgh", "curl") if n % 2 == 0 else ("curl", "sqlgh"):
                    if tool == "sqlgh":
                        up = run_worker("upload", api_url, str(release["id"]), source)
                        asset_id = up["result"]
                        results["sqlgh up"].append(up)
                    else:
                        seconds = curl_upload(release["upload_url"], source)
                        results["curl up"].append({"seconds": seconds})
            for n in range(args.rounds):
                for tool in ("sqlgh", "curl") if n % 2 == 0 else ("curl", "sqlgh"):
                    target = os.path.join(tmp, f"{tool}-{n}")
                    os.makedirs(target)
                    if tool == "sqlgh":
                        spec = f"{asset_id}:{target}/"
                        down = run_worker("download", api_url, str(release["id"]), spec)
                        path = down["result"]
                    else:
                        path = os.path.join(target, "curl.bin")
                        down = {"seconds": curl_download(api_url, asset_id, path)}
                    assert os.path.getsize(path) == size
                    os.unlink(path)
                    results[f"{tool} down"].append(down)
    finally:
        stop.set()
        server.join(10)

    mb = size / 1e6
    print(f"{args.size_mb} MiB file, {args.rounds} rounds, medians; {os.cpu_count()} CPUs")
    print("| transfer | seconds | MB/s | peak memory growth |")
    print("| --- | ---: | ---: | ---: |")
    for label, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        growth = [r["growth_kb"] for r in runs if "growth_kb" in r]
        memory = f"{max(growth) / 1024:.1f} MiB (max)" if growth else "-"
        print(f"| {label} | {seconds:.2f} | {mb / seconds:.0f} | {memory} |")
    for direction in ("up", "down"):
        ratio = statistics.median(r["seconds"] for r in results[f"curl {direction}"]) / (
            statistics.median(r["seconds"] for r in results[f"sqlgh {direction}"])
        )
        print(f"sqlgh {direction}load throughput = {ratio:.0%} of curl's")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main()
