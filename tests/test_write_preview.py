"""Writes you can preview and confirm, through the real ``sqlgh`` command: ``--dry-run``
and ``.dryrun``, the question before a large interactive DELETE or UPDATE, ``--yes``, and
the one-line summary on a terminal."""

from __future__ import annotations

import re
from pathlib import Path

import apsw
import pytest
import requests
from helpers import Acme

from sqlgh.emulator import Emulator
from sqlgh.emulator.faults import Fault
from sqlgh.write_report import Write, summary
from tests.cli_helpers import TOKEN, sqlgh
from tests.pty_helpers import sqlgh_tty

PROMPT = "sqlgh> "
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BATCH = 12  # assets of the release `many`: more than the default of 10
# Without GitHub's second between writes (mutation_interval), which costs BATCH seconds
NO_SPACING = ("-o", "mutation_interval=0")


@pytest.fixture
def many(acme: Acme) -> int:
    """The id of release v3.0.0 of acme/tool, with BATCH assets."""
    release = acme.emu.add_release("acme", "tool", "v3.0.0")
    for n in range(BATCH):
        acme.emu.add_asset("acme", "tool", release["id"], f"part-{n:02}.bin", content=b"p")
    acme.emu.clear_log()
    return int(release["id"])


def _writes(emu: Emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.log if r.method in ("POST", "PATCH", "DELETE")]


def _asset_count(acme: Acme, release_id: int) -> int:
    return len(acme.emu.list_assets("acme", "tool", release_id))


DELETE_MANY = (
    "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = {}"
)


def test_dry_run_prints_each_request_and_sends_none(acme: Acme) -> None:
    result = sqlgh(
        "--dry-run",
        "-c",
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND name = 'notes.txt'",
        "-c",
        f"UPDATE release_assets SET label = 'Notes' WHERE owner = 'acme' AND repo = 'tool' "
        f"AND id = {acme.notes['id']}",
        api_url=acme.emu.api_url,
    )
    assert result.returncode == 0, result.stderr
    api, notes = acme.emu.api_url, acme.notes["id"]
    assert result.stdout.splitlines() == [
        f"dry run: would delete 'notes.txt' (asset {acme.notes['id']}, release {acme.new} of "
        f"acme/tool): DELETE {api}/repos/acme/tool/releases/assets/{acme.notes['id']}",
        # a keyed UPDATE reads no row: its name and release are not known
        f"dry run: would update (asset {notes}, acme/tool): PATCH "
        f"{api}/repos/acme/tool/releases/assets/{notes}  " + '{"label": "Notes"}',
    ]
    assert _writes(acme.emu) == []
    assert acme.emu.list_assets("acme", "tool", acme.new)  # all still there


def test_dryrun_dot_command_previews_inserts(acme: Acme) -> None:
    insert = (
        "INSERT {} INTO release_assets (owner, repo, release_id, name, data) "
        f"VALUES ('acme', 'tool', {acme.new}, '{{}}', 'hello');"
    )
    result = sqlgh(
        stdin="\n".join(
            [
                ".dryrun on",
                insert.format("", "new.txt"),
                insert.format("OR IGNORE", "notes.txt"),
                insert.format("OR REPLACE", "notes.txt"),
                ".dryrun off",
                "SELECT count(*) AS n FROM release_assets WHERE owner = 'acme' AND repo = 'tool';",
            ]
        ),
        api_url=acme.emu.api_url,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"dry run: would upload 'new.txt' (release {acme.new} of acme/tool)")
    assert lines[0].endswith("/assets?name=new.txt  (5 bytes, text/plain)")
    assert lines[1] == (
        f"dry run: would keep 'notes.txt' (asset {acme.notes['id']}, release {acme.new} of "
        "acme/tool): nothing sent"
    )
    assert lines[2].startswith("dry run: would replace 'notes.txt'")
    assert " DELETE " in lines[2]
    assert _writes(acme.emu) == []
    assert "│ 4 │" in result.stdout  # nothing was uploaded


