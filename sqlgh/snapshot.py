"""``sqlgh snapshot``: append today's download counts of an owner's assets to a local table.

GitHub keeps only lifetime totals, and a replaced asset starts again from 0; a daily
snapshot in the user's own database keeps the history. The table ``asset_downloads`` is a
real SQLite table in DATABASE (not a virtual table), holding at most one row per asset and
UTC day: a second run on the same day replaces the first run's row with the later count.
Two views read it: ``download_trend`` and ``downloads_by_platform`` (docs/history.md).
``queries/snapshot.sql`` is the same job as a script; its statements are these.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import platformdirs

from sqlgh.cli import UsageError, parse_arguments, run

TABLE = """\
CREATE TABLE IF NOT EXISTS asset_downloads(
    taken_at TEXT NOT NULL,       -- ISO-8601 UTC time of the snapshot
    owner TEXT NOT NULL,
    repo TEXT NOT NULL,
    release_id INTEGER NOT NULL,
    tag_name TEXT,
    asset_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    download_count INTEGER NOT NULL,
    size INTEGER,
    digest TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS asset_downloads_daily
    ON asset_downloads(asset_id, substr(taken_at, 1, 10));"""

# A series is one asset, whatever its name (GitHub lets an asset be renamed: PATCH name),
# continued by an asset that replaces it (a new id under the same name in the release).
# A reset is a new id or a lower count than the day before; the delta of a reset day is
# the count itself (what the new asset gathered since it was uploaded).
TREND_VIEW = """\
CREATE VIEW IF NOT EXISTS download_trend AS
SELECT owner, repo, release_id, tag_name, name, asset_id,
       substr(taken_at, 1, 10) AS day,
       download_count,
       CASE WHEN previous_count IS NOT NULL AND download_count >= previous_count
                THEN download_count - previous_count
            WHEN previous_count IS NOT NULL OR previous_by_name IS NOT NULL
                THEN download_count END AS delta,
       coalesce(download_count < previous_count,
                previous_by_name IS NOT NULL AND previous_count IS NULL, 0) AS reset
FROM (SELECT *,
             lag(download_count) OVER asset AS previous_count,
             lag(download_count) OVER file AS previous_by_name
      FROM asset_downloads
      WINDOW asset AS (PARTITION BY asset_id ORDER BY taken_at),
             file AS (PARTITION BY owner, repo, release_id, name ORDER BY taken_at));"""

# A heuristic over file names (docs/history.md): the first match wins; "other" when none.
PLATFORM_VIEW = """\
CREATE VIEW IF NOT EXISTS downloads_by_platform AS
SELECT day, os, arch, packaging, sum(delta) AS downloads
FROM (SELECT day, delta, lower(name) AS n,
             CASE WHEN lower(name) GLOB '*freebsd*' THEN 'freebsd'
                  WHEN lower(name) GLOB '*linux*' OR lower(name) GLOB '*.deb'
                       OR lower(name) GLOB '*.rpm' OR lower(name) GLOB '*.appimage' THEN 'linux'
                  WHEN lower(name) GLOB '*darwin*' OR lower(name) GLOB '*macos*'
                       OR lower(name) GLOB '*osx*' OR lower(name) GLOB '*.dmg' THEN 'darwin'
                  WHEN lower(name) GLOB '*windows*' OR lower(name) GLOB '*win64*'
                       OR lower(name) GLOB '*win32*' OR lower(name) GLOB '*.msi'
                       OR lower(name) GLOB '*.exe' THEN 'windows'
                  ELSE 'other' END AS os,
             CASE WHEN lower(name) GLOB '*arm64*' OR lower(name) GLOB '*aarch64*' THEN 'arm64'
                  WHEN lower(name) GLOB '*amd64*' OR lower(name) GLOB '*x86_64*'
                       OR lower(name) GLOB '*x86-64*' OR lower(name) GLOB '*x64*' THEN 'amd64'
                  ELSE 'other' END AS arch,
             CASE WHEN lower(name) GLOB '*.tar.gz' OR lower(name) GLOB '*.tgz' THEN 'tar.gz'
                  WHEN lower(name) GLOB '*.zip' THEN 'zip'
                  WHEN lower(name) GLOB '*.deb' THEN 'deb'
                  WHEN lower(name) GLOB '*.rpm' THEN 'rpm'
                  WHEN lower(name) GLOB '*.msi' THEN 'msi'
                  WHEN lower(name) GLOB '*.dmg' THEN 'dmg'
                  ELSE 'other' END AS packaging
      FROM download_trend
      WHERE delta IS NOT NULL)
GROUP BY day, os, arch, packaging;"""

SCHEMA = (TABLE, TREND_VIEW, PLATFORM_VIEW)

# The counts are read into a TEMP table first, with no lock on DATABASE: the requests can
# take minutes, and a write to DATABASE (another snapshot, a cron job overlapping this one)
# would meanwhile fail with "database is locked". They are then stored in one short
# transaction, all with one taken_at (one statement's 'now'), however many owners; the
# command waits up to a minute (BUSY_TIMEOUT) for another writer to finish its own.
BUSY_TIMEOUT = ".timeout 60000"
# The release's tag comes from a join the statement's release listing answers (no request).
STAGE = """\
DROP TABLE IF EXISTS temp.snapshot_counts;
CREATE TEMP TABLE snapshot_counts(owner, repo, release_id, tag_name, asset_id, name,
                                  download_count, size, digest);"""

INSERT = """\
INSERT INTO temp.snapshot_counts
SELECT a.owner, a.repo, a.release_id, r.tag_name, a.id, a.name, a.download_count, a.size,
       a.digest
FROM release_assets AS a
JOIN releases AS r ON r.owner = a.owner AND r.repo = a.repo AND r.id = a.release_id
WHERE {where};"""

STORE = """\
BEGIN IMMEDIATE;
INSERT OR REPLACE INTO asset_downloads(taken_at, owner, repo, release_id, tag_name,
                                       asset_id, name, download_count, size, digest)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), owner, repo, release_id, tag_name,
       asset_id, name, download_count, size, digest
