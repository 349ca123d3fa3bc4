-- verify_downloads.sql: checksum_audit.sql's "no digest" assets, checked by downloading.
-- An asset uploaded before 2025 has no digest from GitHub, so its checksum line cannot be
-- compared with one. This downloads each such asset that a sha256 line names and hashes
-- it as it streams (asset_sha256(): never held in memory nor written to disk), then says
-- whether the checksum file is right: one row per asset, verdict 'matches' or 'differs'.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech); add
-- AND a.repo = '...' to check one repository. Cost: as checksum_audit.sql, plus a
-- download of every asset without a digest that a sha256 line names (2 requests each,
-- and its bytes).

WITH assets AS MATERIALIZED (
    SELECT a.owner, a.repo, a.release_id, rel.tag_name, a.id, a.name, a.digest, a.state
    FROM repositories AS r
    JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
    JOIN releases AS rel ON rel.owner = a.owner AND rel.repo = a.repo AND rel.id = a.release_id
    WHERE r.owner IN ('acme', 'globex', 'initech')
),
unchecked AS MATERIALIZED (  -- assets without a digest, in releases with a checksum file
    SELECT a.*
    FROM assets AS a
    WHERE a.digest IS NULL AND a.state = 'uploaded'
      AND EXISTS (SELECT 1 FROM assets AS c
                  WHERE c.owner = a.owner AND c.repo = a.repo
                    AND c.release_id = a.release_id AND is_checksum_file(c.name))
),
lines AS MATERIALIZED (
    SELECT c.owner, c.repo, c.release_id, c.asset_name, c.expected, c.source_asset, c.line
    FROM (SELECT DISTINCT owner, repo, release_id FROM unchecked) AS d
    JOIN checksum_entries AS c
      ON c.owner = d.owner AND c.repo = d.repo AND c.release_id = d.release_id
    WHERE c.algorithm = 'sha256'
),
hashed AS MATERIALIZED (
    SELECT u.owner, u.repo, u.tag_name, u.name, l.expected, l.source_asset, l.line,
           asset_sha256(u.owner, u.repo, u.id) AS actual
    FROM unchecked AS u
    JOIN lines AS l
      ON l.owner = u.owner AND l.repo = u.repo AND l.release_id = u.release_id
     AND l.asset_name = u.name
)
SELECT owner, repo, tag_name AS release, name AS file,
       CASE WHEN actual = expected THEN 'matches' ELSE 'differs' END AS verdict,
       source_asset || ' line ' || line || ' gives ' || expected || '; the bytes hash to '
         || actual AS detail
FROM hashed
ORDER BY owner, repo, release, file;
