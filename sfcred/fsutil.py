"""Files sfcred writes: 0700 folders, 0600 files set at creation, atomic replace, timed locks.
What it reads back is checked in ``fsread``.

On the warm path of ``get``: nothing heavy is imported at module level.
"""

from __future__ import annotations

import os

from sfcred.errors import ConfigError
from sfcred.fsread import cache_dir as cache_dir
from sfcred.fsread import config_dir as config_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType



def private_dir(path: str | Path) -> str:
    """Create ``path`` as 0700, or check that an existing one is ours and not open to others."""
    import stat

    path = os.fspath(path)
    old = os.umask(0o077)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
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


def atomic_write(path: str | Path, data: str | bytes, *, private: bool = True) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``.

    ``private``: the folder is made 0700 and the file stays 0600 from creation (mkstemp).
    Otherwise (a certificate the user asked for) the folder is left alone and the file is 0644.
    """
    import tempfile

    path = os.fspath(path)
    parent, name = os.path.split(path)
    parent = parent or "."
    if private:
        private_dir(parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=parent)
    try:
        if not private and hasattr(os, "fchmod"):  # POSIX only; Windows has no modes
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105  # contextlib stays off the warm path
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove(path: str | Path) -> None:
    try:  # noqa: SIM105  # contextlib stays off the warm path
        os.unlink(path)
    except FileNotFoundError:
        pass


class LockTimeout(ConfigError):
    """Another process held the lock for the whole wait."""


class Lock:
    """A cross-process lock with a timeout: ``flock`` on POSIX, ``msvcrt.locking`` on Windows,
    on a 0600 file that is opened without following links. The OS drops it when its holder
    dies, even by SIGKILL, so a crashed holder never blocks the others.

    Hand-written on purpose: ``filelock`` 4.3 took 50-60 ms to import here
    (``python -X importtime -c "import filelock"``: it pulls in inspect, ast, logging and
    pathlib), paid by every process of a stampede; ``fcntl`` takes 0.4 ms. Waiters poll, from
    5 ms growing to 50 ms, as filelock did (50 ms)."""

    def __init__(self, path: str | Path, timeout: float) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._fd: int | None = None

    def _open(self) -> int:
        private_dir(os.path.dirname(self.path))
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        return os.open(self.path, flags, 0o600)

    def hold(self) -> bool:
        """Take the lock if it is free now (never waits) and keep it for this object's next
        ``with``, which adopts it and releases it as usual. False: another process holds it.
        The warm path of ``get`` holds a profile's lock this way from the moment it finds no
        FRESH token, and hands this object to the full path (``warm.Pass``), so no other
        process of a stampede starts on a mint while this one loads the mint path."""
        if self._fd is not None:
            return True  # held already
        fd = self._open()
        try:
            taken = _try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not taken:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let it go (a ``with`` does this on its way out)."""
        self.__exit__(None, None, None)

    def __del__(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:  # held and never adopted: the OS would drop it at exit anyway
            os.close(fd)

    def __enter__(self) -> Lock:
        import time

        if self._fd is not None:
            return self  # taken by hold(): adopted
        fd = self._open()
        give_up, pause = time.monotonic() + self.timeout, 0.005
        try:
            while not _try_lock(fd):
                left = give_up - time.monotonic()
                if left <= 0:
                    raise LockTimeout(
                        f"timed out after {self.timeout:g}s waiting for the lock {self.path}",
                        hint="another sfcred process holds it; if none is running, try again")
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.05)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


def _try_lock(fd: int) -> bool:
    """Take the lock on ``fd`` if it is free now (never blocks)."""
    import errno

    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK):
            return False
        raise
    return True


def _unlock(fd: int) -> None:
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass  # closing the file releases it anyway


class NoLock(Lock):
    """A lock that locks nothing: for a cache that cannot be used (see cache.NoCache)."""

    def __init__(self) -> None:
        super().__init__(os.devnull, 0)

    def hold(self) -> bool:
        return True

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


def file_lock(path: str | Path, timeout: float | None = None) -> Lock:
    """A lock on ``path``, waited for at most ``timeout`` seconds: by default the one wait
    every sfcred lock shares (``deadline.lock_wait``: a holder's whole mint and a little)."""
    if timeout is None:
        from sfcred.deadline import lock_wait

        timeout = lock_wait(None)
    return Lock(path, timeout)