def test_dry_run_still_refuses_an_insert_github_would_refuse(acme: Acme) -> None:
    result = sqlgh(
        "--dry-run",
        "-c",
        "INSERT INTO release_assets (owner, repo, release_id, name, data) "
        f"VALUES ('acme', 'tool', {acme.new}, 'notes.txt', 'x')",
        api_url=acme.emu.api_url,
    )
    assert result.returncode == 1
    assert "already has an asset named 'notes.txt'" in result.stderr
    assert "dry run: nothing was sent" in result.stderr


@pytest.mark.parametrize("options", [("--dry-run",), ()])
def test_two_rows_uploading_one_name_are_refused_before_any_upload(
    acme: Acme, options: tuple[str, ...]
) -> None:
    row = f"('acme', 'tool', {acme.new}, 'x.txt', '{{}}')"
    result = sqlgh(
        *options,
        "-c",
        "INSERT INTO release_assets (owner, repo, release_id, name, data) VALUES "
        f"{row.format('a')}, {row.format('b')}",
        api_url=acme.emu.api_url,
        uploads_url=acme.emu.uploads_url,
    )
    # before: the dry run showed two uploads, the real run uploaded the first and failed
    assert result.returncode == 1
    assert result.stdout == ""
    assert "release_assets: two rows upload 'x.txt' to release" in result.stderr
    assert "Nothing was changed on GitHub by this statement" in result.stderr
    assert _writes(acme.emu) == []


@pytest.mark.parametrize(
    "where",
    [
        "id = {tar}",  # a keyed UPDATE: the release is found by one read of the asset
        "release_id = {new} AND name = 'tool-1.1.0.tar.gz'",
    ],
)
def test_a_dry_run_refuses_a_rename_to_a_taken_name_as_github_would(
    acme: Acme, where: str
) -> None:
    where = where.format(tar=acme.tar["id"], new=acme.new)
    result = sqlgh(
        "--dry-run",
        "-c",
        f"UPDATE release_assets SET name = 'notes.txt' WHERE owner = 'acme' AND repo = 'tool' "
        f"AND {where}",
        api_url=acme.emu.api_url,
    )
    # before: 'would update ... PATCH', and the real run met GitHub's 422 already_exists
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"release_assets: cannot rename asset {acme.tar['id']} to 'notes.txt': that name is "
        "taken in its release (dry run: nothing was sent)"
    )
    assert _writes(acme.emu) == []


def test_a_dry_run_refuses_two_rows_renamed_to_one_name_and_allows_a_freed_name(
    acme: Acme,
) -> None:
    rename = (
        "UPDATE release_assets SET name = {} WHERE owner = 'acme' AND repo = 'tool' "
        f"AND release_id = {acme.new} AND state = 'uploaded'"
    )
    same = sqlgh("--dry-run", "-c", rename.format("'same.txt'"), api_url=acme.emu.api_url)
    assert same.returncode == 1
    assert "to 'same.txt': that name is taken in its release (dry run" in same.stderr
    # notes.txt -> tool-1.1.0.tar.gz is free once the tar is renamed away first
    swap = "CASE name WHEN 'notes.txt' THEN 'tool-1.1.0.tar.gz' ELSE 'tool.tgz' END"
    moved = sqlgh("--dry-run", "-c", rename.format(swap), api_url=acme.emu.api_url)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.count("dry run: would update") == 2
    assert _writes(acme.emu) == []


def _delete_many_answering(acme: Acme, many: int, answer: str) -> str:
    """Delete the release `many`'s assets on a terminal, answering the question."""
    script = [(PROMPT, DELETE_MANY.format(many) + ";"), ("[y/N]", answer), (PROMPT, ".quit")]
    return sqlgh_tty(*NO_SPACING, typed=script, api_url=acme.emu.api_url)


def test_a_large_interactive_delete_asks_and_no_keeps_everything(acme: Acme, many: int) -> None:
    shown = _delete_many_answering(acme, many, "n")
    assert f"This statement would delete {BATCH} assets in 1 release. Go ahead? [y/N]" in shown
    assert "not done: nothing was sent to GitHub" in shown
    assert _writes(acme.emu) == []
    assert _asset_count(acme, many) == BATCH


