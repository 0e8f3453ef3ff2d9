"""Files sfcred reads, checked before they are trusted or even waited on: the token cache's
folder and files (``folder_problem``, ``read_private``: lstat, owner, mode, no links followed)
and any file a user or another tool controls (``read_regular``). Every open is O_NONBLOCK and
refused unless it is a regular file, read up to a cap: a FIFO planted anywhere sfcred reads
ends the command with a named error instead of hanging it (and the lock it may hold). And
the rule for a profile name (``check_name``), since a name becomes a file's and a keyring
item's name.

On the warm path of ``get``: nothing heavy is imported at module level.
"""

from __future__ import annotations

import os
import sys

from sfcred.errors import ConfigError, InputError


def folder_problem(path: str) -> tuple[str, bool] | None:
    """Why the cache folder ``path`` must not be trusted, and whether it may be repaired (it is
    ours, only too open); None when it is fine or does not exist yet (the first write creates
    it 0700). lstat: a link is refused, not followed."""
    import stat

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"the token cache folder {path} cannot be checked ({e.strerror})", False
    if not stat.S_ISDIR(st.st_mode):
        return f"the token cache folder {path} is not a folder", False
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid():
            return (f"the token cache folder {path} belongs to another user "
                    f"(uid {st.st_uid})"), False
        if st.st_mode & 0o077:
            return (f"the token cache folder {path} was open to others "
                    f"(mode {stat.S_IMODE(st.st_mode):04o})"), True
    return None


def read_private(path: str, limit: int) -> bytes | None:
    """The bytes of ``path`` (at most ``limit``) if it is a regular file of ours, 0600; None
    otherwise. Opened with O_NOFOLLOW (a planted link is not followed) and O_NONBLOCK (a FIFO
    cannot hang)."""
    import stat

    try:
        fd = _open_nonblocking(path, follow=False)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077):
            return None
        return _read_upto(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


class NotRegular(ConfigError):
    """A path that must be a regular file is a folder, a FIFO, a socket or a device."""


def read_regular(path: str, limit: int, what: str) -> bytes:
    """The bytes of ``path``, a file a user or another tool controls (a key file, the Salesforce
    CLI's files, the profile index): opened with O_NONBLOCK, so a FIFO or a device cannot hang
    the read, and refused (ConfigError naming ``what``) unless it is a regular file of at most
    ``limit`` bytes. Links are followed: a key is often a link (a Kubernetes secret mount).
    OSError (a missing file, no permission) is the caller's to word."""
    import stat

    fd = _open_nonblocking(path, follow=True)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a folder" if stat.S_ISDIR(st.st_mode) else
                    "a FIFO" if stat.S_ISFIFO(st.st_mode) else
                    "a socket" if stat.S_ISSOCK(st.st_mode) else "a device")
            raise NotRegular(f"cannot read {what} {path}: it is {kind}, not a regular file")
        data = _read_upto(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ConfigError(f"cannot read {what} {path}: it is over {limit >> 10} KiB")
    return data


def key_values(raw: bytes) -> dict[str, str] | None:
    """A file of ``key=value`` lines (a cached token, a failure record, a login count), or
    None when ``raw`` is not one."""
    try:
        return dict(line.split("=", 1) for line in raw.decode("utf-8").split("\n") if line)
    except (ValueError, UnicodeDecodeError):
        return None


def key_value_lines(fields: dict[str, str]) -> bytes:
    """``fields`` as ``key=value`` lines, as ``key_values`` reads them back (no value may hold
    a line break: the caller's to check)."""
    return "".join(f"{k}={v}\n" for k, v in fields.items()).encode()


def _open_nonblocking(path: str, *, follow: bool) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags)


def _read_upto(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes: read until the end or the limit (one read may return less)."""
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def stamp(path: str) -> tuple[int, ...] | None:
    """A file's identity now (device, inode, size, mtime), or None when it is not there: an
    atomic replace or any write changes it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


# Where sfcred's files are (the warm path needs these, and not fsutil's writers).
def config_dir() -> str:
    override = os.environ.get("SFCRED_CONFIG_DIR")
    if override:
        return override
    if os.name == "posix" and "darwin" not in sys.platform:
        # What platformdirs answers on Linux, without its import on the warm path.
        base = os.environ.get("XDG_CONFIG_HOME", "").strip()
        if not os.path.isabs(base):
            base = os.path.expanduser("~/.config")
        return os.path.join(base, "sfcred")
    import platformdirs

    return platformdirs.user_config_dir("sfcred", appauthor=False)


def cache_dir() -> str:
    if os.name == "posix" and "darwin" not in sys.platform:
        base = os.environ.get("XDG_CACHE_HOME", "").strip()  # as platformdirs on Linux
        if not os.path.isabs(base):
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, "sfcred")
    import platformdirs

    return platformdirs.user_cache_dir("sfcred", appauthor=False)


def runtime_dir() -> str | None:
    """``$XDG_RUNTIME_DIR/sfcred`` when that is an absolute folder of this user with no group
    or other bits; else None (the sealed cache on disk is used)."""
    value = os.environ.get("XDG_RUNTIME_DIR")
    if not value or not os.path.isabs(value):
        return None
    try:
        st = os.stat(value)
    except OSError:
        return None
    import stat

    if not stat.S_ISDIR(st.st_mode) or (
            hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077)):
        return None
    return os.path.join(value, "sfcred")


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def check_name(name: str) -> str:
    """Safe in every keyring's item name and as a file name: no separators, no spaces."""
    if not (0 < len(name) <= 64 and name[0].isascii() and name[0].isalnum()
            and _NAME_CHARS.issuperset(name)):
        raise InputError(f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit")
    return name
