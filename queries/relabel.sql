-- relabel.sql: give the archives of a repository's latest release readable labels.
-- GitHub shows an asset's label instead of its file name on the release page; this sets
-- "Linux (x86-64)", "macOS (Apple silicon)", ... from the platform in each file name, then
-- shows the result. Only the label changes: names, bytes and download counts stay.
-- Needs a token with "Contents: write" (GH_TOKEN).
--
-- Adapt it: change 'acme' and 'rocket' (both places) to your repository; add WHEN lines
-- for your platform names. Use SET name = ... the same way to rename assets.
-- Cost: 1 request for the latest release, 1 for its assets, 1 PATCH per archive.

UPDATE release_assets
SET label = CASE
        WHEN name LIKE '%-linux-amd64.%'   THEN 'Linux (x86-64)'
        WHEN name LIKE '%-linux-arm64.%'   THEN 'Linux (ARM64)'
        WHEN name LIKE '%-darwin-amd64.%'  THEN 'macOS (Intel)'
        WHEN name LIKE '%-darwin-arm64.%'  THEN 'macOS (Apple silicon)'
        WHEN name LIKE '%-windows-amd64.%' THEN 'Windows (x86-64)'
    END
WHERE owner = 'acme'
  AND repo = 'rocket'
  AND release_id = (SELECT id FROM latest_releases WHERE owner = 'acme' AND repo = 'rocket')
  AND (name LIKE '%.tar.gz' OR name LIKE '%.zip');

SELECT a.name, a.label
FROM latest_releases AS rel
JOIN release_assets AS a ON a.owner = rel.owner AND a.repo = rel.repo AND a.release_id = rel.id
WHERE rel.owner = 'acme' AND rel.repo = 'rocket'
ORDER BY a.name;
