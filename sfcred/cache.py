"""The per-profile token cache: where tokens are kept, when they are fresh, and the lock.

State is decided in one place, ``Entry.state``:

    FRESH    now <  expires_at - margin      serve it
    STALE    within the margin               refresh; serve it only if refreshing fails
    EXPIRED  now >= expires_at               never served

``expires_at`` is mint time + the profile's token TTL (Salesforce sends no expiry).

Where: on a memory file system when there is one (``$XDG_RUNTIME_DIR/sfcred``, 0700; files
0600), as plain ``key=value`` lines so a warm ``get`` needs no keyring, no crypto and not even
``json``. Without a runtime dir (macOS, Windows, some containers) the file goes to the user
cache dir sealed with AES-GCM under a key kept in the keyring; that key is written once,
never per mint.

Any file that is unreadable, truncated, foreign or for another profile is a miss, never a
crash; the next mint replaces it atomically. This module is on the warm path: it imports
nothing heavy at module level.
"""

from __future__ import annotations

import os

from sfcred import fsutil
from sfcred.secret import Secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

LOCK_TIMEOUT = 20.0
_MAGIC = b"SFC1"
_VERSION = "sfcred-token-cache-1"


class State:
    FRESH = "fresh"
    STALE = "stale"
    EXPIRED = "expired"


class Entry:
    __slots__ = ("access_token", "expires_at", "instance_url", "margin", "minted_at",
                 "profile", "username")

    def __init__(self, profile: str, username: str, access_token: Secret, instance_url: str,
                 minted_at: float, expires_at: float, margin: float) -> None:
        self.profile = profile
        self.username = username
        self.access_token = access_token
        self.instance_url = instance_url
        self.minted_at = minted_at
        self.expires_at = expires_at
        self.margin = margin

    def state(self, now: float) -> str:
        if now >= self.expires_at:
            return State.EXPIRED
        if now >= self.expires_at - self.margin:
            return State.STALE
        return State.FRESH

    def _fields(self) -> tuple[object, ...]:
        return (self.profile, self.username, self.access_token, self.instance_url,
                self.minted_at, self.expires_at, self.margin)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:  # the token is a Secret: its repr is redacted
        return f"Entry{self._fields()!r}"

    def to_bytes(self) -> bytes:
        lines = [
            ("v", _VERSION),
            ("profile", self.profile),
            ("username", self.username),
            ("access_token", self.access_token.reveal()),
            ("instance_url", self.instance_url),
            ("minted_at", repr(self.minted_at)),
            ("expires_at", repr(self.expires_at)),
            ("margin", repr(self.margin)),
        ]
        for _, value in lines:
            if "\n" in value or "\r" in value or "\x00" in value:
                raise ValueError("a cache value holds CR, LF or NUL")
        return "".join(f"{k}={v}\n" for k, v in lines).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, profile: str) -> Entry | None:
        try:
            data = dict(
                line.split("=", 1) for line in raw.decode("utf-8").split("\n") if line
            )
            if data.get("v") != _VERSION or data.get("profile") != profile:
                return None
            return cls(
                profile=profile,
                username=data["username"],
                access_token=Secret(data["access_token"]),
                instance_url=data["instance_url"],
                minted_at=float(data["minted_at"]),
                expires_at=float(data["expires_at"]),
                margin=float(data["margin"]),
            )
        except (ValueError, KeyError, UnicodeDecodeError):
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
    def __init__(self, directory: str | Path, sealer: Sealer | None = None) -> None:
        self.directory = str(directory)
        self.sealer = sealer  # None: the directory is on a memory file system

    @property
    def encrypted(self) -> bool:
        return self.sealer is not None

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, f"{name}.token")

    def read(self, name: str) -> Entry | None:
        try:
            with open(self._path(name), "rb") as f:
                raw = f.read(65536)
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

    def lock(self, name: str, timeout: float = LOCK_TIMEOUT) -> fsutil.Lock:
        return fsutil.file_lock(os.path.join(self.directory, f"{name}.lock"), timeout)


def runtime_dir() -> str | None:
    value = os.environ.get("XDG_RUNTIME_DIR")
    if value and os.path.isabs(value) and os.path.isdir(value):
        return os.path.join(value, "sfcred")
    return None


def open_cache(load_key: Callable[[], bytes]) -> TokenCache:
    """The cache for this machine: plain on a memory file system, else sealed on disk."""
    directory = runtime_dir()
    if directory is not None:
        return TokenCache(directory)
    import platformdirs

    disk = os.path.join(platformdirs.user_cache_dir("sfcred", appauthor=False), "tokens")

    def load_key_locked() -> bytes:
        # The keyring's read-or-create is not atomic: two first uses at once (two profiles
        # minting) would each create a key, and files sealed with the overwritten one become
        # unreadable. A profile name never starts with ".", so this lock is nobody else's.
        with fsutil.file_lock(os.path.join(disk, ".cache-key.lock"), LOCK_TIMEOUT):
            return load_key()

    return TokenCache(disk, Sealer(load_key_locked))