FROM temp.snapshot_counts;
COMMIT;
DROP TABLE temp.snapshot_counts;"""

SUMMARY = """\
SELECT owner, count(DISTINCT repo) AS repositories, count(*) AS assets,
       sum(download_count) AS downloads, taken_at
FROM asset_downloads
WHERE taken_at = (SELECT max(taken_at) FROM asset_downloads)
GROUP BY owner ORDER BY owner;"""

DATABASE_NAME = "downloads.db"
USAGE = "sqlgh snapshot [DATABASE] --owner OWNER [--repo REPO ...] [sqlgh options]"


def sql_text(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def insert_statement(owner: str, repos: Sequence[str] = ()) -> str:
    """The INSERT that snapshots ``owner``'s assets (only ``repos``, when given)."""
    where = f"a.owner = {sql_text(owner)}"
    if repos:
        where += f" AND a.repo IN ({', '.join(sql_text(repo) for repo in repos)})"
    return INSERT.format(where=where)


def snapshot_statements(owners: Sequence[str], repos: Sequence[str] = ()) -> list[str]:
    """Everything a snapshot runs: the schema, one INSERT per owner into a TEMP table,
    the rows stored in one transaction, the summary."""
    inserts = [insert_statement(owner, repos) for owner in owners]
    return [*SCHEMA, STAGE, *inserts, STORE, SUMMARY]


def default_database() -> str:
    """``downloads.db`` in the user's data directory (created if need be)."""
    directory = os.environ.get("SQLGH_DATA_DIR") or platformdirs.user_data_dir("sqlgh")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, DATABASE_NAME)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlgh snapshot", usage=USAGE, add_help=False, allow_abbrev=False
    )
    parser.add_argument("--owner", action="append", default=[])
    parser.add_argument("--repo", action="append", default=[])
    parser.add_argument("-h", "--help", action="store_true")
    return parser


HELP = f"""\
usage: {USAGE}

Append the download counts of every asset of OWNER's repositories (or only of the REPOs
given) to the table asset_downloads of DATABASE: one row per asset and UTC day, the later
count when run twice a day. The views download_trend and downloads_by_platform read it
(docs/history.md). With the conditional-request cache (on by default), a run over
unchanged data costs no rate-limit units.

DATABASE defaults to {DATABASE_NAME} in sqlgh's data directory (printed when it is
created). Other sqlgh options (--api-url, -o NAME=VALUE, --format) work as for sqlgh.
With --demo, the demo emulator is snapshot, and 29 made-up earlier days are added (if
they are not in DATABASE yet) for the trend queries to show something.

  sqlgh snapshot --owner acme
  sqlgh snapshot history.db --owner acme --repo rocket --repo anvil
"""


def main(argv: Sequence[str]) -> int:
    """``sqlgh snapshot ...``: return the exit status."""
    known, rest = _parser().parse_known_args(list(argv))
    if known.help:
        sys.stdout.write(HELP)
        return 0
    try:
        if not known.owner:
            raise UsageError("snapshot needs --owner OWNER (one or more)")
        args = parse_arguments(rest)
        if args.commands:
            shown = " ".join(args.commands)
            raise UsageError(f"snapshot runs no SQL of its own, it got {shown!r}")
        if args.demo and args.database is None:  # made-up days must not join real ones
            raise UsageError("snapshot --demo needs a DATABASE file, e.g. demo.db")
    except UsageError as exc:
        print(f"sqlgh: {exc} (see sqlgh snapshot --help)", file=sys.stderr)
        return 2
    if args.database is None:
        args.database = default_database()
        if not os.path.exists(args.database):
            print(f"sqlgh: snapshot: creating {args.database}", file=sys.stderr)
    args.commands = [BUSY_TIMEOUT, *snapshot_statements(known.owner, known.repo)]
    if args.demo:
        from sqlgh.snapshot_demo import DEMO_HISTORY

        args.commands.insert(-1, DEMO_HISTORY)
    return run(args)
