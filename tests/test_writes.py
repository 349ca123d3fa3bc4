"""Writes over real HTTP: INSERT uploads, UPDATE patches, DELETE deletes; conflicts,
failures, partial statements, tokens and spacing, checked on the emulator's state."""

from __future__ import annotations

import json
import time

import apsw
import pytest
from conftest import connect_to
from helpers import Acme, names, paths, seed_acme

from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import InputError, SqlghError, WriteError

INSERT = (
    "INSERT INTO release_assets(owner, repo, release_id, {cols}) VALUES ('acme', 'tool', ?, {q})"
)
KEYED = "WHERE owner = 'acme' AND repo = 'tool' AND id = ?"


def insert_data(
    db: apsw.Connection, release_id: int, name: str, data: bytes, mode: str = ""
) -> int:
    sql = INSERT.format(cols="name, data", q="?, ?").replace("INSERT", f"INSERT {mode}".strip())
    db.execute(sql, (release_id, name, data))
    return db.last_insert_rowid()


def uploads(emu: Emulator) -> list:
    return [r for r in emu.log if r.origin == "uploads"]


def patch_bodies(emu: Emulator) -> list[int]:
    return [r.body_size for r in emu.log if r.method == "PATCH"]


def body_size(body: dict) -> int:
    """The size of a JSON body as requests sends it."""
    return len(json.dumps(body).encode())


# INSERT ---------------------------------------------------------------------------------


def test_insert_data_uploads_and_returns_the_id(acme: Acme, db: apsw.Connection) -> None:
    new_id = insert_data(db, acme.new, "hello.txt", b"Hi\n")
    asset = acme.emu.get_asset(new_id)
    assert asset["name"] == "hello.txt" and asset["state"] == "uploaded"
    assert acme.emu.asset_content(new_id) == b"Hi\n"
    assert asset["content_type"] == "text/plain"


def test_insert_into_unknown_release_costs_two_requests(acme: Acme, db: apsw.Connection) -> None:
    insert_data(db, acme.new, "a.bin", b"\x00\x01")
    assert [(r.origin, r.method) for r in acme.emu.log] == [("api", "GET"), ("uploads", "POST")]
    assert acme.emu.log[0].path == f"/repos/acme/tool/releases/{acme.new}"


def test_insert_into_listed_release_costs_one_request(acme: Acme, db: apsw.Connection) -> None:
    db.execute("SELECT id FROM releases WHERE owner = 'acme' AND repo = 'tool'").fetchall()
    acme.emu.clear_log()
    insert_data(db, acme.new, "a.bin", b"\x00")
    insert_data(db, acme.old, "b.bin", b"\x00")
    assert [(r.origin, r.method, r.status) for r in acme.emu.log] == [("uploads", "POST", 201)] * 2


def test_insert_path_streams_the_file_and_defaults_the_name(
    acme: Acme, db: apsw.Connection, tmp_path
) -> None:
    source = tmp_path / "tool-1.2.0-linux-amd64.tar.gz"
    source.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 40)
    db.execute(INSERT.format(cols="path, label", q="?, ?"), (acme.new, str(source), "Linux x86-64"))
    asset = acme.emu.get_asset(db.last_insert_rowid())
    assert asset["name"] == "tool-1.2.0-linux-amd64.tar.gz"
    assert asset["label"] == "Linux x86-64"
    assert asset["content_type"] == "application/gzip"
    assert asset["size"] == source.stat().st_size
    assert acme.emu.asset_content(asset["id"]) == source.read_bytes()
    (post,) = uploads(acme.emu)
    assert post.query["name"] == ["tool-1.2.0-linux-amd64.tar.gz"]


@pytest.mark.parametrize(
    ("name", "given", "stored"),
    [
        ("x.tar.gz", None, "application/gzip"),
        ("x.txt", None, "text/plain"),
        ("x.unknownext", None, "application/octet-stream"),
        ("x", None, "application/octet-stream"),
        ("x.txt", "text/markdown", "text/markdown"),
    ],
)
def test_content_type_guessed_or_given(
    acme: Acme, db: apsw.Connection, name: str, given: str | None, stored: str
) -> None:
    sql = INSERT.format(cols="name, data, content_type", q="?, x'00', ?")
    db.execute(sql, (acme.new, name, given))
    assert acme.emu.get_asset(db.last_insert_rowid())["content_type"] == stored
    assert uploads(acme.emu)[0].headers["content-type"] == stored


