-- prune_stale_uploads.sql: delete the assets whose upload never finished (state 'starter'
-- and any other state than 'uploaded'), after listing them.
-- A broken upload leaves an empty asset that blocks re-uploading the same name; deleting
-- it is safe (it holds no bytes). Needs a token with "Contents: write" (GH_TOKEN).
-- Archived repositories are left out: GitHub refuses writes to them (403 "Repository was
-- archived so is read-only."); unarchive one first to prune it.
--
-- Adapt it: change the owners (the demo has acme, globex, initech) in the listing and in
-- the DELETE alike; with only owner given, a DELETE covers every repository of each owner.
-- Cost: the reads of stale_uploads.sql, plus 1 DELETE per asset (spaced a second apart,
-- as GitHub asks; --demo does not wait).

.print Deleting these unfinished uploads:
SELECT a.owner, a.repo, a.release_id, a.id, a.name, a.state, a.created_at
FROM repositories AS r
JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner IN ('acme', 'globex', 'initech')
  AND r.archived = 0
  AND a.state <> 'uploaded'
ORDER BY a.owner, a.repo, a.id;

DELETE FROM release_assets
WHERE owner IN ('acme', 'globex', 'initech')
  AND state <> 'uploaded'
  AND repo IN (SELECT name FROM repositories WHERE owner = release_assets.owner AND archived = 0);

SELECT count(*) AS deleted FROM sqlgh_requests WHERE method = 'DELETE' AND status = 204;
