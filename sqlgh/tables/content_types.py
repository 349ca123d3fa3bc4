"""Content types for uploads: common release files first, then ``mimetypes``."""

from __future__ import annotations

import mimetypes

RELEASE_FILE_TYPES: tuple[tuple[str, str], ...] = (
    (".tar.gz", "application/gzip"),
    (".tgz", "application/gzip"),
    (".gz", "application/gzip"),
    (".tar.bz2", "application/x-bzip2"),
    (".bz2", "application/x-bzip2"),
    (".tar.xz", "application/x-xz"),
    (".xz", "application/x-xz"),
    (".zip", "application/zip"),
    (".deb", "application/vnd.debian.binary-package"),
    (".rpm", "application/x-rpm"),
    (".dmg", "application/x-apple-diskimage"),
    (".msi", "application/x-msi"),
    (".exe", "application/vnd.microsoft.portable-executable"),
    (".appimage", "application/vnd.appimage"),
    (".txt", "text/plain"),
    (".json", "application/json"),
    (".sig", "application/pgp-signature"),
    (".asc", "application/pgp-signature"),
    (".sha256", "text/plain"),
)
DEFAULT = "application/octet-stream"


def guess_content_type(name: str) -> str:
    """The content type for an asset name: release-file table, then mimetypes, then binary."""
    lowered = name.lower()
    for suffix, content_type in RELEASE_FILE_TYPES:
        if lowered.endswith(suffix):
            return content_type
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT
