-- publish_release.sql: ship a release the safe way: create a draft, upload the files,
-- verify every asset against the local file, and only then publish.
-- With immutable releases (GitHub, October 2025) a published release can no longer take,
-- change or lose an asset, so nothing is published until every file is there and checked:
-- a missing asset, one in another state than 'uploaded', one GitHub gave no digest, or
-- one whose size or sha256 differs from the local file stops the script (exit status 1,
-- naming the file) and the release stays a draft (fix it, or DELETE FROM releases
-- WHERE ... AND draft = 1).
-- Needs a token with "Contents: write" (GH_TOKEN).
--
-- Adapt it: change 'acme', 'rocket' and 'v9.0.0' (every place) and the notes; give the
-- files as a JSON array with -p (paths relative to where sqlgh runs):
--
--   mkdir -p dist && echo a > dist/rocket-linux.tar.gz && echo b > dist/rocket-macos.zip
--   sqlgh --demo -p files='["dist/rocket-linux.tar.gz", "dist/rocket-macos.zip"]' \
--         queries/publish_release.sql
--
-- An empty list (or none) stops the script before anything is created.
--
-- Cost for N files: 1 POST (the draft), N uploads, 1 request to list the draft's assets
-- for the check, 1 PATCH to publish: N + 3 requests (13 for 10 files). See
-- docs/releases.md for what each step costs and how it compares with gh.

-- 0. The files given: at least one (an empty list would publish an empty release, and
--    an immutable one can never take an asset afterwards). The trigger turns the first
--    problem, here or in step 3, into an error.
CREATE TEMP TABLE problems(
    file TEXT, problem TEXT, outcome TEXT DEFAULT 'the release was left a draft'
);
CREATE TEMP TRIGGER stop_on_problem AFTER INSERT ON problems
BEGIN
    SELECT RAISE(ABORT, 'publish_release.sql: ' || NEW.file || ': ' || NEW.problem
                        || '; ' || NEW.outcome);
END;
INSERT INTO problems(file, problem, outcome)
SELECT 'files', 'no file given (-p files=''["dist/a.tar.gz", ...]'')', 'nothing was created'
WHERE coalesce(json_array_length(:files), 0) = 0;

-- 1. The draft. last_insert_rowid() is its id; kept in a temporary table because every
--    upload below changes last_insert_rowid().
INSERT INTO releases(owner, repo, tag_name, name, body, draft)
VALUES ('acme', 'rocket', 'v9.0.0', 'rocket v9.0.0', 'Release notes for v9.0.0.', 1);
CREATE TEMP TABLE draft AS SELECT last_insert_rowid() AS id;

-- 2. The files, streamed from disk (no request to find the draft: its id is known).
INSERT INTO release_assets(owner, repo, release_id, path)
SELECT 'acme', 'rocket', d.id, f.value
FROM draft AS d, json_each(:files) AS f;

-- 3. The check. The draft's assets are read once (1 request); each local file must
--    match an uploaded one by size and sha256 (GitHub's digest), whatever name GitHub
--    stored it under, and no asset may be left in another state or without a digest
--    (step 0's trigger stops at the first problem).
CREATE TEMP TABLE uploaded AS
SELECT a.id, a.name, a.state, a.size, a.digest
FROM draft AS d
JOIN release_assets AS a ON a.owner = 'acme' AND a.repo = 'rocket' AND a.release_id = d.id;

INSERT INTO problems(file, problem)
SELECT name, 'GitHub gave asset ' || id || ' no digest, so it cannot be checked against '
             || 'the local file (download it and compare sha256() by hand)'
FROM uploaded
WHERE digest IS NULL
UNION ALL
SELECT f.value,
       'no uploaded asset of the draft has its size (' || filesize(f.value)
       || ') and digest (' || sha256(f.value) || ')'
FROM json_each(:files) AS f
WHERE NOT EXISTS (
    SELECT 1 FROM uploaded AS u
    WHERE u.state = 'uploaded' AND u.size = filesize(f.value) AND u.digest = sha256(f.value)
)
UNION ALL
SELECT name, 'asset ' || id || ' is in state ' || quote(state)
FROM uploaded
WHERE state IS NOT 'uploaded';

-- 4. Publish: one PATCH (by id, so no read first).
UPDATE releases SET draft = 0
WHERE owner = 'acme' AND repo = 'rocket' AND id = (SELECT id FROM draft);
