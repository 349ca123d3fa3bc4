-- missing_checksums.sql: releases whose files cannot be verified.
-- A release is listed when some of its binaries have neither a digest from GitHub (GitHub
-- began reporting sha256 digests in 2025; older uploads have none) nor a line in one of
-- the release's checksum files (checksum_entries: SHA256SUMS, *checksums*.txt, *.sha256,
-- ...). Signatures (*.sig, *.asc) and the checksum files themselves are not counted as
-- binaries, nor broken uploads (stale_uploads.sql lists those).
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech).
-- Cost: 1 request per owner, then 1 per repository, then for each release with a
-- checksum file 1 (its asset list) and 2 per checksum file (downloading it).

WITH assets AS MATERIALIZED (
    SELECT a.owner, a.repo, a.release_id, a.name, a.digest, a.state
    FROM repositories AS r
    JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
    WHERE r.owner IN ('acme', 'globex', 'initech')
),
checked AS MATERIALIZED (  -- the files the releases' checksum files name
    SELECT c.owner, c.repo, c.release_id, c.asset_name
    FROM (SELECT DISTINCT owner, repo, release_id FROM assets WHERE is_checksum_file(name))
         AS d
    JOIN checksum_entries AS c
      ON c.owner = d.owner AND c.repo = d.repo AND c.release_id = d.release_id
)
SELECT owner,
       repo,
       release_id,
       count(*) AS binaries_without_digest
FROM assets AS a
WHERE a.digest IS NULL
  AND a.state = 'uploaded'  -- broken uploads: stale_uploads.sql
  AND NOT (lower(a.name) GLOB '*.sig' OR lower(a.name) GLOB '*.asc'
           OR is_checksum_file(a.name))
  AND NOT EXISTS (SELECT 1 FROM checked AS c
                  WHERE c.owner = a.owner AND c.repo = a.repo
                    AND c.release_id = a.release_id AND c.asset_name = a.name)
GROUP BY owner, repo, release_id
ORDER BY owner, repo, release_id;
