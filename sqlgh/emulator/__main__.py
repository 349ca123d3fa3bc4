"""``python -m sqlgh.emulator``: serve in the foreground until Ctrl-C or SIGTERM.

The first line of standard output is the API URL (flushed), for scripts that start it.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from sqlgh.emulator.demo import seed_demo
from sqlgh.emulator.emulator import DEFAULT_TOKENS, Emulator


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m sqlgh.emulator", description="A GitHub REST stand-in on loopback."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument("--ghes", action="store_true", help="GitHub Enterprise Server paths")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--seed", choices=["demo", "empty"], default="demo", help="data (demo)")
    args = parser.parse_args(argv)

    emu = Emulator(ghes=args.ghes, latency=args.latency, host=args.host, port=args.port)
    if args.seed == "demo":
        seed_demo(emu)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emu:
        print(emu.api_url, flush=True)
        tokens = ", ".join(DEFAULT_TOKENS)
        print(
            f"uploads {emu.uploads_url}, storage {emu.storage_url}; token: {tokens}; "
            "Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