def test_yes_to_the_question_deletes_and_summarizes(acme: Acme, many: int) -> None:
    shown = _delete_many_answering(acme, many, "y")
    assert _asset_count(acme, many) == 0
    assert len(_writes(acme.emu)) == BATCH
    assert re.search(rf"deleted {BATCH} assets in 1 release; \d+ requests", shown)


def test_an_asset_added_between_the_count_and_the_real_run_is_not_deleted(
    acme: Acme, many: int
) -> None:
    # Another writer adds an asset while the real run reads the release (its second read).
    added: list[dict] = []
    sneak = Fault(
        kind="meanwhile",
        method="GET",
        path=f"/releases/{many}$",
        after=1,
        call=lambda: added.append(
            acme.emu.add_asset("acme", "tool", many, "late.bin", content=b"late")
        ),
    )
    acme.emu.add_fault(sneak)
    shown = _delete_many_answering(acme, many, "y")
    assert f"This statement would delete {BATCH} assets in 1 release. Go ahead? [y/N]" in shown
    # before: 'deleted 13 assets', the late one with those the user was asked about
    late = f"asset {added[0]['id']} ('late.bin') appeared after the statement was counted"
    assert late in shown
    assert [a["name"] for a in acme.emu.list_assets("acme", "tool", many)] == ["late.bin"]
    assert len(_writes(acme.emu)) == BATCH


def test_a_delete_across_releases_naming_none_asks_even_when_small(acme: Acme) -> None:
    acme.emu.add_asset("acme", "tool", acme.old, "notes.txt", content=b"old notes")
    sql = "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND name = 'notes.txt'"
    shown = sqlgh_tty(
        typed=[(PROMPT, sql + ";"), ("[y/N]", ""), (PROMPT, ".quit")], api_url=acme.emu.api_url
    )
    assert (
        "This statement would delete 2 assets in 2 releases (the statement names no release)"
        in shown
    )
    assert _writes(acme.emu) == []


def test_yes_option_and_small_deletes_do_not_ask_and_summary_counts_requests(
    acme: Acme, many: int
) -> None:
    acme.emu.clear_log()
    shown = sqlgh_tty(
        "--yes",
        *NO_SPACING,
        typed=[(PROMPT, DELETE_MANY.format(many) + ";"), (PROMPT, ".quit")],
        api_url=acme.emu.api_url,
    )
    assert "Go ahead?" not in shown
    assert f"deleted {BATCH} assets in 1 release; {len(acme.emu.log)} requests" in shown


def test_confirm_over_sets_the_threshold(acme: Acme) -> None:
    sql = DELETE_MANY.replace("release_id", "id").format(acme.notes["id"]) + ";"
    shown = sqlgh_tty(
        "--confirm-over",
        "0",
        typed=[(PROMPT, sql), ("[y/N]", "no"), (PROMPT, ".quit")],
        api_url=acme.emu.api_url,
    )
    assert "This statement would delete 1 asset in 1 release. Go ahead? [y/N]" in shown
    assert _writes(acme.emu) == []


