-- missing_checksums.sql: releases whose files cannot be verified.
-- A release is listed when it has no checksum file (checksums.txt, SHA256SUMS, *.sha256,
-- ...) and some of its binaries have no digest from GitHub either (GitHub began reporting
-- sha256 digests in 2025; older uploads have none). Signatures (*.sig, *.asc) are not
-- counted as binaries.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech);
-- extend the checksum patterns to your naming. Cost: 1 request per owner, then 1 per
-- repository.

WITH files AS (
    SELECT a.owner, a.repo, a.release_id, a.name, a.digest,
           lower(a.name) GLOB '*checksum*'
             OR lower(a.name) GLOB '*sha256sum*'
             OR lower(a.name) GLOB '*.sha256'
             OR lower(a.name) GLOB '*sha512sum*'         AS is_checksum,
           lower(a.name) GLOB '*.sig' OR lower(a.name) GLOB '*.asc' AS is_signature
    FROM repositories AS r
    JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
    WHERE r.owner IN ('acme', 'globex', 'initech')
)
SELECT owner,
       repo,
       release_id,
       count(*) AS binaries_without_digest
FROM files
WHERE NOT is_signature
GROUP BY owner, repo, release_id
HAVING sum(is_checksum) = 0
   AND sum(digest IS NULL AND NOT is_checksum) > 0
ORDER BY owner, repo, release_id;