def test_renamed_upload_shows_stored_name_and_warns(
    acme: Acme, db: apsw.Connection, capsys
) -> None:
    new_id = insert_data(db, acme.new, "my file.txt", b"x")
    assert "'my file.txt'" in capsys.readouterr().err
    sql = f"SELECT name FROM release_assets {KEYED}"
    assert db.execute(sql, (new_id,)).fetchall() == [("my.file.txt",)]
    assert "my.file.txt" in names(acme.emu, acme.new)


def test_insert_needs_exactly_one_of_data_or_path(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(InputError, match="exactly one of data"):
        db.execute(INSERT.format(cols="name", q="'a.txt'"), (acme.new,))
    with pytest.raises(InputError, match="exactly one of data"):
        db.execute(
            INSERT.format(cols="name, data, path", q="'a', x'00', '/etc/hosts'"), (acme.new,)
        )
    with pytest.raises(InputError, match="cannot set size"):
        db.execute(INSERT.format(cols="name, data, size", q="'a', x'00', 1"), (acme.new,))
    assert acme.emu.log == []


# conflicts ------------------------------------------------------------------------------


def test_insert_existing_name_fails_suggesting_replace(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(WriteError, match="INSERT OR REPLACE") as failure:
        insert_data(db, acme.new, "notes.txt", b"new")
    assert "Nothing was changed" in str(failure.value)
    assert acme.emu.asset_content(acme.notes["id"]) == b"release notes\n"
    assert names(acme.emu, acme.new) == ["broken.bin", "notes.txt", "tool-1.1.0.tar.gz"]


def test_insert_or_ignore_keeps_the_old_asset(acme: Acme, db: apsw.Connection) -> None:
    kept = insert_data(db, acme.new, "notes.txt", b"new", "OR IGNORE")
    assert kept == acme.notes["id"]
    assert acme.emu.asset_content(acme.notes["id"]) == b"release notes\n"
    assert [r.method for r in acme.emu.log] == ["GET", "GET"]  # the release, its assets


def test_insert_or_replace_swaps_content(acme: Acme, db: apsw.Connection) -> None:
    new_id = insert_data(db, acme.new, "notes.txt", b"new notes", "OR REPLACE")
    assert new_id != acme.notes["id"]
    assert acme.emu.get_asset(acme.notes["id"]) is None
    assert acme.emu.asset_content(new_id) == b"new notes"
    assert names(acme.emu, acme.new) == ["broken.bin", "notes.txt", "tool-1.1.0.tar.gz"]
    assert [r.method for r in acme.emu.log if r.method != "GET"] == [
        "POST",
        "PATCH",
        "PATCH",
        "DELETE",
    ]


def assert_replace_left_old_unchanged(acme: Acme) -> None:
    assert names(acme.emu, acme.new) == ["broken.bin", "notes.txt", "tool-1.1.0.tar.gz"]
    assert acme.emu.get_asset(acme.notes["id"])["name"] == "notes.txt"
    assert acme.emu.asset_content(acme.notes["id"]) == b"release notes\n"


def test_replace_whose_upload_fails_keeps_the_old(acme: Acme, db: apsw.Connection) -> None:
    acme.emu.add_fault(Fault("upload_502_starter", origin="uploads", times=-1))
    with pytest.raises(WriteError, match="failed 3 times"):
        insert_data(db, acme.new, "notes.txt", b"new", "OR REPLACE")
    assert_replace_left_old_unchanged(acme)


def test_replace_whose_final_rename_fails_keeps_the_old(acme: Acme, db: apsw.Connection) -> None:
    # Every PATCH but those of the old asset fails: the rename of the new one into place.
    path = rf"/assets/(?!{acme.notes['id']}$)\d+$"
    acme.emu.add_fault(Fault("status", method="PATCH", path=path, status=500, times=-1))
    with pytest.raises(WriteError, match=r"could not replace 'notes\.txt', it is unchanged"):
        insert_data(db, acme.new, "notes.txt", b"new", "OR REPLACE")
    assert_replace_left_old_unchanged(acme)
    # PATCH is idempotent: the failing rename is tried 1 + retries (default 4) times.
    assert [r.status for r in acme.emu.log if r.method == "PATCH"] == [200, *[500] * 5, 200]


def test_replace_whose_first_rename_fails_keeps_the_old(acme: Acme, db: apsw.Connection) -> None:
    path = rf"/assets/{acme.notes['id']}$"
    acme.emu.add_fault(Fault("status", method="PATCH", path=path, status=500, times=-1))
    with pytest.raises(WriteError, match="it is unchanged"):
        insert_data(db, acme.new, "notes.txt", b"new", "OR REPLACE")
    assert_replace_left_old_unchanged(acme)


def test_replace_that_cannot_restore_the_old_name_keeps_both(
    acme: Acme, db: apsw.Connection
) -> None:
    # The rename of the new upload into place is refused with GitHub's 422 for a taken
    # name; the old asset's first rename (aside) passes, its rename back fails.
    new_asset = rf"/assets/(?!{acme.notes['id']}$)\d+$"
    acme.emu.add_fault(Fault("status", method="PATCH", path=new_asset, status=422, times=-1))
    old_asset = rf"/assets/{acme.notes['id']}$"
    acme.emu.add_fault(
        Fault("status", method="PATCH", path=old_asset, status=500, after=1, times=-1)
    )
    with pytest.raises(WriteError, match="both are kept") as failure:
        insert_data(db, acme.new, "notes.txt", b"new", "OR REPLACE")
    text = str(failure.value)
    assert "Nothing was changed" not in text
    old = acme.emu.get_asset(acme.notes["id"])
    assert old["name"].startswith("sqlgh-old-") and f"{old['name']!r}" in text
    assert acme.emu.asset_content(acme.notes["id"]) == b"release notes\n"  # not lost
    new = [
        a
        for a in acme.emu.list_assets("acme", "tool", acme.new)
        if a["name"].startswith("sqlgh-new-")
    ]
    assert len(new) == 1 and f"(id {new[0]['id']})" in text
    assert acme.emu.asset_content(new[0]["id"]) == b"new"
    assert "DELETE" not in [r.method for r in acme.emu.log]


@pytest.mark.parametrize("renamed", ["old", "new"])
def test_replace_whose_rename_answer_is_lost_but_applied_completes(
    acme: Acme, db: apsw.Connection, renamed: str
) -> None:
    # The connection drops after GitHub applied the PATCH: sqlgh reads the asset's name
    # to tell, and carries on instead of undoing a rename that happened.
    old_asset = rf"/assets/{acme.notes['id']}$"
    path = old_asset if renamed == "old" else rf"/assets/(?!{acme.notes['id']}$)\d+$"
    acme.emu.add_fault(Fault("drop", method="PATCH", path=path, times=-1))
    new_id = insert_data(db, acme.new, "notes.txt", b"new notes", "OR REPLACE")
    assert names(acme.emu, acme.new) == ["broken.bin", "notes.txt", "tool-1.1.0.tar.gz"]
    assert acme.emu.asset_content(new_id) == b"new notes"
    assert acme.emu.get_asset(acme.notes["id"]) is None


# UPDATE ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "body"),
    [
        ("label = 'macOS'", {"label": "macOS"}),
        ("label = NULL", {"label": ""}),
        ("name = 'tool.tgz'", {"name": "tool.tgz"}),
        ("state = 'uploaded'", {"state": "uploaded"}),
    ],
)
def test_keyed_update_is_one_patch_of_the_changed_field(
    acme: Acme, db: apsw.Connection, assignment: str, body: dict
) -> None:
    db.execute(f"UPDATE release_assets SET {assignment} {KEYED}", (acme.tar["id"],))
    assert paths(acme.emu) == [f"PATCH /repos/acme/tool/releases/assets/{acme.tar['id']}"]
    assert patch_bodies(acme.emu) == [body_size(body)]
    asset = acme.emu.get_asset(acme.tar["id"])
    expected = {**acme.tar, **body}
    assert {k: asset[k] for k in ("name", "label", "state")} == {
        k: expected[k] for k in ("name", "label", "state")
    }


def test_rename_keeps_the_label(acme: Acme, db: apsw.Connection) -> None:
    db.execute(f"UPDATE release_assets SET name = 'renamed.tar.gz' {KEYED}", (acme.tar["id"],))
    asset = acme.emu.get_asset(acme.tar["id"])
    assert (asset["name"], asset["label"]) == ("renamed.tar.gz", "Linux")


def test_update_of_two_fields_is_one_patch(acme: Acme, db: apsw.Connection) -> None:
    db.execute(f"UPDATE release_assets SET name = 'n.bin', label = 'L' {KEYED}", (acme.tar["id"],))
    assert patch_bodies(acme.emu) == [body_size({"name": "n.bin", "label": "L"})]


@pytest.mark.parametrize(
    "assignment",
    ["id = 5", "size = 1", "size = NULL", "owner = 'other'", "release_id = 1", "data = x'00'"],
)
def test_update_of_other_columns_is_refused(
    acme: Acme, db: apsw.Connection, assignment: str
) -> None:
    with pytest.raises(InputError, match="UPDATE can change name, label, state"):
        db.execute(f"UPDATE release_assets SET {assignment} {KEYED}", (acme.tar["id"],))
    assert acme.emu.log == []
    assert acme.emu.get_asset(acme.tar["id"]) == acme.tar


def test_update_by_release_and_like_lists_once(acme: Acme, db: apsw.Connection) -> None:
    db.execute(
        "UPDATE release_assets SET label = 'text' WHERE owner = 'acme' AND repo = 'tool' "
        "AND release_id = ? AND name LIKE '%.t%'",
        (acme.new,),
    )
    assert [r.method for r in acme.emu.log] == ["GET", "PATCH", "PATCH"]
    labels = {a["name"]: a["label"] for a in acme.emu.list_assets("acme", "tool", acme.new)}
    assert labels == {"tool-1.1.0.tar.gz": "text", "notes.txt": "text", "broken.bin": None}


# DELETE ---------------------------------------------------------------------------------


def test_keyed_delete_reads_then_deletes(acme: Acme, db: apsw.Connection) -> None:
    db.execute(f"DELETE FROM release_assets {KEYED}", (acme.notes["id"],))
    path = f"/repos/acme/tool/releases/assets/{acme.notes['id']}"
    assert paths(acme.emu) == [f"GET {path}", f"DELETE {path}"]
    assert acme.emu.get_asset(acme.notes["id"]) is None


def test_delete_broken_uploads_only(acme: Acme, db: apsw.Connection) -> None:
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = ? "
        "AND state <> 'uploaded'",
        (acme.new,),
    )
    assert [r.method for r in acme.emu.log] == ["GET", "DELETE"]
    assert names(acme.emu, acme.new) == ["notes.txt", "tool-1.1.0.tar.gz"]


