"""Files sfcred writes: 0700 folders, 0600 files set at creation, atomic replace, timed locks."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sfcred.errors import ConfigError

LOCK_TIMEOUT = 30.0


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("sfcred", appauthor=False))


def private_dir(path: Path) -> Path:
    """Create ``path`` as 0700, or check that an existing one is ours and not open to others."""
    old = os.umask(0o077)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    finally:
        os.umask(old)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{path} is not a folder")
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid():
            raise ConfigError(f"{path} belongs to another user; refusing to use it")
        if st.st_mode & 0o077:
            os.chmod(path, 0o700)  # our own folder, made loose by hand: tighten it
    return path


def atomic_write(path: Path, data: str | bytes, *, private: bool = True) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``.

    ``private``: the folder is made 0700 and the file stays 0600 from creation (mkstemp).
    Otherwise (a certificate the user asked for) the folder is left alone and the file is 0644.
    """
    if private:
        private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        if not private:
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """A cross-process lock (flock); the OS drops it when a holder dies, even by SIGKILL."""
    from filelock import FileLock, Timeout

    private_dir(path.parent)
    lock = FileLock(str(path), timeout=timeout, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(
            f"timed out after {timeout:.0f}s waiting for the lock {path}",
            hint="another sfcred process holds it; if none is running, try again",
        ) from None
    try:
        yield
    finally:
        lock.release()
