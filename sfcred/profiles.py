"""Profiles: what one org connection is, how its URLs are checked, and the non-secret index.

A profile's full record lives in the keyring (``keystore``). The index file lists names, the
default, and the hosts used to route ``host=`` requests, so ``profile list`` and a cached ``get``
never need the keyring. Nothing in the index is secret.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sfcred import fsutil
from sfcred.errors import ConfigError, InputError

PRODUCTION = "https://login.salesforce.com"
SANDBOX = "https://test.salesforce.com"
SHORTHANDS = {"production": PRODUCTION, "sandbox": SANDBOX}
DEFAULT_TTL = 900
DEFAULT_MARGIN = 60

# Safe in every keyring's item name and in a file name; no separators, no spaces.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LOOPBACK_NAMES = {"localhost"}


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise InputError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(value: str, what: str) -> str:
    """An origin URL: https, or http on loopback only; no path, query or credentials."""
    url = SHORTHANDS.get(value, value).strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # parsing the port validates it
    except ValueError:
        raise InputError(f"{what} {value!r} is not a valid URL") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InputError(f"{what} {value!r} must be an https:// URL, e.g. {PRODUCTION}")
    if parts.scheme == "http" and not is_loopback(host):
        raise InputError(
            f"{what} {value!r} uses plain http: only https is allowed, except for loopback hosts"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError(f"{what} {value!r} must not hold credentials, a query or a fragment")
    if parts.path.strip("/"):
        raise InputError(f"{what} {value!r} must be just the scheme and host, without a path")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def default_audience(login_url: str) -> str:
    host = (urlsplit(login_url).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX
    if host == "login.salesforce.com" or host.endswith(".my.salesforce.com"):
        return PRODUCTION
    return login_url


def netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True)
class KeySlots:
    """Key ids of a profile. Rotation changes these in one keyring write (see rotate.py)."""

    active: str
    pending: str | None = None
    previous: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    client_id: str
    username: str
    login_url: str
    audience: str
    keys: KeySlots
    token_ttl: int = DEFAULT_TTL
    refresh_margin: int = DEFAULT_MARGIN
    created_at: int = 0
    revision: int = 1  # bumped on every change; the token cache is tied to it

    def to_json(self) -> str:
        return json.dumps({"v": 1, **asdict(self)}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            data = json.loads(text)
            data.pop("v", None)
            data["keys"] = KeySlots(**data["keys"])
            return cls(**data)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(
                "the stored profile record is unreadable",
                hint="remove it with `sfcred profile remove NAME` and add it again",
            ) from e

    def changed(self, **kw: Any) -> Profile:
        return replace(self, revision=self.revision + 1, **kw)


@dataclass
class IndexEntry:
    login_host: str
    username: str
    instance_host: str | None = None


@dataclass
class Index:
    default: str | None = None
    profiles: dict[str, IndexEntry] = field(default_factory=dict)

    def match_host(self, host: str, username: str | None) -> list[str]:
        host = host.lower()
        return sorted(
            name
            for name, e in self.profiles.items()
            if host in (e.login_host, e.instance_host) and (username in (None, e.username))
        )


class IndexFile:
    """``profiles.json`` in the config dir, read without locks, changed under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Index:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
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
        with fsutil.file_lock(self.path.with_suffix(".lock")):
            index = self.load()
            yield index
            data = {
                "default": index.default,
                "profiles": {k: asdict(v) for k, v in sorted(index.profiles.items())},
            }
            fsutil.atomic_write(self.path, json.dumps(data, indent=2) + "\n")


def index_file() -> IndexFile:
    override = os.environ.get("SFCRED_CONFIG_DIR")
    base = Path(override) if override else fsutil.config_dir()
    return IndexFile(base / "profiles.json")