# several rows, tokens, spacing ----------------------------------------------------------


def test_failing_row_reports_what_was_applied(acme: Acme, db: apsw.Connection) -> None:
    path = rf"/{acme.notes['id']}$"  # failing every time: PATCHes are retried
    acme.emu.add_fault(Fault("status", method="PATCH", path=path, status=500, times=-1))
    with pytest.raises(SqlghError, match="answered 500") as failure:
        db.execute(
            "UPDATE release_assets SET label = 'x' WHERE owner = 'acme' AND repo = 'tool' "
            "AND release_id = ?",
            (acme.new,),
        )
    message = str(failure.value)
    applied = f"updated label of asset {acme.tar['id']}."
    assert f"Already applied on GitHub by this statement (not undone): {applied}" in message
    assert "The remaining rows were not attempted" in message
    labels = {a["id"]: a["label"] for a in acme.emu.list_assets("acme", "tool", acme.new)}
    assert labels == {acme.tar["id"]: "x", acme.notes["id"]: None, acme.starter["id"]: None}
    # one PATCH for the applied row, 1 + retries (default 4) for the failing one
    assert len([r for r in acme.emu.log if r.method == "PATCH"]) == 1 + 5


def test_multi_row_insert_stops_at_the_failing_row(acme: Acme, db: apsw.Connection) -> None:
    sql = (
        "INSERT INTO release_assets(owner, repo, release_id, name, data) VALUES "
        "('acme', 'tool', ?1, 'one.txt', x'01'), ('acme', 'tool', ?1, 'notes.txt', x'02'), "
        "('acme', 'tool', ?1, 'three.txt', x'03')"
    )
    with pytest.raises(WriteError, match=r"already has an asset named 'notes.txt'") as failure:
        db.execute(sql, (acme.new,))
    assert "Already applied on GitHub by this statement (not undone): uploaded 'one.txt'" in str(
        failure.value
    )
    assert names(acme.emu, acme.new) == ["broken.bin", "notes.txt", "one.txt", "tool-1.1.0.tar.gz"]
    assert not [r for r in uploads(acme.emu) if r.query["name"] == ["three.txt"]]


