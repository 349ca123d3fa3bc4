-- inventory.sql: what every release of an organization holds.
-- One row per repository and release: how many assets, how many bytes, how many downloads,
-- newest release first within each repository.
--
-- Adapt it: change 'acme' to your organization or user (the demo has acme, globex and
-- initech). Cost: 1 request for the repository list, then 1 per repository for its
-- releases, whose embedded asset lists serve the join; only a release with 100 or more
-- assets costs 1 more request per 100 of them.
--
--   sqlgh --demo queries/inventory.sql
--   sqlgh --format csv queries/inventory.sql > inventory.csv

SELECT rel.repo                   AS repository,
       rel.tag_name               AS release,
       substr(rel.created_at, 1, 10) AS created,
       count(a.id)                AS assets,
       sum(a.size)                AS bytes,
       sum(a.download_count)      AS downloads
FROM repositories AS r
JOIN releases AS rel ON rel.owner = r.owner AND rel.repo = r.name
LEFT JOIN release_assets AS a
       ON a.owner = rel.owner AND a.repo = rel.repo AND a.release_id = rel.id
WHERE r.owner = 'acme'
GROUP BY rel.repo, rel.id
ORDER BY rel.repo, rel.created_at DESC;
