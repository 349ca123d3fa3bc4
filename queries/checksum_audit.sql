-- checksum_audit.sql: release assets that do not agree with their release's checksum files.
-- For each release with a checksum file (SHA256SUMS, *checksums*.txt, *.sha256, *.sha512:
-- is_checksum_file(name)),
-- one row per problem:
--   digest differs      GitHub's sha256 digest of the asset is not the one the file gives
--   not in checksums    an asset (not a checksum file or signature) that no line names
--   not attached        a line names a file the release does not hold
--   no digest           an asset GitHub gave no digest (uploaded before 2025): the file's
--                       line cannot be checked against GitHub; verify_downloads.sql
--                       downloads and hashes such assets
-- An empty result means every asset of those releases matches its published checksum.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech).
-- Cost: 1 request per owner, then 1 per repository, 1 per release with a checksum file
-- (its asset list) and 2 per checksum file (the API's redirect and the download from
-- object storage).

WITH assets AS MATERIALIZED (
    SELECT a.owner, a.repo, a.release_id, rel.tag_name, a.id, a.name, a.digest, a.state
    FROM repositories AS r
    JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
    JOIN releases AS rel ON rel.owner = a.owner AND rel.repo = a.repo AND rel.id = a.release_id
    WHERE r.owner IN ('acme', 'globex', 'initech')
),
audited AS MATERIALIZED (  -- the releases that publish checksums
    SELECT DISTINCT owner, repo, release_id, tag_name
    FROM assets
    WHERE is_checksum_file(name)
),
entries AS MATERIALIZED (
    SELECT c.owner, c.repo, c.release_id, c.file, c.asset_name, c.algorithm, c.expected,
           c.source_asset, c.line
    FROM audited AS d
    JOIN checksum_entries AS c
      ON c.owner = d.owner AND c.repo = d.repo AND c.release_id = d.release_id
),
published AS (  -- the assets of audited releases a checksum file should name
    SELECT a.*
    FROM assets AS a
    JOIN audited AS d USING (owner, repo, release_id)
    WHERE a.state = 'uploaded'
      AND a.name NOT IN (SELECT source_asset FROM entries AS e
                         WHERE e.owner = a.owner AND e.repo = a.repo
                           AND e.release_id = a.release_id)
      AND NOT (lower(a.name) GLOB '*.sig' OR lower(a.name) GLOB '*.asc'
               OR lower(a.name) GLOB '*.pem' OR lower(a.name) GLOB '*.sbom.json'
               OR is_checksum_file(a.name))
),
problems AS (
    SELECT a.owner, a.repo, a.release_id, 'digest differs' AS problem, a.name AS file,
           e.source_asset || ' line ' || e.line || ' gives ' || e.expected
             || '; GitHub has ' || a.digest AS detail
    FROM published AS a
    JOIN entries AS e USING (owner, repo, release_id)
    WHERE e.asset_name = a.name AND e.algorithm = 'sha256' AND a.digest IS NOT NULL
      AND a.digest <> 'sha256:' || e.expected
    UNION ALL
    SELECT a.owner, a.repo, a.release_id, 'not in checksums', a.name,
           'no line of ' || (SELECT group_concat(DISTINCT source_asset) FROM entries AS e
                             WHERE e.owner = a.owner AND e.repo = a.repo
                               AND e.release_id = a.release_id) || ' names it'
    FROM published AS a
    WHERE NOT EXISTS (SELECT 1 FROM entries AS e
                      WHERE e.owner = a.owner AND e.repo = a.repo
                        AND e.release_id = a.release_id AND e.asset_name = a.name)
    UNION ALL
    SELECT e.owner, e.repo, e.release_id, 'not attached', e.file,
           e.source_asset || ' line ' || e.line || ' names a file the release does not hold'
    FROM entries AS e
    WHERE NOT EXISTS (SELECT 1 FROM assets AS a
                      WHERE a.owner = e.owner AND a.repo = e.repo
                        AND a.release_id = e.release_id AND a.name = e.asset_name)
    UNION ALL
    SELECT a.owner, a.repo, a.release_id, 'no digest', a.name,
           'GitHub has no digest to compare with ' || e.source_asset || ' line ' || e.line
    FROM published AS a
    JOIN entries AS e USING (owner, repo, release_id)
    WHERE e.asset_name = a.name AND a.digest IS NULL
)
SELECT p.owner, p.repo, d.tag_name AS release, p.problem, p.file, p.detail
FROM problems AS p
JOIN audited AS d USING (owner, repo, release_id)
ORDER BY p.owner, p.repo, d.tag_name, p.problem, p.file;
