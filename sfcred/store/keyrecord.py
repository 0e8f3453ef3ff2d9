"""The remembered keyring backend (``keyfind``'s record): where it is kept, what basis it rests
on, and reading and writing it. Which backend may be remembered is ``keyfind``'s to say.

A record is ``keyring-backend-DIGEST.json`` in sfcred's runtime dir (else its cache dir), at
most ``KEEP`` of them, owner-only. The digest (the basis) covers what keyring's choice rests
on: the Python and each ``sys.path`` folder but the script's own with its modification time
(installing, upgrading or removing a package changes its folder), and the environment
variables the backends and keyring's config lookup read. A record names the config files
whose appearance voids it (keyring reads them first).
"""

from __future__ import annotations

import os
import sys

from sfcred import fsread, fsutil
from sfcred.errors import ConfigError

RECORD = "keyring-backend-"  # + the basis's first 24 hex digits + ".json": one per install
KEEP = 8  # records kept in a folder; older ones go when a new one is written
VERSION = 1
# What the built-in backends' priorities and keyring's config lookup read from the environment.
ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS",
       "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION", "LOCALAPPDATA",
       "ProgramData", "KEYCHAIN_PATH")


def basis() -> str:
    import hashlib

    parts = [sys.version, sys.platform]  # the folders below name the interpreter's install
    # sys.path[0] is the running script's folder (or "" for -c): left out, so that sfcred,
    # git-credential-sfcred and a program using the Python API share one record.
    for entry in sys.path[0 if getattr(sys.flags, "safe_path", False) else 1:]:
        try:
            parts.append(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}\0-")
    parts += [f"{name}={os.environ.get(name, chr(0))}" for name in ENV]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def record_path(of: str | None = None) -> str:
    """The record of basis ``of`` (this process's by default). One per basis, so two installs
    (a pipx one and a project's venv, or the two sides of an A/B benchmark) do not overwrite
    each other's in turn."""
    return os.path.join(_folder(), f"{RECORD}{(of or basis())[:24]}.json")


def read(path: str, of: str) -> str | None:
    """The backend the record names, when it was written on basis ``of`` and none of its
    config files has appeared since; else None."""
    import json

    raw = fsread.read_private(path, 4096)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        name, configs = data["backend"], data["config"]
        if data["v"] != VERSION or data["basis"] != of or not isinstance(name, str) \
                or not all(isinstance(c, str) for c in configs):
            return None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if any(os.path.lexists(c) for c in configs):
        return None  # a config file appeared: keyring reads it
    return name


def write(path: str, of: str, name: str, configs: list[str]) -> None:
    """Remember ``name`` on basis ``of``; a failure is ignored (the record is a speed-up)."""
    import json

    record = json.dumps({"v": VERSION, "backend": name, "basis": of, "config": configs})
    try:
        fsutil.private_dir(os.path.dirname(path))
        fsutil.atomic_write(path, record)
        _prune(path)
    except (OSError, ConfigError):
        pass  # the next process discovers again


def forget() -> None:
    """Drop every record (``doctor``): the next process asks keyring afresh."""
    for path in _records():
        fsutil.remove(path)


def _folder() -> str:
    return fsread.runtime_dir() or fsutil.cache_dir()


def _records() -> list[str]:
    folder = _folder()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if n.startswith(RECORD) and n.endswith(".json")]


def _prune(keep: str) -> None:
    """At most KEEP records: the least recently written go first."""
    def written(path: str) -> float:
        try:
            return os.lstat(path).st_mtime
        except OSError:
            return 0.0

    others = sorted((p for p in _records() if p != keep), key=written, reverse=True)
    for path in others[KEEP - 1:]:
        fsutil.remove(path)
