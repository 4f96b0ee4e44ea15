"""Files we create that hold cluster data or credentials are private from the first byte.

The mode is given to `os.open`/`os.mkdir` at creation (0600 files, 0700 directories), never
set by a chmod after the content is written, so no other user can open the file in between,
whatever the umask. A file that already exists and is readable by others is narrowed before
anything more is written to it. A file we hand out by name (`create_new`) is created new,
never written through a file or symlink someone planted first. Key material TLS must read
from a path (`material_path`) does not outlive the process.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
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


def create_new(path: Path, *, replace: bool = False) -> NewFile:
    """A file that we create at `path` (0600, owned by us), for `with ... as f:`.

    Without `replace` the path must not exist: it is opened O_CREAT|O_EXCL|O_NOFOLLOW, so a
    file or a symlink planted there beforehand (in a shared /tmp, say) is refused, never
    written through. With `replace` an existing regular file is replaced: the data goes to a
    new temporary file beside it, renamed over it when complete (a symlink is still refused:
    replacing one would write where it points for a reader that follows it).
    FileExistsError when the path is taken; the file is removed if the block fails.
    """
    return NewFile(path, replace)


class NewFile:
    def __init__(self, path: Path, replace: bool) -> None:
        self.path = path
        self.replace = replace
        self._tmp: str | None = None
        self._file: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        if self.replace and os.path.lexists(self.path):
            st = os.lstat(self.path)
            if not stat.S_ISREG(st.st_mode):
                what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
                raise FileExistsError(f"{self.path} is {what}")
            # mkstemp: O_CREAT|O_EXCL, 0600, a name nobody could have planted
            fd, self._tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        else:
            fd = os.open(self.path, flags, FILE_MODE)
        self._file = os.fdopen(fd, "wb")
        return self._file

    def __exit__(self, exc_type: object, *rest: object) -> None:
        assert self._file is not None
        written = self._tmp or str(self.path)
        try:
            self._file.close()
            if exc_type is None and self._tmp is not None:
                os.replace(self._tmp, self.path)
                self._tmp = None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(written)
            raise
        if exc_type is not None:
            with contextlib.suppress(OSError):
                os.unlink(written)  # no half-written file left behind


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


# ---------------------------------------------------------------------------- key material

_MATERIAL: dict[bytes, str] = {}
_MATERIAL_LOCK = threading.Lock()
_TEMP_FILES: list[str] = []


def material_path(content: bytes, what: str = "tls") -> str:
    """A path TLS can load `content` from (a client key, a certificate: Python's ssl takes
    paths only) that does not outlive the process.

    Where the system has anonymous memory files (Linux memfd) the content is never written to
    a file system: the path is /proc/self/fd/N of a close-on-exec memory file of this process.
    Elsewhere it is a 0600 temporary file, removed at exit and on SIGTERM and SIGHUP. The same
    content gets the same path (one memory file per key, however many connections)."""
    import hashlib

    digest = hashlib.sha256(content).digest()
    with _MATERIAL_LOCK:
        known = _MATERIAL.get(digest)
        if known is not None and os.path.exists(known):
            return known
        path = _in_memory(content, what) or _temporary(content, what)
        _MATERIAL[digest] = path
        return path


def _in_memory(content: bytes, what: str) -> str | None:
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd = memfd_create(f"kubectl-vip-{what}", getattr(os, "MFD_CLOEXEC", 1))
    except OSError:
        return None
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]
    return f"/proc/self/fd/{fd}"


def _temporary(content: bytes, what: str) -> str:
    fd, name = tempfile.mkstemp(prefix=f"kubectl-vip-{what}-")  # 0600
    if not _TEMP_FILES:
        import atexit

        atexit.register(remove_temporary_material)
        _remove_on_signals()
    _TEMP_FILES.append(name)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    return name


def remove_temporary_material() -> None:
    for name in _TEMP_FILES:
        with contextlib.suppress(OSError):
            os.remove(name)
    _TEMP_FILES.clear()


def _remove_on_signals() -> None:
    """SIGTERM and SIGHUP end the process without atexit: remove the files first, then end
    as the signal would have (or as the handler already in place says)."""
    import signal

    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is None:
            continue
        try:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue

            def handler(num: int, frame: Any, previous: Any = previous) -> None:
                remove_temporary_material()
                if callable(previous):
                    previous(num, frame)
                    return
                signal.signal(num, signal.SIG_DFL)
                os.kill(os.getpid(), num)

            signal.signal(signum, handler)
        except ValueError:  # not the main thread: atexit only
            return
