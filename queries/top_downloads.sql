-- top_downloads.sql: the ten most downloaded assets of some organizations.
-- Which builds do people actually fetch? One row per asset, with its downloads and the
-- date it was uploaded.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech);
-- add e.g. AND a.name LIKE '%linux%' to look at one platform. See it as a bar chart:
-- sqlgh --format chart queries/top_downloads.sql. Cost: 1 request per owner,
-- then 1 per repository.

SELECT a.owner,
       a.repo,
       a.name,
       substr(a.created_at, 1, 10) AS uploaded,
       a.download_count AS downloads  -- last: sqlgh --format chart draws it as bars
FROM repositories AS r
JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner IN ('acme', 'globex', 'initech')
ORDER BY a.download_count DESC, a.id
LIMIT 10;