def test_a_piped_script_neither_asks_nor_summarizes(acme: Acme, many: int) -> None:
    result = sqlgh(*NO_SPACING, stdin=DELETE_MANY.format(many) + ";\n", api_url=acme.emu.api_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Go ahead?" not in result.stderr and "deleted" not in result.stderr
    assert _asset_count(acme, many) == 0


def test_an_ignored_insert_is_summarized_as_kept(acme: Acme) -> None:
    sql = (
        "INSERT OR IGNORE INTO release_assets (owner, repo, release_id, name, data) "
        f"VALUES ('acme', 'tool', {acme.new}, 'notes.txt', 'x');"
    )
    shown = sqlgh_tty(typed=[(PROMPT, sql), (PROMPT, ".quit")], api_url=acme.emu.api_url)
    assert re.search(r"kept 1 asset in 1 release; \d+ requests", shown)
    assert _writes(acme.emu) == []


def test_apsw_cannot_skip_a_row_under_or_ignore_without_raising() -> None:
    """Why changes() counts an ignored INSERT (docs/writing.md): SQLite skips a row, and
    does not count it, when xUpdate answers SQLITE_CONSTRAINT under OR IGNORE; through
    APSW that answer is a raised exception, which aborts the statement. Should APSW ever
    allow it, this test fails and sqlgh can count 0."""
    reached: list[tuple] = []

    class Table:
        def BestIndexObject(self, ii: apsw.IndexInfo) -> bool:
            return True

        def Disconnect(self) -> None:
            pass

        def UpdateInsertRow(self, rowid: int | None, fields: tuple) -> int:
            reached.append(fields)
            if fields[0] == 1:
                raise apsw.ConstraintError("kept")
            return int(fields[0])

    class Module:
        def Connect(self, connection: apsw.Connection, *args: str) -> tuple[str, Table]:
            connection.vtab_config(apsw.SQLITE_VTAB_CONSTRAINT_SUPPORT, 1)
            return "CREATE TABLE x(a, b)", Table()

    db = apsw.Connection(":memory:")
    db.create_module("t", Module(), use_bestindex_object=True, eponymous_only=True)
    with pytest.raises(apsw.ConstraintError):
        db.execute("INSERT OR IGNORE INTO t VALUES (1, 2), (3, 4)")
    assert reached == [(1, 2)]  # the second row never reached the table


def test_writing_md_warns_at_its_top_that_github_changes_cannot_be_rolled_back() -> None:
    top = (Path(__file__).parent.parent / "docs" / "writing.md").read_text().split("\n## ")[0]
    assert "GitHub changes cannot be rolled back" in top
    assert "`BEGIN ... ROLLBACK`" in top


RELEASE = "releases WHERE owner = 'acme' AND repo = 'tool'"


def test_a_dry_run_previews_release_writes_and_sends_nothing(acme: Acme) -> None:
    draft = acme.emu.add_release("acme", "tool", "v3.0.0", draft=True)["id"]
    acme.emu.clear_log()
    result = sqlgh(
        "--dry-run",
        "-c",
        "INSERT INTO releases (owner, repo, tag_name, name, draft) "
        "VALUES ('acme', 'tool', 'v4.0.0', 'Four', 1)",
        "-c",
        f"UPDATE releases SET draft = 0 WHERE owner = 'acme' AND repo = 'tool' AND id = {draft}",
        "-c",
        "UPDATE releases SET body = 'New notes' WHERE owner = 'acme' AND repo = 'tool' "
        "AND tag_name = 'v1.1.0'",
        "-c",
        f"DELETE FROM {RELEASE} AND tag_name = 'v1.0.0'",
        api_url=acme.emu.api_url,
    )
    assert result.returncode == 0, result.stderr
    base = f"{acme.emu.api_url}/repos/acme/tool/releases"
    assert result.stdout.splitlines() == [
        "dry run: would create 'v4.0.0' (acme/tool): POST "
        f"{base}  " + '{"tag_name": "v4.0.0", "name": "Four", "draft": true}',
        # a keyed UPDATE reads no row: its tag is not known
        f"dry run: would publish (release {draft}, acme/tool): PATCH {base}/{draft}  "
        + '{"draft": false}',
        f"dry run: would update 'v1.1.0' (release {acme.new}, acme/tool): PATCH "
        f"{base}/{acme.new}  " + '{"body": "New notes"}',
        f"dry run: would delete 'v1.0.0' (release {acme.old}, acme/tool): DELETE "
        f"{base}/{acme.old}",
    ]
    assert _writes(acme.emu) == []
    listed = requests.get(f"{base}?per_page=100", headers=AUTH, timeout=10).json()
    tags = {release["tag_name"]: release["draft"] for release in listed}
    assert tags == {"v1.0.0": False, "v1.1.0": False, "v2.0.0-rc.1": False, "v3.0.0": True}


def test_a_dry_run_refuses_release_writes_github_would_refuse(emulator: Emulator) -> None:
    emulator.add_org("acme")
    emulator.add_repo("acme", "tool", immutable_releases=True)
    draft = emulator.add_release("acme", "tool", "v1.0.0", draft=True)["id"]
    emulator.add_release("acme", "tool", "v0.9.0")
    url = f"{emulator.api_url}/repos/acme/tool/releases/{draft}"
    answer = requests.patch(url, json={"draft": False}, headers=AUTH, timeout=10)
    assert answer.json()["immutable"] is True
    emulator.clear_log()
    retag = (
        "UPDATE releases SET tag_name = 'v1.0.1' WHERE owner = 'acme' AND repo = 'tool' "
        "AND tag_name = 'v1.0.0'"
    )
    locked = sqlgh("--dry-run", "-c", retag, api_url=emulator.api_url)
    assert locked.returncode == 1
    assert f"releases: cannot change its tag: release {draft} of acme/tool is immutable" in (
        locked.stderr
    )
    insert = "INSERT INTO releases (owner, repo, tag_name) VALUES ('acme', 'tool', 'v2')"
    tokenless = sqlgh("--dry-run", "-c", insert, api_url=emulator.api_url, token=None)
    assert tokenless.returncode == 1
    assert 'releases: INSERT needs a token with the "Contents: write" permission' in (
        tokenless.stderr
    )
    ignore = insert.replace("INTO", "OR IGNORE INTO")
    ignored = sqlgh("--dry-run", "-c", ignore, api_url=emulator.api_url)
    assert "releases: INSERT OR IGNORE is not supported" in ignored.stderr
    set_id = sqlgh(
        "--dry-run",
        "-c",
        "INSERT INTO releases (owner, repo, tag_name, published_at) "
        "VALUES ('acme', 'tool', 'v2', '2025-01-01')",
        api_url=emulator.api_url,
    )
    assert "releases: INSERT cannot set published_at (GitHub sets them)" in set_id.stderr
    assert [r.method for r in emulator.log if r.method != "GET"] == []


DELETE_TWO = f"DELETE FROM {RELEASE} AND tag_name IN ('v1.0.0', 'v1.1.0');"


def _tags(acme: Acme) -> set[str]:
    url = f"{acme.emu.api_url}/repos/acme/tool/releases?per_page=100"
    return {release["tag_name"] for release in requests.get(url, headers=AUTH, timeout=10).json()}


def test_deleting_several_releases_asks_and_no_keeps_them(acme: Acme) -> None:
    shown = sqlgh_tty(
        typed=[(PROMPT, DELETE_TWO), ("[y/N]", "n"), (PROMPT, ".quit")], api_url=acme.emu.api_url
    )
    # v1.0.0 holds 1 asset, v1.1.0 holds 3: GitHub deletes them with their releases
    assert "This statement would delete 2 releases (4 assets). Go ahead? [y/N]" in shown
    assert "not done: nothing was sent to GitHub" in shown
    assert _writes(acme.emu) == []
    assert {"v1.0.0", "v1.1.0"} <= _tags(acme)


def test_yes_deletes_the_releases_and_the_summary_counts_their_assets(acme: Acme) -> None:
    shown = sqlgh_tty(
        typed=[(PROMPT, DELETE_TWO), ("[y/N]", "y"), (PROMPT, ".quit")], api_url=acme.emu.api_url
    )
    assert _tags(acme) == {"v2.0.0-rc.1"}
    assert len(_writes(acme.emu)) == 2
    assert re.search(r"deleted 2 releases \(4 assets\); \d+ requests", shown), shown


def test_one_release_of_many_assets_asks_unless_yes(acme: Acme, many: int) -> None:
    sql = f"DELETE FROM {RELEASE} AND id = {many};"
    asked = sqlgh_tty(
        typed=[(PROMPT, sql), ("[y/N]", "n"), (PROMPT, ".quit")], api_url=acme.emu.api_url
    )
    assert f"This statement would delete 1 release ({BATCH} assets). Go ahead? [y/N]" in asked
    assert _asset_count(acme, many) == BATCH
    acme.emu.clear_log()
    shown = sqlgh_tty("--yes", typed=[(PROMPT, sql), (PROMPT, ".quit")], api_url=acme.emu.api_url)
    assert "Go ahead?" not in shown
    assert f"deleted 1 release ({BATCH} assets); {len(acme.emu.log)} requests" in shown
    assert "v3.0.0" not in _tags(acme)


def test_one_small_release_is_deleted_without_asking(acme: Acme) -> None:
    sql = f"DELETE FROM {RELEASE} AND id = {acme.old};"
    shown = sqlgh_tty(typed=[(PROMPT, sql), (PROMPT, ".quit")], api_url=acme.emu.api_url)
    assert "Go ahead?" not in shown
    assert re.search(r"deleted 1 release \(1 asset\); \d+ requests", shown), shown


def test_a_piped_script_deletes_releases_without_asking(acme: Acme) -> None:
    result = sqlgh(stdin=DELETE_TWO + "\n", api_url=acme.emu.api_url)
    assert result.returncode == 0, result.stderr
    assert "Go ahead?" not in result.stdout + result.stderr
    assert _tags(acme) == {"v2.0.0-rc.1"}


def test_summary_counts_releases_only_for_assets() -> None:
    writes = [
        Write("deleted", "acme", "tool", 1, 11),
        Write("deleted", "ACME", "Tool", 1, 12),
        Write("deleted", "acme", "tool", 2, 21),
        Write("created", "acme", "tool", None, 3, noun="release"),
    ]
    assert summary(writes, 5) == "deleted 3 assets, created 1 release in 2 releases; 5 requests"
    assert summary(writes[3:], 1) == "created 1 release; 1 request"
    deleted = [
        Write("deleted", "acme", "tool", None, 4, noun="release", assets=14),
        Write("deleted", "acme", "tool", None, 5, noun="release", assets=100, assets_exact=False),
    ]
    assert summary(deleted[:1], 2) == "deleted 1 release (14 assets); 2 requests"
    assert summary(deleted, 3, True).startswith("dry run: would delete 2 releases (at least 114")


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "real run"])
def test_setting_a_release_column_to_null_is_refused_not_silently_dropped(
    acme: Acme, dry_run: bool
) -> None:
    # GitHub's PATCH takes strings; a member left out keeps its value: NULL cannot clear it
    where = f"WHERE owner = 'acme' AND repo = 'tool' AND id = {acme.new}"
    dry = ("--dry-run",) if dry_run else ()
    api = acme.emu.api_url
    cleared = sqlgh(*dry, "-c", f"UPDATE releases SET body = NULL {where}", api_url=api)
    assert cleared.returncode == 1
    assert (
        "releases.body: NULL cannot be sent to GitHub (the release would keep its body); "
        "to empty it, SET body = ''"
    ) in cleared.stderr
    untagged = sqlgh(*dry, "-c", f"UPDATE releases SET tag_name = NULL {where}", api_url=api)
    assert "releases.tag_name: NULL cannot be sent to GitHub" in untagged.stderr
    assert _writes(acme.emu) == []
    emptied = sqlgh("-c", f"UPDATE releases SET body = '' {where}", api_url=api)
    assert emptied.returncode == 0, emptied.stderr
    url = f"{api}/repos/acme/tool/releases/{acme.new}"
    assert requests.get(url, headers=AUTH, timeout=10).json()["body"] == ""


def test_a_release_that_grew_between_the_count_and_the_real_run_is_not_deleted(
    acme: Acme, many: int
) -> None:
    # Another writer uploads 3 more assets while the real run reads the release (its
    # second read): deleting it would take along assets the user was not asked about.
    def upload_more() -> None:
        for n in range(3):
            acme.emu.add_asset("acme", "tool", many, f"late-{n}.bin", content=b"late")

    acme.emu.add_fault(
        Fault(kind="meanwhile", method="GET", path=f"/releases/{many}$", after=1, call=upload_more)
    )
    sql = f"DELETE FROM {RELEASE} AND id = {many};"
    typed = [(PROMPT, sql), ("[y/N]", "y"), (PROMPT, ".quit")]
    shown = sqlgh_tty(*NO_SPACING, typed=typed, api_url=acme.emu.api_url)
    assert f"This statement would delete 1 release ({BATCH} assets). Go ahead? [y/N]" in shown
    # before: 'deleted 1 release (15 assets)', 3 more than the user was asked about
    grew = f"releases: release {many} ('v3.0.0') holds {BATCH + 3} assets now, not the {BATCH}"
    assert grew in shown
    assert _writes(acme.emu) == []
    assert _asset_count(acme, many) == BATCH + 3
