-- largest_assets.sql: the ten biggest files attached to the releases of some organizations.
-- Where does the storage go? One row per asset: repository, release id, name, size in
-- bytes and MiB, content type.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech);
-- change LIMIT for more rows. Cost: 1 request per owner for its repositories, then 1 per
-- repository for its releases (their assets come embedded).

SELECT a.owner,
       a.repo,
       a.release_id,
       a.name,
       a.size,
       round(a.size / 1048576.0, 1) AS mib,
       a.content_type
FROM repositories AS r
JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner IN ('acme', 'globex', 'initech')
ORDER BY a.size DESC
LIMIT 10;
