"""Demo history for ``sqlgh snapshot --demo``: 29 earlier days, made up, so that the trend
views and ``queries/downloads_last_30_days.sql`` have something to show at once.

The demo emulator's download counts do not move, so a month of daily snapshots of it
would be flat. With ``--demo``, each run of the snapshot also writes the 29 days before
its own, derived from the counts it took: every asset as if it gained between 1 and
``2 * rate - 1`` downloads a day (``rate``: about its count / 200), the same each run.
Days already in the table are kept. This is demo data, not GitHub's: only ``--demo`` adds it.
"""

from __future__ import annotations

DEMO_DAYS = 29

# f(k) = k * rate + w(k) - w(0), the downloads gained in the k days before the snapshot,
# with w(k) in [0, rate - 1]: a day adds rate plus a wobble in [-(rate - 1), rate - 1], so
# counts never go down.
DEMO_HISTORY = f"""\
WITH RECURSIVE ago(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ago WHERE k < {DEMO_DAYS}),
latest AS (SELECT *, max(1, download_count / 200) AS rate
           FROM asset_downloads
           WHERE taken_at = (SELECT max(taken_at) FROM asset_downloads))
INSERT OR IGNORE INTO asset_downloads(taken_at, owner, repo, release_id, tag_name,
                                      asset_id, name, download_count, size, digest)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', taken_at, printf('-%d days', k)), owner, repo,
       release_id, tag_name, asset_id, name,
       max(0, download_count - k * rate - abs(asset_id * 7 + k * 13) % rate
                                  + abs(asset_id * 7) % rate), size, digest
FROM latest CROSS JOIN ago;"""
