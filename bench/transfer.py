"""Upload and download a large file through the emulator: sqlgh against curl, side by side.

    python bench/transfer.py [--size-mb 200] [--rounds 5] [--runs]

The emulator runs in a separate process (started here with multiprocessing, because it
has no API to create a repository or release from outside). Each sqlgh transfer runs in a
fresh Python process that reports its own peak memory growth: the peak resident set
(``VmHWM``, reset just before the transfer via ``/proc/self/clear_refs``) minus the
resident set before it. curl runs against the same emulator with the same file:
``curl --data-binary @file`` for the upload, ``curl -o`` for the download (the 302 to
storage is resolved first, so that curl, like sqlgh, sends no token to storage).

Both sides are timed without process start-up: sqlgh from just before its statement
(imports done, API connection open); a curl download by curl's own ``%{time_total}``
(summed over its two requests), a curl upload by the wall clock less curl's start-up
(measured on small requests), since curl reads the file before its clock starts. CPU
seconds are the client's own (``process_time`` in the sqlgh worker, children's
``getrusage`` for curl, start-up included) and the emulator process's. Prints a Markdown
table of medians and bests; ``--runs`` adds every transfer.
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
        pipe.send({"api_url": emu.api_url, "uploads_url": emu.uploads_url, "release": release})
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
    cpu = time.process_time()
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
            "SELECT download(?, ?, ?, ?, 'overwrite')", (OWNER, REPO, int(asset_id), destination)
        ).fetchone()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    growth = rss_kb("VmHWM") - before
    print(json.dumps({"seconds": seconds, "cpu": cpu, "growth_kb": growth, "result": result}))


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


def children_cpu() -> float:
    """CPU seconds of the children waited for so far (user + system)."""
    times = os.times()
    return times.children_user + times.children_system


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used, all its threads (user + system)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def curl_startup(api_url: str, times: int = 7) -> float:
    """Seconds a curl process spends outside its own clock (start-up and exit), median."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        inner = curl("-o", os.devnull, "-w", "%{time_total}", f"{api_url}/rate_limit", sync=False)
        spent.append(time.perf_counter() - started - float(inner))
    return statistics.median(spent)


def curl_upload(upload_url: str, path: str, startup: float) -> dict:
    """Wall time less curl's start-up: ``%{time_total}`` would leave out reading the file,
    which ``--data-binary @file`` does before its clock starts."""
    url = upload_url.split("{", 1)[0] + f"?name=curl-{time.time_ns()}.bin"
    os.sync()
    cpu = children_cpu()
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
    seconds = time.perf_counter() - started - startup
    return {"seconds": seconds, "cpu": children_cpu() - cpu}


def curl_download(api_url: str, asset_id: int, target: str) -> dict:
    """curl's own ``%{time_total}`` of the request that gets the 302 plus the download."""
    url = f"{api_url}/repos/{OWNER}/{REPO}/releases/assets/{asset_id}"
    os.sync()
    cpu = children_cpu()
    location, first = curl(
        "-H",
        f"Authorization: Bearer {TOKEN}",
        "-H",
        "Accept: application/octet-stream",
        "-o",
        os.devnull,
        "-w",
        "%{redirect_url} %{time_total}",
        url,
        sync=False,
    ).rsplit(" ", 1)
    second = curl("-o", target, "-w", "%{time_total}", location, sync=False)
    return {"seconds": float(first) + float(second), "cpu": children_cpu() - cpu}


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
    parser.add_argument("--runs", action="store_true", help="also print every transfer")
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024

    ours, theirs = multiprocessing.Pipe()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(theirs, stop), daemon=True)
    server.start()
    info = ours.recv()
    api_url, release = info["api_url"], info["release"]
    os.environ["SQLGH_UPLOADS_URL"] = info["uploads_url"]  # the workers' uploads host
    results: dict[str, list[dict]] = {
        "sqlgh up": [],
        "curl up": [],
        "sqlgh down": [],
        "curl down": [],
    }

    def measure(label: str, transfer: Any, *arguments: Any) -> dict:
        emulator_cpu = process_cpu(server.pid)
        result = transfer(*arguments)
        result["emulator_cpu"] = process_cpu(server.pid) - emulator_cpu
        results[label].append(result)
        return result

    try:
        with tempfile.TemporaryDirectory(prefix="sqlgh-bench-") as tmp:
            source = os.path.join(tmp, "source.bin")
            make_file(source, size)
            startup = curl_startup(api_url)
            asset_id = None
            # Rounds alternate which tool goes first, so neither always meets the other's
            # write-back.
            for n in range(args.rounds):
                for tool in ("sqlgh", "curl") if n % 2 == 0 else ("curl", "sqlgh"):
                    if tool == "sqlgh":
                        up = measure(
                            "sqlgh up", run_worker, "upload", api_url, str(release["id"]), source
                        )
                        asset_id = up["result"]
                    else:
                        measure("curl up", curl_upload, release["upload_url"], source, startup)
            for n in range(args.rounds):
                for tool in ("sqlgh", "curl") if n % 2 == 0 else ("curl", "sqlgh"):
                    target = os.path.join(tmp, f"{tool}-{n}")
                    os.makedirs(target)
                    if tool == "sqlgh":
                        spec = f"{asset_id}:{target}/"
                        down = measure(
                            "sqlgh down", run_worker, "download", api_url, str(release["id"]), spec
                        )
                        path = down["result"]
                    else:
                        path = os.path.join(target, "curl.bin")
                        measure("curl down", curl_download, api_url, asset_id, path)
                    assert os.path.getsize(path) == size
                    os.unlink(path)
    finally:
        stop.set()
        server.join(10)
    report(results, args.size_mb, args.rounds)
    if args.runs:
        for label, runs in results.items():
            shown = [{k: v for k, v in r.items() if k != "result"} for r in runs]
            print(label, json.dumps(shown))


def report(results: dict[str, list[dict]], size_mb: int, rounds: int) -> None:
    """Print the Markdown table and the throughput ratios, by medians and by bests."""
    mb = size_mb * 1024 * 1024 / 1e6
    print(f"{size_mb} MiB file, {rounds} rounds; {os.cpu_count()} CPUs")
    print(
        "| transfer | median s | best s | MB/s (median) | client CPU s | emulator CPU s "
        "| peak memory growth |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        best = min(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        emulator = statistics.median(r["emulator_cpu"] for r in runs)
        growth = [r["growth_kb"] for r in runs if "growth_kb" in r]
        memory = f"{max(growth) / 1024:.1f} MiB (max)" if growth else "-"
        print(
            f"| {label} | {seconds:.3f} | {best:.3f} | {mb / seconds:.0f} | {cpu:.3f} "
            f"| {emulator:.3f} | {memory} |"
        )
    for direction in ("up", "down"):
        ours = [r["seconds"] for r in results[f"sqlgh {direction}"]]
        theirs = [r["seconds"] for r in results[f"curl {direction}"]]
        median = statistics.median(theirs) / statistics.median(ours)
        best = min(theirs) / min(ours)
        print(
            f"sqlgh {direction}load throughput = {median:.0%} of curl's by medians, "
            f"{best:.0%} by bests"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main()
