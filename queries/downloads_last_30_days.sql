-- downloads_last_30_days.sql: each release's downloads over the last 30 days, as a picture.
-- Reads the local table asset_downloads that `sqlgh snapshot` (or snapshot.sql) fills
-- (docs/history.md), not GitHub: run it on that database file. One row per release: a
-- sparkline of its daily downloads (one character a day, oldest first, blank where no
-- snapshot tells), then its downloads in the period, last, so that
-- `sqlgh --format chart DATABASE queries/downloads_last_30_days.sql` draws them as bars.
-- A day's downloads are download_trend's deltas: a replaced asset's count starts afresh.
--
-- Adapt it: change 30 (twice) to another number of days; add WHERE owner = '...' to
-- look at one owner. Cost: no requests.

WITH RECURSIVE days(day) AS (
    SELECT date('now', '-29 days')
    UNION ALL
    SELECT date(day, '+1 day') FROM days WHERE day < date('now')
),
daily AS (
    SELECT owner, repo, tag_name, day, sum(delta) AS downloads
    FROM download_trend
    WHERE day >= date('now', '-29 days') AND delta IS NOT NULL
    GROUP BY owner, repo, tag_name, day
),
releases AS (
    SELECT owner, repo, tag_name, max(downloads) AS busiest, sum(downloads) AS total
    FROM daily
    GROUP BY owner, repo, tag_name
)
SELECT r.owner,
       r.repo,
       r.tag_name AS release,
       (SELECT group_concat(
                   CASE WHEN d.downloads IS NULL THEN ' '
                        ELSE substr('▁▂▃▄▅▆▇█', 1 + 7 * d.downloads / max(r.busiest, 1), 1)
                   END, '' ORDER BY days.day)
        FROM days
        LEFT JOIN daily AS d
          ON d.owner = r.owner AND d.repo = r.repo AND d.tag_name IS r.tag_name
         AND d.day = days.day) AS last_30_days,
       r.total AS downloads
FROM releases AS r
ORDER BY r.total DESC, r.owner, r.repo, r.tag_name;
