"""Checksum files as releases publish them: ``SHA256SUMS``, ``checksums.txt``, ``*.sha256``.

Two line formats are read, as the tools that write them do:

- GNU coreutils (``sha256sum``): ``HEX  FILE``, or ``HEX *FILE`` for binary mode; a line
  starting with a backslash has ``\\\\``, ``\\n`` and (coreutils 9.1) ``\\r`` escapes in
  its file name
  (coreutils manual, "md5sum invocation": https://www.gnu.org/software/coreutils/manual/
  html_node/md5sum-invocation.html).
- BSD tagged (``sha256sum --tag``, ``shasum --tag``, ``openssl dgst``):
  ``SHA256 (FILE) = HEX``, and ``SHA256(FILE)= HEX`` from openssl; coreutils starts a
  tagged line with the same backslash, and escapes its file name the same way.

A ``*.sha256`` or ``*.sha512`` file for one asset may hold the digest alone; its file is
then the checksum file's own name without the suffix. Blank lines and ``#`` comments are
skipped; CRLF line ends and a UTF-8 byte-order mark are accepted. The algorithm is the BSD
tag, else the one a GNU digest's length tells (32 hex digits md5, 40 sha1, 64 sha256,
128 sha512).

The file comes from a release, so from anyone who could upload one: it is refused above
``MAX_FILE_SIZE`` bytes, ``MAX_LINES`` lines or ``MAX_LINE_LENGTH`` characters a line, and
when it is not UTF-8 text, before any line is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_FILE_SIZE = 4 << 20  # a release holds at most 1000 assets: ~200 bytes a line is 200 KB
MAX_LINES = 20_000
MAX_LINE_LENGTH = 4_096  # a file name up to PATH_MAX, and 128 hex digits
ALGORITHM_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
SUFFIXES = {
    ".sha256": "sha256",
    ".sha512": "sha512",
    ".sha256sum": "sha256",
    ".sha512sum": "sha512",
}

_GNU = re.compile(r"(?P<hex>[0-9A-Fa-f]+) (?P<mode>[ *])(?P<file>.+)")
_GNU_SINGLE_SPACE = re.compile(r"(?P<hex>[0-9A-Fa-f]+) (?P<file>[^ *].*)")  # some tools
_BSD = re.compile(r"(?P<tag>[A-Za-z0-9-]+) ?\((?P<file>.+)\) ?= ?(?P<hex>[0-9A-Fa-f]+)")
_HEX_ALONE = re.compile(r"(?P<hex>[0-9A-Fa-f]+)")
_BSD_TAGS = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "SHA512": "sha512",
    "SHA2-256": "sha256",
    "SHA2-512": "sha512",
}
_ESCAPED = {"n": "\n", "r": "\r"}  # a GNU escape's letter -> the character
_HEX_LENGTH = {algorithm: length for length, algorithm in ALGORITHM_BY_LENGTH.items()}


class ChecksumFileError(ValueError):
    """A checksum file that cannot be read: too large, not text, or a line not understood."""


@dataclass(frozen=True)
class Entry:
    """One checksum line: the file it names, the algorithm and the expected hex digest."""

    file: str
    algorithm: str
    expected: str
    line: int


def is_checksum_file(name: str) -> bool:
    """Whether an asset's name is one sqlgh reads as a checksum file: ``SHA256SUMS``,
    ``SHA512SUMS``, ``*checksums*.txt``, ``*.sha256``, ``*.sha512`` (any case)."""
    lower = name.lower()
    return (
        lower in ("sha256sums", "sha512sums", "sha256sums.txt", "sha512sums.txt")
        or (("checksums" in lower or "checksum" in lower) and lower.endswith(".txt"))
        or lower.endswith(tuple(SUFFIXES))
    )


def parse(content: bytes, source: str) -> list[Entry]:
    """The entries of a checksum file called ``source``; ChecksumFileError when it is
    refused (the message names the file, the line and what is wrong)."""
    if len(content) > MAX_FILE_SIZE:
        raise ChecksumFileError(
            f"{source} is {len(content)} bytes, more than a checksum file may be "
            f"({MAX_FILE_SIZE} bytes)"
        )
    if b"\0" in content:
        raise ChecksumFileError(f"{source} is not a text file (it holds NUL bytes)")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChecksumFileError(
            f"{source} is not UTF-8 text (byte {exc.start} cannot be decoded)"
        ) from None
    return list(_entries(text, source))


def _entries(text: str, source: str) -> Iterator[Entry]:
    count = text.count("\n") + (not text.endswith("\n"))
    if count > MAX_LINES:
        raise ChecksumFileError(f"{source} has {count} lines, more than {MAX_LINES}")
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if len(line) > MAX_LINE_LENGTH:
            raise ChecksumFileError(
                f"{source}, line {number}: {len(line)} characters, more than a checksum "
                f"line may hold ({MAX_LINE_LENGTH})"
            )
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield _entry(line, number, source)


def _entry(line: str, number: int, source: str) -> Entry:
    # The escape mark starts a tagged line too: coreutils 9.1's ``sha256sum --tag`` writes
    # ``\SHA256 (a\\b.txt) = HEX`` for a file named ``a\b.txt``.
    escaped = line.startswith("\\")
    body = line[1:] if escaped else line
    bsd = _BSD.fullmatch(body.strip())
    if bsd is not None:
        tag = bsd["tag"].upper()
        if tag not in _BSD_TAGS:
            raise _not_understood(source, number, line, f"unknown algorithm {bsd['tag']!r}")
        file = _unescape(bsd["file"]) if escaped else bsd["file"]
        return _checked(file, _BSD_TAGS[tag], bsd["hex"], number, source, line)
    gnu = _GNU.fullmatch(body) or _GNU_SINGLE_SPACE.fullmatch(body)
    if gnu is not None:
        file = _unescape(gnu["file"]) if escaped else gnu["file"]
        algorithm = _by_length(gnu["hex"], source, number, line)
        return _checked(file, algorithm, gnu["hex"], number, source, line)
    alone = _HEX_ALONE.fullmatch(line.strip())
    single = _single_file(source)
    if alone is not None and single is not None:
        file, algorithm = single
        return _checked(file, algorithm, alone["hex"], number, source, line)
    raise _not_understood(source, number, line, "neither 'HEX  FILE' nor 'ALGO (FILE) = HEX'")


def _checked(
    file: str, algorithm: str, hex_digest: str, number: int, source: str, line: str
) -> Entry:
    expected = hex_digest.lower()
    wanted = _HEX_LENGTH[algorithm]
    if len(expected) != wanted:
        why = f"a {algorithm} digest has {wanted} hex digits, not {len(expected)}"
        raise _not_understood(source, number, line, why)
    return Entry(file=file, algorithm=algorithm, expected=expected, line=number)


def _by_length(hex_digest: str, source: str, number: int, line: str) -> str:
    algorithm = ALGORITHM_BY_LENGTH.get(len(hex_digest))
    if algorithm is None:
        raise _not_understood(
            source, number, line, f"{len(hex_digest)} hex digits are no known digest's length"
        )
    return algorithm


def _single_file(source: str) -> tuple[str, str] | None:
    """``tool.tar.gz.sha256`` -> ("tool.tar.gz", "sha256"); None for another name."""
    for suffix, algorithm in SUFFIXES.items():
        if source.lower().endswith(suffix) and len(source) > len(suffix):
            return source[: -len(suffix)], algorithm
    return None


def _unescape(name: str) -> str:
    """A GNU escaped file name: ``\\\\`` is a backslash, ``\\n`` a newline and ``\\r`` a
    carriage return (coreutils 9.1 writes ``\\r`` for one)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPED.get(m[1], m[1]), name)


def _not_understood(source: str, number: int, line: str, why: str) -> ChecksumFileError:
    shown = line if len(line) <= 80 else line[:77] + "..."
    return ChecksumFileError(f"{source}, line {number}: {why}: {shown!r}")
