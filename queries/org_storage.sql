-- org_storage.sql: how many bytes of release assets each repository of an organization
-- keeps, largest first. Repositories without releases are listed with 0.
--
-- Adapt it: change 'globex' to your organization or user (the demo has acme, globex,
-- initech). Cost: 1 request for the repository list, then 1 per repository.

SELECT r.name AS repository,
       r.visibility,
       r.archived,
       count(DISTINCT a.release_id) AS releases,
       count(a.id) AS assets,
       coalesce(sum(a.size), 0) AS bytes,
       round(coalesce(sum(a.size), 0) / 1073741824.0, 2) AS gib
FROM repositories AS r
LEFT JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner = 'globex'
GROUP BY r.name
ORDER BY bytes DESC, r.name;