@pytest.mark.parametrize(
    "sql",
    [
        INSERT.format(cols="name, data", q="'a.txt', x'00'"),
        f"UPDATE release_assets SET label = 'x' {KEYED}",
        f"DELETE FROM release_assets {KEYED}",
    ],
)
def test_write_without_token_fails_before_any_write_request(acme: Acme, sql: str) -> None:
    anonymous = connect_to(acme.emu, token="")
    with pytest.raises(WriteError) as failure:
        anonymous.execute(sql, (acme.tar["id"] if "id = ?" in sql else acme.new,))
    assert '"Contents: write"' in str(failure.value)
    assert "GH_TOKEN" in str(failure.value)
    reads = ["GET"] if sql.startswith("DELETE") else []  # a DELETE reads the asset first
    assert [r.method for r in acme.emu.log] == reads


def test_filtered_delete_without_token_changes_nothing(acme: Acme) -> None:
    anonymous = connect_to(acme.emu, token="")
    with pytest.raises(WriteError, match="Contents: write"):
        anonymous.execute(
            "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' "
            "AND release_id = ? AND name LIKE '%.txt'",
            (acme.new,),
        )
    assert [r.method for r in acme.emu.log] == ["GET"]


def test_mutations_are_spaced(acme: Acme) -> None:
    db = connect_to(acme.emu, mutation_interval=0.2)
    started = time.monotonic()
    db.execute(
        "UPDATE release_assets SET label = 'x' WHERE owner = 'acme' AND repo = 'tool' "
        "AND release_id = ?",
        (acme.new,),
    )
    elapsed = time.monotonic() - started
    assert len([r for r in acme.emu.log if r.method == "PATCH"]) == 3
    assert 0.4 <= elapsed < 3.0


