-- prune_stale_uploads.sql: delete the assets whose upload never finished (state 'starter'
-- and any other state than 'uploaded'), after listing them.
-- A broken upload leaves an empty asset that blocks re-uploading the same name; deleting
-- it is safe (it holds no bytes). Needs a token with "Contents: write" (GH_TOKEN).
--
-- Adapt it: one DELETE per owner (the demo has acme, globex, initech): a DELETE needs
-- owner and repo, and `repo IN (SELECT name FROM repositories WHERE owner = ...)` gives it
-- every repository of that one owner; keep the owners of the listing in step. Cost: the reads of stale_uploads.sql, plus 1 DELETE per asset (spaced a second
-- apart, as GitHub asks; --demo does not wait).

.print Deleting these unfinished uploads:
SELECT a.owner, a.repo, a.release_id, a.id, a.name, a.state, a.created_at
FROM repositories AS r
JOIN release_assets AS a ON a.owner = r.owner AND a.repo = r.name
WHERE r.owner IN ('acme', 'globex', 'initech')
  AND a.state <> 'uploaded'
ORDER BY a.owner, a.repo, a.id;

DELETE FROM release_assets
WHERE owner = 'acme'
  AND repo IN (SELECT name FROM repositories WHERE owner = 'acme')
  AND state <> 'uploaded';

DELETE FROM release_assets
WHERE owner = 'globex'
  AND repo IN (SELECT name FROM repositories WHERE owner = 'globex')
  AND state <> 'uploaded';

DELETE FROM release_assets
WHERE owner = 'initech'
  AND repo IN (SELECT name FROM repositories WHERE owner = 'initech')
  AND state <> 'uploaded';

SELECT count(*) AS deleted FROM sqlgh_requests WHERE method = 'DELETE' AND status = 204;
