"""A seeded emulator in its own process, for benchmarks that time only the client.

``python bench/serve.py --latency 0.05 --shape org`` prints the API URL, then answers
commands on standard input, one a line: ``count`` prints how many requests the emulator
has served since the last ``count`` (from its own request log); ``quit`` stops it.
(The emulator's ``python -m sqlgh.emulator`` seeds only demo data and has no way to read
its log from another process, hence this helper.)
"""

from __future__ import annotations

import argparse
import sys

from sqlgh.emulator import Emulator

TOKEN = "test-token"
ORG = "bench"
SHAPES = {
    # repositories x releases x assets
    "org": (8, 6, 40),
    "org200": (200, 20, 30),  # 120,000 assets
    "org67": (67, 20, 30),  # 40,200 assets
    "big": (1, 1, 5000),
    "big-cut": (1, 1, 5000),
}
# How many assets a release list embeds per release (None: all). "big-cut" stands for a
# GitHub that cuts embedded arrays short: sqlgh's count then differs and it pages.
EMBEDDED_CAP = {"big-cut": 100}


def seed(emu: Emulator, shape: str) -> None:
    """Create the organization ``bench`` with the shape's repositories, releases, assets."""
    repos, releases, assets = SHAPES[shape]
    emu.add_org(ORG)
    for r in range(repos):
        repo = f"repo{r}"
        emu.add_repo(ORG, repo)
        for k in range(releases):
            release = emu.add_release(ORG, repo, f"v1.{k}.0")
            for a in range(assets):
                emu.add_asset(ORG, repo, release["id"], f"tool-{k}-{a}.tar.gz", size=1000 + a)


def main() -> int:
    """Serve until ``quit`` or end of input."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="org")
    args = parser.parse_args()
    # A run at 200 repositories sends tens of thousands of requests: far past GitHub's
    # 5,000 an hour, which is not what is measured here.
    with Emulator(
        latency=args.latency,
        embedded_assets_cap=EMBEDDED_CAP.get(args.shape),
        rate_limit=10**9,
    ) as emu:
        seed(emu, args.shape)
        print(emu.api_url, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                served = len(emu.log)
                emu.clear_log()
                print(served, flush=True)
            elif command == "quit":
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
