-- stale_drafts.sql: draft releases older than N days, which nobody published.
-- A draft is visible only to tokens with push access; it holds its assets but no tag of
-- its own (its download URLs say untagged-...). One row per draft: where it is, its id,
-- its tag, its age and how many assets it holds.
--
-- Adapt it: list your own owners in the IN (...) (the demo has acme, globex, initech) and
-- give the age in days with -p:
--
--   sqlgh --demo -p days=30 queries/stale_drafts.sql
--
-- To delete one (its assets go with it; the tag, if it exists in git, stays):
--   DELETE FROM releases WHERE owner = 'acme' AND repo = 'rocket' AND id = 123 AND draft = 1;
-- or every stale draft of a repository at once (1 request per 100 releases to find them,
-- then 1 DELETE each):
--   DELETE FROM releases WHERE owner = 'acme' AND repo = 'rocket' AND draft = 1
--     AND julianday(created_at) < julianday('now') - 30;
-- Cost: 1 request per owner, then 1 per 100 releases of each repository.

SELECT r.owner,
       r.repo,
       r.id,
       r.tag_name,
       r.name,
       r.created_at,
       CAST(julianday('now') - julianday(r.created_at) AS INTEGER) AS age_days,
       r.assets_count
FROM repositories AS repo
JOIN releases AS r ON r.owner = repo.owner AND r.repo = repo.name
WHERE repo.owner IN ('acme', 'globex', 'initech')
  AND r.draft = 1
  AND julianday(r.created_at) < julianday('now') - :days
ORDER BY r.created_at;
