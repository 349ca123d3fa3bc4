"""Inventory of the demo organizations' release assets, on the embedded emulator.

``python -m sqlgh.examples.inventory`` needs no token and no network: it starts the
emulator, seeds it with the demo data and prints bytes and downloads per repository.
"""

from __future__ import annotations

import sqlgh
from sqlgh.emulator import Emulator
from sqlgh.emulator.demo import seed_demo

INVENTORY = """
SELECT r.owner, r.name AS repository, count(a.id) AS assets,
       sum(a.size) AS bytes, sum(a.download_count) AS downloads
FROM repositories r
JOIN release_assets a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner IN ('acme', 'globex', 'initech')
GROUP BY 1, 2
ORDER BY bytes DESC
"""


def main() -> None:
    """Start the emulator, seed it, and print the inventory report."""
    with Emulator() as emulator:
        seed_demo(emulator)
        db = sqlgh.connect(api_url=emulator.api_url, token="test-token")
        print(f"{'owner':<10} {'repository':<24} {'assets':>6} {'bytes':>14} {'downloads':>10}")
        for owner, repository, assets, size, downloads in db.execute(INVENTORY):
            print(f"{owner:<10} {repository:<24} {assets:>6} {size or 0:>14} {downloads or 0:>10}")


if __name__ == "__main__":
    main()
