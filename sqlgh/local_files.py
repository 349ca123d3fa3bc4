"""Local files sqlgh reads and writes: regular files only, and upload bodies that keep
their size.

``readfile()`` and ``INSERT ... path`` read what the user names. A device never ends
(``/dev/zero`` would fill memory), a FIFO blocks until some writer comes, and a directory
has no bytes: only regular files are read. An upload announces its ``Content-Length``
before it sends the file, so a file that changes size meanwhile must stop the upload.
``download()`` replaces only a regular file (renaming onto a FIFO, a socket or, as root,
``/dev/null`` would replace it), through a temporary file created as any new file is.
"""

from __future__ import annotations

import os
import secrets
import stat
from typing import BinaryIO

from sqlgh.errors import InputError, SqlghError

# Opening a FIFO for reading blocks until a writer opens it; O_NONBLOCK returns at once.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def checked_path(path: str, where: str) -> str:
    """``path`` itself, when it can name a file; InputError naming ``where`` for a NUL
    character, which no file name holds (``open`` would raise ValueError)."""
    if ("\0" if isinstance(path, str) else b"\0") in path:
        raise InputError(
            f"{where}: the path {path!r} holds a NUL character, which no file name can; "
            "give the path without it"
        )
    return path


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def refuse_to_replace(target: str, where: str) -> None:
    """InputError, naming ``where``, when ``target`` exists and is not a regular file (a
    symbolic link included: renaming onto it would replace the link, not its file)."""
    try:
        mode = os.lstat(target).st_mode
    except OSError:  # missing, or not reachable: creating the file will say why
        return
    if not stat.S_ISREG(mode):
        raise InputError(
            f"{where}: {target!r} is {_kind(mode)}, not a regular file; sqlgh replaces only "
            "regular files: give another file path, or a directory"
        )


def create_beside(target: str) -> tuple[int, str]:
    """A new, empty temporary file (descriptor, path) in ``target``'s directory, made as
    any new file is: mode 0666 less the umask (``tempfile.mkstemp`` makes 0600)."""
    directory = os.path.dirname(target) or "."
    while True:
        path = os.path.join(directory, f".sqlgh-{secrets.token_hex(8)}.part")
        try:
            return os.open(path, _CREATE_FLAGS, 0o666), path
        except FileExistsError:  # another file of that name: draw again
            continue


def open_regular(path: str, where: str) -> BinaryIO:
    """Open ``path`` for reading, provided it is a regular file (a symlink to one will do).

    Raises OSError as ``open`` does (missing, no permission) and InputError, naming
    ``where`` (the function or column), for anything that is not a regular file. The
    check is made on the open file, so the path cannot be swapped between check and read.
    """
    descriptor = os.open(checked_path(path, where), _OPEN_FLAGS)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(
                f"{where}: {path!r} is {_kind(mode)}, not a regular file; sqlgh reads only "
                "regular files (copy the bytes to a file first)"
            )
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


class FileChanged(SqlghError):
    """A file changed size while it was being uploaded (or could no longer be read)."""


class SizedBody:
    """The bytes of a regular file as an upload body of exactly ``size`` bytes.

    The request says ``Content-Length: size`` before the body goes out. A file that
    shrinks would leave the server waiting for bytes that never come; one that grows would
    be cut at ``size`` and reported as uploaded. Either raises FileChanged from ``read``
    instead, before the last bytes are handed over, so the server never receives a whole
    body (and so never completes the asset). After the last bytes, nothing is raised: the
    server may already have them all, and a file that grows afterwards was uploaded as it
    was.
    """

    def __init__(self, path: str, size: int, where: str) -> None:
        self._path, self._size, self._where = path, size, where
        try:
            self._file = open_regular(path, where)
        except OSError as exc:
            raise FileChanged(
                f"{where}: {path!r} was {size} bytes when the statement began and can no "
                f"longer be read ({exc.strerror or exc})"
            ) from exc
        self._left = size
        self._handed_over = False
        if self._current_size() != size:  # changed since the statement began
            error = self._changed()
            self.close()
            raise error

    def read(self, n: int | None = -1) -> bytes:
        """Up to ``n`` bytes (all that are left when ``n`` is None or negative)."""
        if self._handed_over:
            return b""
        wanted = self._left if n is None or n < 0 else min(n, self._left)
        chunk = self._file.read(wanted)
        self._left -= len(chunk)
        if (wanted and not chunk) or (not self._left and self._file.read(1)):
            raise self._changed()  # ended early, or goes on past ``size``
        self._handed_over = not self._left
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move like the file (a request resent after a rate limit rewinds its body)."""
        position = self._file.seek(offset, whence)
        self._left = max(0, self._size - position)
        self._handed_over = False
        return position

    def tell(self) -> int:
        """The file's position."""
        return self._file.tell()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> SizedBody:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _current_size(self) -> int:
        return os.fstat(self._file.fileno()).st_size

    def _changed(self) -> FileChanged:
        now = self._current_size()
        if now == self._size:
            how = f"was rewritten ({now} bytes)"
        else:
            how = f"{'grew' if now > self._size else 'shrank'} from {self._size} to {now} bytes"
        return FileChanged(f"{self._where}: {self._path!r} {how} while it was being uploaded")
