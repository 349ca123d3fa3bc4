"""Emulator parts without HTTP: generated content, demo data (asset names:
test_emulator_naming.py)."""

from __future__ import annotations

import gc
import hashlib
import os
import time

import pytest

from sqlgh.emulator import Emulator
from sqlgh.emulator.blobs import CHUNK, GeneratedBlob, read_all
from sqlgh.emulator.demo import seed_demo


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17])
def test_generated_content_digest_and_ranges(size: int) -> None:
    blob = GeneratedBlob(size)
    data = read_all(blob)
    assert len(data) == size
    assert blob.sha256() == hashlib.sha256(data).hexdigest()
    assert b"".join(blob.chunks(size // 3, size // 2)) == data[size // 3 : size // 2]


def test_demo_seed() -> None:
    with Emulator() as emu:
        started = time.perf_counter()
        seed_demo(emu)
        assert time.perf_counter() - started < 0.5
        state = emu._state
        orgs = [a.login for a in state.accounts.values() if a.type == "Organization"]
        assert orgs == ["acme", "globex", "initech"]
        assert len(state.repos) >= 24
        releases = list(state.releases.values())
        assert all(len(r.releases) >= 3 for r in state.repos.values())
        assert any(r.prerelease for r in releases) and any(r.draft for r in releases)
        assert max(len(r.assets) for r in releases) >= 120
        assets = list(state.assets.values())
        names = {a.name for a in assets}
        for suffix in ("-linux-amd64.tar.gz", "-darwin-arm64.zip", ".deb", ".rpm", ".msi", ".sig"):
            assert any(n.endswith(suffix) for n in names), suffix
        assert {"checksums.txt", "SHA256SUMS"} & names
        starters = [a for a in assets if a.state == "starter"]
        assert starters and all(a.blob.size == 0 for a in starters)
        assert any(emu.get_asset(a.id)["digest"] is None for a in assets if a.state == "uploaded")
        first = [(a.name, a.blob.size, a.download_count) for a in assets[:50]]
    with Emulator() as again:
        seed_demo(again)
        assert [
            (a.name, a.blob.size, a.download_count) for a in list(again._state.assets.values())[:50]
        ] == first


def test_demo_checksums_match_digests() -> None:
    with Emulator() as emu:
        seed_demo(emu)
        release = next(
            r
            for r in emu._state.releases.values()
            if any(a.name == "checksums.txt" for a in r.assets.values())
        )
        sums = next(a for a in release.assets.values() if a.name == "checksums.txt")
        for line in emu.asset_content(sums.id).decode().splitlines():
            digest, name = line.split("  ")
            asset = next(a for a in release.assets.values() if a.name == name)
            assert emu.get_asset(asset.id)["digest"] == f"sha256:{digest}"


def test_an_emulator_never_stopped_still_removes_its_spool_folder() -> None:
    emulator = Emulator()
    spool = emulator._spool_dir
    assert os.path.isdir(spool)
    del emulator
    gc.collect()
    assert not os.path.exists(spool)
