"""Reads of what GitHub shows in its corners (issue 18): bot uploaders in the demo data."""

from __future__ import annotations

from conftest import connect_to

from sqlgh.emulator import Emulator


def test_uploader_login_reports_show_bot_uploads(demo: Emulator) -> None:
    db = connect_to(demo)
    rows = db.execute(
        "SELECT DISTINCT uploader_login, uploader ->> '$.type', uploader ->> '$.html_url' "
        "FROM release_assets WHERE owner = 'globex' AND repo = 'laser'"
    ).fetchall()
    assert rows == [("github-actions[bot]", "Bot", f"{demo.web_url}/apps/github-actions")]
