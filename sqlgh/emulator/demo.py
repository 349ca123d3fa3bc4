"""Deterministic demo data: three organizations and a user, dozens of repositories with
releases and assets that look like real projects' (sizes are generated, not stored)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlgh.emulator.blobs import GeneratedBlob
from sqlgh.emulator.emulator import Emulator

ORGS = {
    "acme": [
        "anvil",
        "rocket",
        "roadrunner",
        "catapult",
        "jetpack",
        "tnt",
        "magnet",
        "skates",
        "spring",
        "tornado-seed",
        "firmware",
        "acme-docs",
    ],
    "globex": [
        "hammock",
        "doomsday",
        "scorpio",
        "volcano",
        "monorail",
        "cypress-creek",
        "laser",
        "sprinkler",
        "globex-sdk",
        "globex-cli",
    ],
    "initech": [
        "tps",
        "stapler",
        "printer",
        "bobs",
        "flair",
        "initech-infra",
        "lumbergh",
        "milton",
    ],
}
USER = "octocat"
USER_REPOS = ["hello-world", "dotfiles", "spoon-knife", "linguist-demo"]

# (platform, extension, content type, label)
PLATFORMS = [
    ("linux-amd64", "tar.gz", "application/gzip", "Linux (x86-64)"),
    ("linux-arm64", "tar.gz", "application/gzip", "Linux (ARM64)"),
    ("darwin-amd64", "tar.gz", "application/gzip", None),
    ("darwin-arm64", "zip", "application/zip", "macOS (Apple silicon)"),
    ("windows-amd64", "zip", "application/zip", None),
]
PACKAGES = [
    ("amd64.deb", "application/vnd.debian.binary-package"),
    ("x86_64.rpm", "application/x-rpm"),
    ("x64.msi", "application/x-msi"),
]
BOARDS = [
    "esp32",
    "esp32s3",
    "rp2040",
    "stm32f4",
    "nrf52840",
    "samd21",
    "imxrt1062",
    "atmega328p",
    "ch32v003",
    "gd32vf103",
    "k210",
]
VARIANTS = [
    "debug",
    "release",
    "secure",
    "lowpower",
    "factory",
    "recovery",
    "ota",
    "bootloader",
    "minimal",
    "full",
    "test",
    "bench",
]
# Owners whose releases a workflow publishes: their releases and assets are
# github-actions[bot]'s, as those of projects releasing from GitHub Actions are.
RELEASED_BY = {"globex": "github-actions[bot]"}
LATEST = datetime(2025, 8, 4, 9, 30, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Releases before this have no checksum file and no digest (GitHub began reporting
# asset digests in 2025).
DIGESTS_SINCE = datetime(2025, 6, 1, tzinfo=timezone.utc)
# The published release of this repository with a checksum file has a flawed one, for
# queries/checksum_audit.sql to find: its first line a wrong digest, its last line gone.
FLAWED_CHECKSUMS = "rocket"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _versions(rng: random.Random, count: int) -> list[str]:
    major, minor, patch = rng.choice([0, 1, 1, 2]), rng.randrange(0, 8), 0
    versions = []
    for _ in range(count):
        if rng.random() < 0.3:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        versions.append(f"{major}.{minor}.{patch}")
    return versions


def _release_assets(
    rng: random.Random, tool: str, version: str, with_checksums: bool, flawed: bool = False
) -> list:
    """(name, size, content type, label, content) for one ordinary release."""
    base = rng.randrange(3, 40) << 20
    assets = []
    for platform, ext, content_type, label in PLATFORMS:
        size = base + rng.randrange(0, 4 << 20)
        assets.append((f"{tool}-{version}-{platform}.{ext}", size, content_type, label, None))
    for suffix, content_type in PACKAGES[: rng.randrange(0, 4)]:
        size = base + rng.randrange(0, 8 << 20)
        assets.append((f"{tool}_{version}_{suffix}", size, content_type, None, None))
    if with_checksums:
        lines = [f"{GeneratedBlob(s).sha256()}  {n}\n" for n, s, *_ in assets]
        if flawed:
            lines = [f"{GeneratedBlob(1).sha256()}  {assets[0][0]}\n", *lines[1:-1]]
        name = rng.choice(["checksums.txt", "SHA256SUMS"])
        assets.append((name, None, "text/plain", None, "".join(lines).encode()))
        assets.append((f"{name}.sig", 566, "application/pgp-signature", None, None))
    return assets


def _firmware_assets(version: str) -> list:
    """The big release: one image per board and variant (132 assets)."""
    return [
        (
            f"firmware-{version}-{board}-{variant}.bin",
            (64 + 7 * i) << 10,
            "application/octet-stream",
            None,
            None,
        )
        for i, (board, variant) in enumerate((b, v) for b in BOARDS for v in VARIANTS)
    ]


def seed_demo(emu: Emulator) -> None:
    """Fill ``emu`` with the demo data (the same every time)."""
    rng = random.Random(1234)
    for org in ORGS:
        emu.add_org(org)
    emu.add_user(USER)
    emu.add_bot("github-actions")
    drafts = 0
    for owner, names in [*ORGS.items(), (USER, USER_REPOS)]:
        for index, tool in enumerate(names):
            draft = index % 4 == 1 and drafts < 6
            drafts += draft
            dates = _release_dates(rng)
            emu.add_repo(
                owner,
                tool,
                description=f"{tool.replace('-', ' ').title()} by {owner}",
                private=index == 5,
                archived=index == 7,
                fork=owner == USER and index == 2,
                created_at=_iso(dates[0] - timedelta(days=rng.randrange(10, 200))),
                pushed_at=_iso(dates[-1]),
            )
            _seed_releases(emu, rng, owner, tool, dates, draft)


def _release_dates(rng: random.Random) -> list[datetime]:
    """Oldest first; the newest falls between August and November 2025."""
    moment = LATEST + timedelta(days=rng.randrange(0, 120), seconds=rng.randrange(0, 86400))
    dates = [moment]
    for _ in range(rng.randrange(2, 6)):
        moment -= timedelta(days=rng.randrange(30, 160), seconds=rng.randrange(0, 86400))
        dates.append(moment)
    return dates[::-1]


def _seed_releases(
    emu: Emulator, rng: random.Random, owner: str, tool: str, dates: list[datetime], draft: bool
) -> None:
    versions = _versions(rng, len(dates))
    for number, (version, moment) in enumerate(zip(versions, dates, strict=True)):
        last = number == len(versions) - 1
        prerelease = last and rng.random() < 0.35
        tag = f"v{version}-rc.1" if prerelease else f"v{version}"
        is_draft = draft and last
        release = emu.add_release(
            owner,
            tool,
            tag,
            name=f"{tool} {tag}",
            body=f"Changes in {tag}.",
            prerelease=prerelease,
            draft=is_draft,
            created_at=_iso(moment),
            author=RELEASED_BY.get(owner),
        )
        recent = moment >= DIGESTS_SINCE
        if tool == "firmware" and last:
            assets = _firmware_assets(version)
        else:
            flawed = tool == FLAWED_CHECKSUMS and not is_draft
            assets = _release_assets(rng, tool, tag.lstrip("v"), recent, flawed)
        age = max(1, (NOW - moment).days)
        no_digest = {} if recent else {"digest": None}
        for name, size, content_type, label, content in assets:
            emu.add_asset(
                owner,
                tool,
                release["id"],
                name,
                size=size,
                content=content,
                content_type=content_type,
                label=label,
                download_count=0 if is_draft else rng.randrange(0, 40 * age),
                created_at=_iso(moment),
                **no_digest,
            )
        if recent and rng.random() < 0.2:
            # An upload that failed half-way: GitHub keeps an empty `starter` asset.
            emu.add_asset(
                owner,
                tool,
                release["id"],
                f"{tool}-{tag.lstrip('v')}-freebsd-amd64.tar.gz",
                content=b"",
                content_type="application/gzip",
                state="starter",
                created_at=_iso(moment),
            )
