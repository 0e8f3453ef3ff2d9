"""The non-secret profile index: names, the default, and the hosts that route ``host=``.

A profile's full record lives in the store; this file lets ``profile list``, completion and a
cached ``get`` work without it. No secret. On the warm path: plain classes, ``minijson``.
"""

from __future__ import annotations

import os

from sfcred import fsread
from sfcred.errors import ConfigError
from sfcred.plain import Plain
from sfcred.untrusted import (
    host_allowed,
    is_host,
    is_loopback,
    origin,
    same_host,
    split_hostport,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def check_name(name: str) -> str:
    """Safe in every keyring's item name and as a file name: no separators, no spaces."""
    if not (0 < len(name) <= 64 and name[0].isascii() and name[0].isalnum()
            and _NAME_CHARS.issuperset(name)):
        from sfcred.errors import InputError

        raise InputError(f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit")
    return name


class IndexEntry(Plain):
    """Where a profile lives: its login and (once learned) instance host, with their schemes.

    A scheme of None comes from a 0.1 index: https, or either scheme on a loopback host.
    ``allow_hosts`` are the hosts outside Salesforce's domains the user allowed for this
    profile (``--allow-host``); a host that fails the host rule (``untrusted.host_allowed``)
    is never learned and never routed to, even when an older version wrote it here.
    """

    __slots__ = ("allow_hosts", "instance_host", "instance_scheme", "login_host", "login_scheme",
                 "username")

    def __init__(self, login_host: str, username: str, instance_host: str | None = None,
                 login_scheme: str | None = None, instance_scheme: str | None = None,
                 allow_hosts: tuple[str, ...] = ()) -> None:
        self.login_host = login_host
        self.username = username
        self.instance_host = instance_host
        self.login_scheme = login_scheme
        self.instance_scheme = instance_scheme
        self.allow_hosts = allow_hosts

    @classmethod
    def for_login(cls, login_url: str, username: str,
                  allow_hosts: tuple[str, ...] = ()) -> IndexEntry:
        """The entry of a profile logging in at ``login_url`` (a checked origin)."""
        scheme, _, host = login_url.partition("://")
        return cls(host.lower(), username, login_scheme=scheme, allow_hosts=allow_hosts)

    def learn_instance(self, instance_url: str) -> bool:
        """Record the instance of a token (a bare origin of an allowed host; anything else is
        ignored). True when that changed the entry."""
        found = origin(instance_url)
        if found is None or (self.instance_scheme, self.instance_host) == found \
                or not host_allowed(found[1], self.allow_hosts):
            return False
        self.instance_scheme, self.instance_host = found
        return True

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "login_host": self.login_host, "login_scheme": self.login_scheme,
            "username": self.username, "instance_host": self.instance_host,
            "instance_scheme": self.instance_scheme}
        if self.allow_hosts:
            out["allow_hosts"] = list(self.allow_hosts)
        return out

    def serves(self, host: str, protocol: str | None, username: str | None) -> str | None:
        """The scheme this profile answers ``host`` with, or None when the host, the
        protocol (if given) or the username (if given) is not this profile's."""
        if username is not None and username != self.username:
            return None
        for own, scheme in ((self.login_host, self.login_scheme),
                            (self.instance_host, self.instance_scheme)):
            if own is None or not host_allowed(own, self.allow_hosts):
                continue
            schemes = host_schemes(own, scheme)
            for candidate in schemes:
                if (protocol in (None, candidate)
                        and same_host(host, own, protocol or candidate)):
                    return protocol or candidate
        return None

    def schemes(self) -> tuple[str, ...]:
        """Every scheme this profile is reached by (for a request that names no host)."""
        out: list[str] = []
        for own, scheme in ((self.login_host, self.login_scheme),
                            (self.instance_host, self.instance_scheme)):
            if own is not None:
                out += [s for s in host_schemes(own, scheme) if s not in out]
        return tuple(out)



def host_schemes(host: str, scheme: str | None) -> tuple[str, ...]:
    """A recorded host's schemes: its own, else (an older index) https, or both on loopback."""
    if scheme is not None:
        return (scheme,)
    name = split_hostport(host)
    return ("https", "http") if name is not None and is_loopback(name[0]) else ("https",)


class Index:
    def __init__(self, default: str | None = None,
                 profiles: dict[str, IndexEntry] | None = None) -> None:
        self.default = default
        self.profiles: dict[str, IndexEntry] = profiles if profiles is not None else {}

    def copy(self) -> Index:  # entries that can change without changing these
        return Index(self.default, {n: IndexEntry(e.login_host, e.username, e.instance_host,
                                                  e.login_scheme, e.instance_scheme,
                                                  e.allow_hosts)
                                    for n, e in self.profiles.items()})

    def match_host(self, host: str, username: str | None,
                   protocol: str | None = None) -> list[str]:
        return sorted(name for name, e in self.profiles.items()
                      if e.serves(host, protocol, username) is not None)


_MAX_INDEX = 1 << 20
_ENTRY_FIELDS = ("login_host", "login_scheme", "username", "instance_host", "instance_scheme")


def _parse_index(raw: bytes) -> Index:
    """The index file's bytes, checked field by field (it is read back, so untrusted):
    names as ``-p`` names are checked, hosts as bare host[:port], schemes https or http."""
    from sfcred.minijson import loads  # json's answer, without importing json (and re)

    data = loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    default = data.get("default")
    if default is not None:
        check_name(_text(default))
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ValueError("profiles is not an object")
    out: dict[str, IndexEntry] = {}
    for name, fields in profiles.items():
        check_name(name)
        if not isinstance(fields, dict):
            raise ValueError("a profile entry is not an object")
        # Fields a later version adds are left alone (and dropped on the next write).
        values = {k: fields.get(k) for k in _ENTRY_FIELDS}
        for key in ("login_host", "instance_host"):
            if values[key] is not None and not is_host(_text(values[key])):
                raise ValueError(f"{key} is not a host")
        for key in ("login_scheme", "instance_scheme"):
            if values[key] not in (None, "https", "http"):
                raise ValueError(f"{key} is not https or http")
        if values["login_host"] is None:
            raise ValueError("login_host is missing")
        _text(values["username"])
        allow = fields.get("allow_hosts") or []
        if not isinstance(allow, list) or not all(is_host(_text(h)) for h in allow):
            raise ValueError("allow_hosts is not a list of hosts")
        out[name] = IndexEntry(**values, allow_hosts=tuple(allow))  # type: ignore[arg-type]
    return Index(default=default, profiles=out)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.isprintable() or len(value) > 300:
        raise ValueError("not a short printable string")
    return value


class IndexFile:
    """``profiles.json``: read without a lock, changed under one; what was read is kept while
    the file is unchanged (one read per ``get``); ``edit`` reads afresh under its lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._kept: tuple[tuple[int, ...], Index] | None = None

    def load(self) -> Index:
        stamp = fsread.stamp(self.path)  # before the read: a change during it shows next time
        if stamp is not None and self._kept is not None and self._kept[0] == stamp:
            return self._kept[1].copy()
        index = self.read()
        self._kept = (stamp, index.copy()) if stamp is not None else None
        return index

    def read(self) -> Index:
        from sfcred.errors import InputError

        try:
            raw = fsread.read_regular(self.path, _MAX_INDEX, "the profile index")
        except FileNotFoundError:
            return Index()
        except OSError as e:
            raise ConfigError(f"cannot read the profile index {self.path} ({e.strerror})",
                              hint="check its permissions") from None
        except fsread.NotRegular as e:  # a folder, a FIFO (never waited on)
            raise ConfigError(e.message,
                              hint="remove it; profiles in the keyring are unaffected") from None
        except ConfigError as e:  # over the cap
            raise self._damaged() from e
        try:
            return _parse_index(raw)
        except (ValueError, TypeError, RecursionError, InputError) as e:
            raise self._damaged() from e

    def _damaged(self) -> ConfigError:
        return ConfigError(f"the profile index {self.path} is damaged",
                           hint="fix or delete it; profiles in the keyring are unaffected")

    def learn_instance(self, name: str, instance_url: str) -> None:
        """Record profile ``name``'s instance (a known one, or anything else, writes nothing)."""
        found = origin(instance_url)
        entry = self.load().profiles.get(name)
        if found is None or entry is None or (entry.instance_scheme, entry.instance_host) == found \
                or not host_allowed(found[1], entry.allow_hosts):
            return
        with self.edit() as index:
            current = index.profiles.get(name)
            if current is not None:
                current.learn_instance(instance_url)

    def edit(self) -> _Edit:
        """``with index.edit() as i:`` read under the lock, written back atomically after."""
        return _Edit(self)


class _Edit:
    """The context manager of ``IndexFile.edit`` (a class: ``contextlib`` and what it imports
    cost the warm path about 2 ms)."""

    def __init__(self, file: IndexFile) -> None:
        from sfcred import fsutil  # the writers: off the warm path

        self.file, self.lock = file, fsutil.file_lock(file.path + ".lock")
        self.index: Index | None = None

    def __enter__(self) -> Index:
        self.lock.__enter__()
        try:
            self.index = self.file.read()
        except BaseException:
            self.lock.__exit__(None, None, None)
            raise
        return self.index

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None and self.index is not None:
                import json

                from sfcred import fsutil

                data = {
                    "default": self.index.default,
                    "profiles": {k: v.to_dict() for k, v in sorted(self.index.profiles.items())},
                }
                fsutil.atomic_write(self.file.path, json.dumps(data, indent=2) + "\n")
        finally:
            self.lock.__exit__(kind, value, tb)


_FILES: dict[str, IndexFile] = {}


def index_file() -> IndexFile:
    """The index of this config dir: one object per path in a process, so what it read is
    shared by every step of a call (the warm path's choice, the full path's checks)."""
    path = os.path.join(fsread.config_dir(), "profiles.json")
    found = _FILES.get(path)
    if found is None:
        found = _FILES[path] = IndexFile(path)
    return found