# failed uploads -------------------------------------------------------------------------


def assert_one_uploaded(acme: Acme, name: str, content: bytes) -> None:
    found = [a for a in acme.emu.list_assets("acme", "tool", acme.new) if a["name"] == name]
    assert [a["state"] for a in found] == ["uploaded"]
    assert acme.emu.asset_content(found[0]["id"]) == content


def test_upload_502_leaving_starter_is_retried(acme: Acme, db: apsw.Connection) -> None:
    acme.emu.add_fault(Fault("upload_502_starter", origin="uploads"))
    new_id = insert_data(db, acme.new, "retry.bin", b"payload")
    assert_one_uploaded(acme, "retry.bin", b"payload")
    assert acme.emu.get_asset(new_id)["name"] == "retry.bin"
    assert [r.status for r in uploads(acme.emu)] == [502, 201]
    # the release (its upload_url), its assets, who the token is (the starter is this
    # token's, made since the attempt began: deleted), the DELETE
    api = [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in acme.emu.log if r.origin == "api"]
    assert api == [
        f"GET {acme.new}",
        "GET assets",
        "GET user",
        f"DELETE {new_id - 1}",
    ]


@pytest.mark.parametrize("content", [b"a new, longer notes file", b"x" * 14])
def test_failed_plain_insert_never_touches_an_existing_asset_of_that_name(
    acme: Acme, db: apsw.Connection, content: bytes
) -> None:
    # notes.txt exists (14 bytes). A 502 on the upload must not make sqlgh take the old
    # asset for a leftover of its own: not deleted, not adopted, a conflict error instead.
    old = acme.emu.asset_content(acme.notes["id"])
    acme.emu.add_fault(Fault("status", origin="uploads", method="POST", status=502))
    with pytest.raises(WriteError, match=r"already has an asset named 'notes\.txt'"):
        insert_data(db, acme.new, "notes.txt", content)
    assert acme.emu.asset_content(acme.notes["id"]) == old
    assert [r.method for r in acme.emu.log if r.method != "GET"] == ["POST"]
    assert db.last_insert_rowid() != acme.notes["id"]


