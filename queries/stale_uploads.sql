-- stale_uploads.sql: assets whose upload never finished.
-- GitHub keeps an empty asset in state 'starter' when an upload breaks off (e.g. after a
-- 502); it blocks re-uploading the same name. One row per such asset: where it is, its id
-- (to delete it) and when it was created. queries/prune_stale_uploads.sql deletes them.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech).
-- Cost: 1 request per owner, then 1 per repository.

SELECT a.owner,
       a.repo,
       a.release_id,
       a.id,
       a.name,
       a.state,
       a.size,
       a.created_at
FROM repositories AS r
JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner IN ('acme', 'globex', 'initech')
  AND a.state <> 'uploaded'
ORDER BY a.owner, a.repo, a.id;
