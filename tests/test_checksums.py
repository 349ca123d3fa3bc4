"""The checksum-file parser: GNU and BSD formats, and files nobody should have to read."""

from __future__ import annotations

import hashlib
import time

import pytest

from sqlgh.checksums import (
    MAX_FILE_SIZE,
    MAX_LINE_LENGTH,
    MAX_LINES,
    ChecksumFileError,
    Entry,
    is_checksum_file,
    parse,
)

A = hashlib.sha256(b"a").hexdigest()
B = hashlib.sha256(b"b").hexdigest()
LONG = hashlib.sha512(b"a").hexdigest()


def entries(text: str | bytes, source: str = "SHA256SUMS") -> list[tuple[str, str, str, int]]:
    content = text.encode() if isinstance(text, str) else text
    return [(e.file, e.algorithm, e.expected, e.line) for e in parse(content, source)]


def test_gnu_lines_text_and_binary_mode() -> None:
    text = f"{A}  tool-linux.tar.gz\n{B} *tool windows.zip\n"
    assert entries(text) == [
        ("tool-linux.tar.gz", "sha256", A, 1),
        ("tool windows.zip", "sha256", B, 2),
    ]


def test_crlf_blank_lines_comments_and_a_byte_order_mark() -> None:
    text = f"\ufeff# made by release.sh\r\n\r\n{A.upper()}  a.tgz\r\n   \r\n# end\r\n"
    assert entries(text) == [("a.tgz", "sha256", A, 3)]


def test_bsd_tagged_lines_as_shasum_and_openssl_write_them() -> None:
    text = f"SHA256 (a.tgz) = {A}\nSHA512(b (1).zip)= {LONG}\nMD5 (c) = {'0' * 32}\n"
    assert entries(text, "checksums.txt") == [
        ("a.tgz", "sha256", A, 1),
        ("b (1).zip", "sha512", LONG, 2),
        ("c", "md5", "0" * 32, 3),
    ]


def test_the_algorithm_follows_the_digest_length() -> None:
    text = f"{LONG}  big.iso\n{'ab' * 20}  old.zip\n"
    assert [e[1] for e in entries(text)] == ["sha512", "sha1"]


def test_gnu_escaped_names() -> None:
    assert entries(f"\\{A}  dir\\\\odd\\nname\n") == [("dir\\odd\nname", "sha256", A, 1)]


def test_a_single_file_checksum_holds_the_digest_alone() -> None:
    assert entries(f"{A}\n", "tool.tar.gz.sha256") == [("tool.tar.gz", "sha256", A, 1)]
    assert entries(f"{A}  tool.tar.gz\n", "tool.tar.gz.sha256") == [
        ("tool.tar.gz", "sha256", A, 1)
    ]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (f"{A[:-1]}  a.tgz", "63 hex digits are no known digest's length"),
        (f"SHA256 (a.tgz) = {LONG}", "a sha256 digest has 64 hex digits, not 128"),
        (f"CRC32 (a.tgz) = {A}", "unknown algorithm 'CRC32'"),
        ("<html>Not Found</html>", "neither 'HEX  FILE' nor 'ALGO (FILE) = HEX'"),
        (A, "neither 'HEX  FILE' nor 'ALGO (FILE) = HEX'"),  # no file: not a *.sha256
    ],
)
def test_a_line_not_understood_is_named(line: str, why: str) -> None:
    with pytest.raises(ChecksumFileError) as failure:
        parse(f"{B}  ok.zip\n{line}\n".encode(), "checksums.txt")
    assert str(failure.value).startswith(f"checksums.txt, line 2: {why}: ")


def test_hostile_files_are_refused_quickly_with_a_clear_error() -> None:
    started = time.monotonic()
    million = A.encode() + b"  x\n" + b"\n" * 999_999  # 10^6 lines, 1 MB
    cases = {
        "has 1000000 lines, more than 20000": million,
        "is not a text file (it holds NUL bytes)": b"\x7fELF\x02\x01\x00\x00" * 1000,
        "is not UTF-8 text (byte 69 cannot be decoded)": f"{A}  caf\xe9".encode("latin-1"),
        f"more than a checksum file may be ({MAX_FILE_SIZE} bytes)": b"a" * (MAX_FILE_SIZE + 1),
    }
    for message, content in cases.items():
        with pytest.raises(ChecksumFileError, match=r"^SHA256SUMS ") as failure:
            parse(content, "SHA256SUMS")
        assert message in str(failure.value)
    with pytest.raises(ChecksumFileError) as failure:
        parse(f"{A}  {'x' * MAX_LINE_LENGTH}\n".encode(), "SHA256SUMS")
    assert f"line 1: {MAX_LINE_LENGTH + 66} characters, more than" in str(failure.value)
    assert time.monotonic() - started < 2


def test_the_limits_still_take_the_largest_release() -> None:
    # 1000 assets (GitHub's most per release) with long names, sha512 digests
    text = "".join(f"{LONG} *{'n' * 200}-{i}.tar.gz\n" for i in range(1000))
    assert len(text) < MAX_FILE_SIZE and MAX_LINES > 1000
    assert len(parse(text.encode(), "SHA512SUMS")) == 1000


def test_entries_keep_their_line_numbers() -> None:
    assert parse(f"\n{A}  a\n".encode(), "x.txt") == [Entry("a", "sha256", A, 2)]


@pytest.mark.parametrize(
    "name",
    [
        "SHA256SUMS",
        "sha512sums",
        "checksums.txt",
        "tool_1.0_checksums.txt",
        "a.tgz.sha256",
        "A.ZIP.SHA512",
        "SHA256SUMS.txt",
    ],
)
def test_checksum_file_names(name: str) -> None:
    assert is_checksum_file(name)


@pytest.mark.parametrize(
    "name", ["SHA256SUMS.sig", "checksums.txt.asc", "tool.tar.gz", "checksums.json", "notes.txt"]
)
def test_other_names(name: str) -> None:
    assert not is_checksum_file(name)


def test_bsd_tagged_escaped_names_as_coreutils_writes_them() -> None:
    # Bytes of GNU coreutils 9.1 `sha256sum --tag` for files named a\b.txt and new<LF>line.txt.
    text = f"\\SHA256 (a\\\\b.txt) = {A}\n\\SHA256 (new\\nline.txt) = {B}\n"
    assert entries(text) == [
        ("a\\b.txt", "sha256", A, 1),
        ("new\nline.txt", "sha256", B, 2),
    ]


def test_a_carriage_return_escaped_in_a_name_as_coreutils_writes_it() -> None:
    # GNU coreutils 9.1 `sha256sum` for a file named cr<CR>name.txt, plain and tagged.
    text = f"\\{A}  cr\\rname.txt\n\\SHA256 (cr\\rname.txt) = {A}\n"
    assert [e[0] for e in entries(text)] == ["cr\rname.txt", "cr\rname.txt"]
