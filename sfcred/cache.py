"""The per-profile token cache: where tokens are kept, when they are fresh, and the lock.

State is decided in one place, ``Entry.state``:

    FRESH    now <  expires_at - margin      serve it
    STALE    within the margin               refresh; serve it only if refreshing fails
    EXPIRED  now >= expires_at               never served

``expires_at`` is mint time + the profile's token TTL (Salesforce sends no expiry).

Where: on a memory file system when there is one (``$XDG_RUNTIME_DIR/sfcred``, 0700; files
0600), in plain JSON so a warm ``get`` needs no keyring and no crypto import. Without a runtime
dir (macOS, Windows, some containers) the file goes to the user cache dir encrypted with
AES-GCM under a key kept in the keyring; that key is written once, never per mint.

Any file that is unreadable, truncated, foreign or for another profile is a miss, never a
crash; the next mint replaces it atomically.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfcred import fsutil
from sfcred.secret import Secret

LOCK_TIMEOUT = 20.0
_MAGIC = b"SFC1"


class State(enum.Enum):
    FRESH = "fresh"
    STALE = "stale"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Entry:
    profile: str
    username: str
    access_token: Secret
    instance_url: str
    minted_at: float
    expires_at: float
    margin: float

    def state(self, now: float) -> State:
        if now >= self.expires_at:
            return State.EXPIRED
        if now >= self.expires_at - self.margin:
            return State.STALE
        return State.FRESH

    def to_bytes(self) -> bytes:
        data = {
            "v": 1,
            "profile": self.profile,
            "username": self.username,
            "access_token": self.access_token.reveal(),
            "instance_url": self.instance_url,
            "minted_at": self.minted_at,
            "expires_at": self.expires_at,
            "margin": self.margin,
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, profile: str) -> Entry | None:
        try:
            data = json.loads(raw)
            if data.get("v") != 1 or data.get("profile") != profile:
                return None
            return cls(
                profile=data["profile"],
                username=str(data["username"]),
                access_token=Secret(str(data["access_token"])),
                instance_url=str(data["instance_url"]),
                minted_at=float(data["minted_at"]),
                expires_at=float(data["expires_at"]),
                margin=float(data["margin"]),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


class Sealer:
    """AES-GCM for the on-disk fallback; the key comes from the keyring on first use."""

    def __init__(self, load_key: Callable[[], bytes]) -> None:
        self._load_key = load_key
        self._key: bytes | None = None

    def _aead(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._key is None:
            self._key = self._load_key()
        return AESGCM(self._key)

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return _MAGIC + nonce + bytes(self._aead().encrypt(nonce, plain, aad))

    def open(self, sealed: bytes, aad: bytes) -> bytes | None:
        from cryptography.exceptions import InvalidTag

        if not sealed.startswith(_MAGIC) or len(sealed) < len(_MAGIC) + 12 + 16:
            return None
        nonce, body = sealed[4:16], sealed[16:]
        try:
            return bytes(self._aead().decrypt(nonce, body, aad))
        except InvalidTag:
            return None


class TokenCache:
    def __init__(self, directory: Path, sealer: Sealer | None = None) -> None:
        self.directory = directory
        self.sealer = sealer  # None: the directory is on a memory file system

    @property
    def encrypted(self) -> bool:
        return self.sealer is not None

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.token"

    def read(self, name: str) -> Entry | None:
        try:
            raw = self._path(name).read_bytes()
        except OSError:
            return None
        if self.sealer is not None:
            opened = self.sealer.open(raw, name.encode())
            if opened is None:
                return None
            raw = opened
        return Entry.from_bytes(raw, name)

    def write(self, entry: Entry) -> None:
        raw = entry.to_bytes()
        if self.sealer is not None:
            raw = self.sealer.seal(raw, entry.profile.encode())
        fsutil.atomic_write(self._path(entry.profile), raw)

    def drop(self, name: str) -> None:
        fsutil.remove(self._path(name))

    @contextmanager
    def lock(self, name: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        with fsutil.file_lock(self.directory / f"{name}.lock", timeout):
            yield


def runtime_dir() -> Path | None:
    value = os.environ.get("XDG_RUNTIME_DIR")
    if value and os.path.isabs(value) and os.path.isdir(value):
        return Path(value) / "sfcred"
    return None


def open_cache(load_key: Callable[[], bytes]) -> TokenCache:
    """The cache for this machine: plain on a memory file system, else sealed on disk."""
    directory = runtime_dir()
    if directory is not None:
        return TokenCache(directory)
    import platformdirs

    disk = Path(platformdirs.user_cache_dir("sfcred", appauthor=False)) / "tokens"
    return TokenCache(disk, Sealer(load_key))
