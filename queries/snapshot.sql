-- snapshot.sql: append today's download counts of some owners' assets to asset_downloads.
-- The same job as `sqlgh snapshot DATABASE --owner OWNER`: run it on a database file
-- (sqlgh history.db queries/snapshot.sql), from cron or a scheduled CI job, as often as you
-- like: a second run on the same UTC day replaces that day's rows with the later counts.
-- The views download_trend and downloads_by_platform read the table (docs/history.md).
--
-- Adapt it: change 'acme' to your organization or user, or add an INSERT per owner; add
-- AND a.repo IN ('...') for some repositories only. Cost: 1 request for the repository
-- list, then 1 per repository; with the conditional-request cache (on by default), 0
-- rate-limit units when nothing changed since the last run.

CREATE TABLE IF NOT EXISTS asset_downloads(
    taken_at TEXT NOT NULL,       -- ISO-8601 UTC time of the snapshot
    owner TEXT NOT NULL,
    repo TEXT NOT NULL,
    release_id INTEGER NOT NULL,
    tag_name TEXT,
    asset_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    download_count INTEGER NOT NULL,
    size INTEGER,
    digest TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS asset_downloads_daily
    ON asset_downloads(asset_id, substr(taken_at, 1, 10));

CREATE VIEW IF NOT EXISTS download_trend AS
SELECT owner, repo, release_id, tag_name, name, asset_id,
       substr(taken_at, 1, 10) AS day,
       download_count,
       CASE WHEN previous_count IS NOT NULL AND download_count >= previous_count
                THEN download_count - previous_count
            WHEN previous_count IS NOT NULL OR previous_by_name IS NOT NULL
                THEN download_count END AS delta,
       coalesce(download_count < previous_count,
                previous_by_name IS NOT NULL AND previous_count IS NULL, 0) AS reset
FROM (SELECT *,
             lag(download_count) OVER asset AS previous_count,
             lag(download_count) OVER file AS previous_by_name
      FROM asset_downloads
      WINDOW asset AS (PARTITION BY asset_id ORDER BY taken_at),
             file AS (PARTITION BY owner, repo, release_id, name ORDER BY taken_at));

CREATE VIEW IF NOT EXISTS downloads_by_platform AS
SELECT day, os, arch, packaging, sum(delta) AS downloads
FROM (SELECT day, delta, lower(name) AS n,
             CASE WHEN lower(name) GLOB '*freebsd*' THEN 'freebsd'
                  WHEN lower(name) GLOB '*linux*' OR lower(name) GLOB '*.deb'
                       OR lower(name) GLOB '*.rpm' OR lower(name) GLOB '*.appimage' THEN 'linux'
                  WHEN lower(name) GLOB '*darwin*' OR lower(name) GLOB '*macos*'
                       OR lower(name) GLOB '*osx*' OR lower(name) GLOB '*.dmg' THEN 'darwin'
                  WHEN lower(name) GLOB '*windows*' OR lower(name) GLOB '*win64*'
                       OR lower(name) GLOB '*win32*' OR lower(name) GLOB '*.msi'
                       OR lower(name) GLOB '*.exe' THEN 'windows'
                  ELSE 'other' END AS os,
             CASE WHEN lower(name) GLOB '*arm64*' OR lower(name) GLOB '*aarch64*' THEN 'arm64'
                  WHEN lower(name) GLOB '*amd64*' OR lower(name) GLOB '*x86_64*'
                       OR lower(name) GLOB '*x86-64*' OR lower(name) GLOB '*x64*' THEN 'amd64'
                  ELSE 'other' END AS arch,
             CASE WHEN lower(name) GLOB '*.tar.gz' OR lower(name) GLOB '*.tgz' THEN 'tar.gz'
                  WHEN lower(name) GLOB '*.zip' THEN 'zip'
                  WHEN lower(name) GLOB '*.deb' THEN 'deb'
                  WHEN lower(name) GLOB '*.rpm' THEN 'rpm'
                  WHEN lower(name) GLOB '*.msi' THEN 'msi'
                  WHEN lower(name) GLOB '*.dmg' THEN 'dmg'
                  ELSE 'other' END AS packaging
      FROM download_trend
      WHERE delta IS NOT NULL)
GROUP BY day, os, arch, packaging;

-- The counts go to a TEMP table first (no lock on the database while the requests run),
-- then into asset_downloads in one short transaction, all with one taken_at; another
-- writer of the database (an overlapping run) is waited for up to a minute.
.timeout 60000
DROP TABLE IF EXISTS temp.snapshot_counts;
CREATE TEMP TABLE snapshot_counts(owner, repo, release_id, tag_name, asset_id, name,
                                  download_count, size, digest);

INSERT INTO temp.snapshot_counts
SELECT a.owner, a.repo, a.release_id, r.tag_name, a.id, a.name, a.download_count, a.size,
       a.digest
FROM release_assets AS a
JOIN releases AS r ON r.owner = a.owner AND r.repo = a.repo AND r.id = a.release_id
WHERE a.owner = 'acme';

BEGIN IMMEDIATE;
INSERT OR REPLACE INTO asset_downloads(taken_at, owner, repo, release_id, tag_name,
                                       asset_id, name, download_count, size, digest)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), owner, repo, release_id, tag_name,
       asset_id, name, download_count, size, digest
FROM temp.snapshot_counts;
COMMIT;
DROP TABLE temp.snapshot_counts;
