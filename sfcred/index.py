"""The non-secret profile index: names, the default, and the hosts that route ``host=``.

A profile's full record lives in the keyring (``keystore``); this file lets ``profile list``,
shell completion and a cached ``get`` work without touching the keyring. It holds no secret.
On the warm path: plain classes, ``json`` imported only when the file is read.
"""

from __future__ import annotations

import os
from contextlib import contextmanager  # cheap, and fsutil loads it anyway

from sfcred import fsutil
from sfcred.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def check_name(name: str) -> str:
    """Safe in every keyring's item name and as a file name: no separators, no spaces."""
    if not (0 < len(name) <= 64 and name[0].isascii() and name[0].isalnum()
            and _NAME_CHARS.issuperset(name)):
        from sfcred.errors import InputError

        raise InputError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class IndexEntry:
    __slots__ = ("instance_host", "login_host", "username")

    def __init__(self, login_host: str, username: str, instance_host: str | None = None) -> None:
        self.login_host = login_host
        self.username = username
        self.instance_host = instance_host

    def to_dict(self) -> dict[str, str | None]:
        return {"login_host": self.login_host, "username": self.username,
                "instance_host": self.instance_host}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IndexEntry) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))

    def __repr__(self) -> str:
        return f"IndexEntry({self.to_dict()!r})"


class Index:
    def __init__(self, default: str | None = None,
                 profiles: dict[str, IndexEntry] | None = None) -> None:
        self.default = default
        self.profiles: dict[str, IndexEntry] = profiles if profiles is not None else {}

    def match_host(self, host: str, username: str | None) -> list[str]:
        host = host.lower()
        return sorted(
            name
            for name, e in self.profiles.items()
            if host in (e.login_host, e.instance_host) and username in (None, e.username)
        )


class IndexFile:
    """``profiles.json`` in the config dir: read without a lock, changed under one."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> Index:
        import json

        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
            return Index(
                default=data.get("default"),
                profiles={k: IndexEntry(**v) for k, v in data.get("profiles", {}).items()},
            )
        except FileNotFoundError:
            return Index()
        except (ValueError, TypeError, AttributeError) as e:
            raise ConfigError(
                f"the profile index {self.path} is damaged",
                hint="fix or delete it; profiles in the keyring are unaffected",
            ) from e

    @contextmanager
    def edit(self) -> Iterator[Index]:
        import json

        with fsutil.file_lock(self.path + ".lock"):
            index = self.load()
            yield index
            data = {
                "default": index.default,
                "profiles": {k: v.to_dict() for k, v in sorted(index.profiles.items())},
            }
            fsutil.atomic_write(self.path, json.dumps(data, indent=2) + "\n")


def index_file() -> IndexFile:
    return IndexFile(os.path.join(fsutil.config_dir(), "profiles.json"))