def test_dropped_upload_is_cleaned_up_and_retried(acme: Acme, db: apsw.Connection) -> None:
    acme.emu.add_fault(Fault("drop", origin="uploads"))
    insert_data(db, acme.new, "drop.bin", b"0123456789" * 1000)
    assert_one_uploaded(acme, "drop.bin", b"0123456789" * 1000)
    assert len(uploads(acme.emu)) == 2


@pytest.mark.parametrize("kind", ["upload_502_starter", "drop", "status"])
def test_upload_failing_every_time_leaves_nothing(
    acme: Acme, db: apsw.Connection, kind: str
) -> None:
    acme.emu.add_fault(Fault(kind, origin="uploads", times=-1))
    with pytest.raises(WriteError, match="failed 3 times") as failure:
        insert_data(db, acme.new, "never.bin", b"payload")
    assert "nothing half-uploaded was left behind" in str(failure.value)
    assert names(acme.emu, acme.new) == ["broken.bin", "notes.txt", "tool-1.1.0.tar.gz"]
    assert len(uploads(acme.emu)) == 3


def test_ghes_upload_goes_to_api_uploads() -> None:
    with Emulator(ghes=True) as emu:
        acme = seed_acme(emu)
        db = connect_to(emu)
        new_id = insert_data(db, acme.new, "ghes.txt", b"on prem")
        assert emu.asset_content(new_id) == b"on prem"
        post = emu.log[-1]
        assert (post.origin, post.method, post.status) == ("uploads", "POST", 201)
        assert post.path == f"/api/uploads/repos/acme/tool/releases/{acme.new}/assets"
        assert emu.unknown == []


def test_upload_that_arrived_despite_a_broken_answer_is_kept(
    acme: Acme, db: apsw.Connection
) -> None:
    acme.emu.add_fault(Fault("truncated", origin="uploads"))
    new_id = insert_data(db, acme.new, "kept.bin", b"arrived")
    assert_one_uploaded(acme, "kept.bin", b"arrived")
    assert acme.emu.get_asset(new_id)["name"] == "kept.bin"
    assert len(uploads(acme.emu)) == 1


def test_rename_onto_a_taken_name_is_refused(acme: Acme, db: apsw.Connection) -> None:
    with pytest.raises(WriteError, match="that name is taken"):
        db.execute(f"UPDATE release_assets SET name = 'notes.txt' {KEYED}", (acme.tar["id"],))
    assert acme.emu.get_asset(acme.tar["id"]) == acme.tar


def test_delete_by_release_and_like_lists_once(acme: Acme, db: apsw.Connection) -> None:
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND release_id = ? "
        "AND name LIKE '%.t%'",
        (acme.new,),
    )
    assert [r.method for r in acme.emu.log] == ["GET", "DELETE", "DELETE"]
    assert names(acme.emu, acme.new) == ["broken.bin"]


def test_delete_by_id_list_deletes_every_one(acme: Acme, db: apsw.Connection) -> None:
    ids = (acme.notes["id"], acme.starter["id"], acme.old_asset["id"])
    db.execute(
        "DELETE FROM release_assets WHERE owner = 'acme' AND repo = 'tool' AND id IN (?, ?, ?)", ids
    )
    assert [acme.emu.get_asset(i) for i in ids] == [None, None, None]
    assert sorted(r.path for r in acme.emu.log if r.method == "DELETE") == sorted(
        f"/repos/acme/tool/releases/assets/{i}" for i in ids
    )
    assert db.changes() == 3
