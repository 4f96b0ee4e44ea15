"""Files we create that hold cluster data or credentials are private from the first byte.

The mode is given to `os.open`/`os.mkdir` at creation (0600 files, 0700 directories), never
set by a chmod after the content is written, so no other user can open the file in between,
whatever the umask. A file that already exists and is readable by others is narrowed before
anything more is written to it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_dir(path: Path) -> Path:
    """`path` and missing parents; the directories this creates are 0700."""
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):  # a concurrent run made it first
            os.mkdir(d, DIR_MODE)
    return path


def _narrow(fd: int) -> None:
    st = os.fstat(fd)
    # only a regular file: `-o /dev/stdout` must not change a terminal's or a pipe's mode
    if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
        with contextlib.suppress(OSError):  # not ours to change: leave it
            os.fchmod(fd, stat.S_IMODE(st.st_mode) & ~0o077)


def open_private(path: Path, mode: str = "wb", **kw: Any) -> IO[Any]:
    """`open(path, mode)` for "w"/"a" modes (text or binary), created 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        _narrow(fd)
        return os.fdopen(fd, mode, **kw)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`: a reader sees the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
