-- upload_dist.sql: attach the files of a local dist/ directory to a repository's latest
-- release, replacing assets of the same name, then list the release's assets.
-- INSERT OR REPLACE uploads each file under a temporary name, renames the old asset
-- aside, renames the new one into place and deletes the old one, so the name is never
-- missing for long and a failure never loses the old file. Files are streamed from disk.
-- Needs a token with "Contents: write" (GH_TOKEN).
--
-- Adapt it: run it from the directory holding dist/; change 'acme' and 'rocket' (both
-- places) and the file list. Use INSERT OR IGNORE to keep assets that exist, plain INSERT
-- to fail on them. Cost: 1 request for the release (read twice: the second time,
-- before the first upload, to check all rows at once; a conditional request, free when
-- the cache answers 304), 1 to list its assets, 1 upload per file (plus 3 for each
-- replaced one: 2 renames and a DELETE).
--
--   mkdir -p dist && echo demo > dist/rocket-freebsd-amd64.tar.gz && sha256sum dist/* > dist/SHA256SUMS
--   sqlgh --demo queries/upload_dist.sql

WITH files(path, label) AS (
    VALUES ('dist/rocket-freebsd-amd64.tar.gz', 'FreeBSD (x86-64)'),
           ('dist/SHA256SUMS', 'Checksums')
)
INSERT OR REPLACE INTO release_assets (owner, repo, release_id, path, label)
SELECT rel.owner, rel.repo, rel.id, files.path, files.label
FROM latest_releases AS rel, files
WHERE rel.owner = 'acme' AND rel.repo = 'rocket';

SELECT a.name, a.label, a.size, a.state, a.content_type
FROM latest_releases AS rel
JOIN release_assets AS a ON a.owner = rel.owner AND a.repo = rel.repo AND a.release_id = rel.id
WHERE rel.owner = 'acme' AND rel.repo = 'rocket'
ORDER BY a.name;
