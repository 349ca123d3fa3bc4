-- lint_releases.sql: releases of an owner that come near GitHub's limits, or hold assets
-- that will cause trouble. One row per finding:
--   near 1000 assets     a release with 900 or more assets (GitHub allows 1000)
--   over 1.8 GiB         an asset above 1.8 GiB (GitHub allows 2 GiB a file)
--   name GitHub rewrites an asset whose name GitHub would store differently if it were
--                        uploaded again, e.g. to a mirror (github_asset_name(name) is a
--                        guess: GitHub does not document its rule)
--   names differ by case two assets of a release whose names differ only in case: they
--                        overwrite each other when downloaded on macOS or Windows
--   broken upload        state <> 'uploaded': an upload that failed half-way
--   old draft            a draft created more than 30 days ago
--   listing cap          a repository whose release list GitHub would not page to its end
--                        ("Only the first 1000 results are available"): releases past the
--                        cap were not checked (sqlgh also says so on standard error)
--
-- Adapt it: change 'acme' to your organization or user (the demo has acme, globex,
-- initech). Cost: 1 request for the repository list, then 1 per repository (and 1 per 100
-- assets of a release of 100 or more).

WITH releases_of AS MATERIALIZED (
    SELECT rel.owner, rel.repo, rel.id AS release_id, rel.tag_name, rel.draft,
           rel.created_at, r.id AS repo_id
    FROM repositories AS r
    JOIN releases AS rel ON rel.owner = r.owner AND rel.repo = r.name
    WHERE r.owner = 'acme'
),
assets AS MATERIALIZED (
    SELECT a.owner, a.repo, a.release_id, a.id, a.name, a.size, a.state
    FROM releases_of AS rel
    JOIN release_assets AS a
      ON a.owner = rel.owner AND a.repo = rel.repo AND a.release_id = rel.release_id
),
findings AS (
    SELECT owner, repo, release_id, 'near 1000 assets' AS finding,
           count(*) || ' assets' AS subject, 'GitHub allows 1000 a release' AS detail
    FROM assets
    GROUP BY owner, repo, release_id
    HAVING count(*) >= 900
    UNION ALL
    SELECT owner, repo, release_id, 'over 1.8 GiB', name,
           printf('%.2f GiB; GitHub allows 2 GiB a file', size / 1073741824.0)
    FROM assets
    WHERE size > 1932735283  -- 1.8 GiB
    UNION ALL
    SELECT owner, repo, release_id, 'name GitHub rewrites', name,
           'would be stored as ' || github_asset_name(name)
    FROM assets
    WHERE github_asset_name(name) <> name
    UNION ALL
    SELECT owner, repo, release_id, 'names differ by case', group_concat(name, ', '),
           count(*) || ' assets named ' || lower(name) || ' apart from case'
    FROM assets
    GROUP BY owner, repo, release_id, lower(name)
    HAVING count(DISTINCT name) > 1
    UNION ALL
    SELECT owner, repo, release_id, 'broken upload', name, 'state ' || state
    FROM assets
    WHERE state <> 'uploaded'
    UNION ALL
    SELECT owner, repo, release_id, 'old draft', tag_name,
           'a draft since ' || substr(created_at, 1, 10)
    FROM releases_of
    WHERE draft AND created_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')
    UNION ALL
    SELECT DISTINCT rel.owner, rel.repo, NULL, 'listing cap', 'releases', q.path
    FROM releases_of AS rel
    JOIN sqlgh_requests AS q
      ON q.status = 422 AND (q.path LIKE '/repositories/' || rel.repo_id || '/releases?%'
                             OR q.path LIKE '/repos/' || rel.owner || '/' || rel.repo
                                            || '/releases?%')
)
SELECT f.owner, f.repo, rel.tag_name AS release, f.finding, f.subject, f.detail
FROM findings AS f
LEFT JOIN releases_of AS rel ON rel.release_id = f.release_id
ORDER BY f.owner, f.repo, f.finding, rel.tag_name, f.subject;
