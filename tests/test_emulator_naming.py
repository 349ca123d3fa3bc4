"""The names GitHub stores for uploaded files (sqlgh/emulator/naming.py): each rule with
the example of the report it comes from, and the rules' properties."""

from __future__ import annotations

import os
import re

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlgh.emulator import Emulator
from sqlgh.emulator.naming import sanitize_asset_name


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        # rule 1, transliteration: travis-ci/dpl#821
        ("a5_ð_æ_©_ŋ.txt", "a5_d_ae_._ng.txt"),
        ("żółw.txt", "zolw.txt"),
        # rule 2, '+' kept: github/rest-api-description#2968, centreon/centreon-collect#3722
        ("hello-world-5.0.0+master.001.tar.gz", "hello-world-5.0.0+master.001.tar.gz"),
        ("agent_25.10.9-1+deb12u1_amd64.deb", "agent_25.10.9-1+deb12u1_amd64.deb"),
        # ... and a '+' read as a space (not percent-encoded) becomes '.'
        ("agent_25.10.9-1 deb12u1_amd64.deb", "agent_25.10.9-1.deb12u1_amd64.deb"),
        # rule 3, runs become one '.': travis-ci/dpl#821 (its '+' arrived as a space: rule 2)
        (
            "a5_ !#$%&'() ,-.0123456789;=@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
            "abcdefghijklmnopqrstuvwxyz{}~.txt",
            "a5_.-.0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZ._.abcdefghijklmnopqrstuvwxyz.txt",
        ),
        ("tobwen-1.1.0-1~buster_amd64.deb", "tobwen-1.1.0-1.buster_amd64.deb"),  # softprops#159
        ("app-(15-5)-release.apk", "app-.15-5.-release.apk"),  # actions/upload-release-asset#57
        ("My App 1.0.0 Setup.exe", "My.App.1.0.0.Setup.exe"),  # cli/cli#10585
        ("fake.      file.txt", "fake.file.txt"),  # electron/forge#1761
        ("erick%%%%%!!!zhao.txt", "erick.zhao.txt"),  # electron/forge#1761
        ("pkg-1:2.0.tar.zst", "pkg-1.2.0.tar.zst"),  # softprops#159 (':')
        # rule 4, leading and trailing periods: the REST docs
        (".hidden.", "hidden"),
        # rule 5, a base name of emoji only: softprops/action-gh-release#542
        ("🚀.zip", "default.zip"),
        ("🚀🎉.tar.gz", "default.tar.gz"),
        ("🚀-app.zip", "-app.zip"),  # something is left of the base name
        # names GitHub keeps as they are
        ("tool-1.4.2-linux-amd64.tar.gz", "tool-1.4.2-linux-amd64.tar.gz"),
    ],
)
def test_sanitize_asset_name(uploaded: str, stored: str) -> None:
    assert sanitize_asset_name(uploaded) == stored


@settings(max_examples=60, derandomize=bool(os.environ.get("CI")))
@given(st.text())
def test_sanitized_names_are_stable(name: str) -> None:
    stored = sanitize_asset_name(name)
    assert re.fullmatch(r"[A-Za-z0-9._+-]*", stored)
    assert not stored.startswith(".") and not stored.endswith(".")
    assert sanitize_asset_name(stored) == stored


def test_a_percent_encoded_plus_is_kept_and_a_raw_one_is_a_space(emulator: Emulator) -> None:
    emulator.add_repo("octocat", "hello")
    release = emulator.add_release("octocat", "hello", "v1")
    url = release["upload_url"].split("{")[0]
    headers = {"Authorization": "Bearer test-token", "Content-Type": "text/plain"}

    def stored(query: str) -> str:
        answer = requests.post(f"{url}?{query}", data=b"x", headers=headers, timeout=10)
        return answer.json()["name"]

    assert stored("name=a%2Bb.txt") == "a+b.txt"
    assert stored("name=c+d.txt") == "c.d.txt"
