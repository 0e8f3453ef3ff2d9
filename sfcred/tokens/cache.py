"""The per-profile token cache: where tokens are kept, when they are fresh, and the lock.

State is decided in one place, ``Entry.state``:

    FRESH    now <  expires_at - margin      serve it
    STALE    within the margin               refresh; serve it only if refreshing fails
    EXPIRED  now >= expires_at               never served

``expires_at`` is mint time + the profile's token TTL (Salesforce sends no expiry).

Where: on a memory file system when there is one (``$XDG_RUNTIME_DIR/sfcred``, 0700; files
0600), as plain ``key=value`` lines (a warm ``get`` needs no keyring, crypto or ``json``);
else in the user cache dir sealed with AES-GCM under a key in the keyring, written once.

Nothing read back is trusted (docs/security.md): a folder of this user with no group or other
bits, a regular 0600 file of this user opened without following links or blocking, an entry
whose every field is sane. Anything else is a miss, never a crash. On the warm path: nothing
heavy is imported at module level.
"""

from __future__ import annotations

import os

from sfcred import fsread
from sfcred.errors import ConfigError, KeyringUnavailable
from sfcred.fsread import runtime_dir as runtime_dir  # where the plain cache lives
from sfcred.secret import Secret
from sfcred.untrusted import origin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sfcred.fsutil import Lock
    from sfcred.tokens.sealer import Sealer  # only the sealed cache needs it: off the warm path

# The largest token record read back (cache file or fleet store): any token the endpoint's
# 1 MiB body cap lets through fits, sealed or not.
MAX_ENTRY_BYTES = 2 * 1024 * 1024
# A copy of the fleet's token is confirmed against the store this often (see Entry.due).
FLEET_RECHECK = 60.0
_VERSION = "sfcred-token-cache-1"


class State:
    FRESH = "fresh"
    STALE = "stale"
    EXPIRED = "expired"


class Entry:
    __slots__ = ("access_token", "expires_at", "fleet_seen", "instance_url", "margin",
                 "minted_at", "profile", "username")

    def __init__(self, profile: str, username: str, access_token: Secret, instance_url: str,
                 minted_at: float, expires_at: float, margin: float,
                 fleet_seen: float | None = None) -> None:
        self.profile = profile
        self.username = username
        self.access_token = access_token
        self.instance_url = instance_url
        self.minted_at = minted_at
        self.expires_at = expires_at
        self.margin = margin
        # A copy of the fleet's token: when last found unchanged in the store (else None).
        self.fleet_seen = fleet_seen

    def state(self, now: float) -> str:
        if now >= self.expires_at:
            return State.EXPIRED
        if now >= self.expires_at - self.margin:
            return State.STALE
        return State.FRESH

    def due(self, now: float) -> bool:
        """A fleet token's copy due for a check against the store (a clock gone back too)."""
        seen = self.fleet_seen
        return seen is not None and not seen - 5.0 <= now < seen + FLEET_RECHECK

    def seen(self, when: float) -> Entry:
        """This entry as a copy of the fleet's token, confirmed at ``when``."""
        return Entry(self.profile, self.username, self.access_token, self.instance_url,
                     self.minted_at, self.expires_at, self.margin, when)

    def same_token(self, other: Entry) -> bool:
        """The same token, to the same place, for the same time (the copy mark aside)."""
        return self._fields() == other._fields()

    def _fields(self) -> tuple[object, ...]:
        return (self.profile, self.username, self.access_token, self.instance_url,
                self.minted_at, self.expires_at, self.margin)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Entry) and self._fields() == other._fields()
                and self.fleet_seen == other.fleet_seen)

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:  # the token is a Secret: its repr is redacted
        return f"Entry{self._fields()!r}"

    def to_fields(self) -> dict[str, str]:
        """The entry as text fields: the cache file's lines, and the fleet's shared record."""
        fields = {
            "v": _VERSION,
            "profile": self.profile,
            "username": self.username,
            "access_token": self.access_token.reveal(),
            "instance_url": self.instance_url,
            "minted_at": repr(self.minted_at),
            "expires_at": repr(self.expires_at),
            "margin": repr(self.margin),
        }
        if self.fleet_seen is not None:  # only in the cache file (a copy is never published)
            fields["fleet_seen"] = repr(self.fleet_seen)
        return fields

    def to_bytes(self) -> bytes:
        fields = self.to_fields()
        for value in fields.values():
            if "\n" in value or "\r" in value or "\x00" in value:
                raise ValueError("a cache value holds CR, LF or NUL")
        return "".join(f"{k}={v}\n" for k, v in fields.items()).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, profile: str) -> Entry | None:
        """The entry, or None for anything damaged, foreign or insane (never an exception)."""
        try:
            data = dict(
                line.split("=", 1) for line in raw.decode("utf-8").split("\n") if line
            )
        except (ValueError, UnicodeDecodeError):
            return None
        return cls.from_fields(data, profile)

    @classmethod
    def from_fields(cls, data: object, profile: str) -> Entry | None:
        """``to_fields`` read back from a file or the fleet store: None for anything damaged,
        foreign or insane, never an exception."""
        if not isinstance(data, dict) or data.get("v") != _VERSION \
                or data.get("profile") != profile:
            return None
        try:
            times = [_finite(data[k]) for k in ("minted_at", "expires_at", "margin")]
            token, url, user = data["access_token"], data["instance_url"], data["username"]
            # Absent from files written before fleet copies were marked: not a copy then.
            seen = _finite(data["fleet_seen"]) if "fleet_seen" in data else None
        except (ValueError, KeyError, TypeError):
            return None
        if not all(isinstance(v, str) for v in (token, url, user)):
            return None
        if not (token.isprintable() and token and " " not in token and user.isprintable()
                and len(token) <= MAX_ENTRY_BYTES):
            return None
        if "\n" in url or origin(url) is None or times[2] < 0:
            return None
        return cls(profile=profile, username=user, access_token=Secret(token),
                   instance_url=url, minted_at=times[0], expires_at=times[1], margin=times[2],
                   fleet_seen=seen)


def _finite(text: object) -> float:
    if not isinstance(text, str):
        raise TypeError("not a time")
    value = float(text)
    if not -1e11 < value < 1e11:  # also false for nan; inf is refused, not "never expires"
        raise ValueError("not a sane time")
    return value


class TokenCache:
    def __init__(self, directory: str | Path, sealer: Sealer | None = None) -> None:
        self.directory = str(directory)
        self.sealer = sealer  # None: the directory is on a memory file system
        self._distrusted = False  # set by check(): reads miss in this process

    @property
    def encrypted(self) -> bool:
        return self.sealer is not None

    def path(self, name: str) -> str:
        return os.path.join(self.directory, f"{name}.token")

    def check(self) -> tuple[str, bool] | None:
        """None when the folder can be trusted; else a note and whether the cache can be used:
        a folder of ours too open is tightened to 0700 and not read in this process (anything
        may be planted), then written; another user's folder, a link, a file: not used."""
        found = fsread.folder_problem(self.directory)
        if found is None:
            return None
        why, repairable = found
        if repairable:
            try:
                os.chmod(self.directory, 0o700)
            except OSError:
                repairable = False
            else:
                self._distrusted = True
                return (f"{why}; tightened it to 0700 and minted a fresh token instead of "
                        "reading it"), True
        return (f"{why}; not using the token cache (a fresh token is minted). Fix: remove "
                "that folder, or give it to this user with mode 0700"), False

    def read(self, name: str) -> Entry | None:
        if self._distrusted:
            return None
        raw = fsread.read_private(self.path(name), MAX_ENTRY_BYTES + 64)  # + the sealing
        if raw is None:
            return None
        if self.sealer is not None:
            try:
                opened = self.sealer.open(raw, name.encode())
            except (ConfigError, KeyringUnavailable):
                # A damaged sealing key, or one this machine may not read (a fleet consumer
                # with no runtime dir): a miss (writing it says why, once).
                return None
            if opened is None:
                return None
            raw = opened
        return Entry.from_bytes(raw, name)

    def stamp(self, name: str) -> tuple[int, ...] | None:  # api.get_token's kept token
        return fsread.stamp(self.path(name))

    def write(self, entry: Entry) -> None:
        raw = entry.to_bytes()
        if self.sealer is not None:
            raw = self.sealer.seal(raw, entry.profile.encode())
        from sfcred import fsutil  # writers: off the warm path (a FRESH get writes nothing)

        fsutil.atomic_write(self.path(entry.profile), raw)

    def drop(self, name: str) -> None:
        from sfcred import fsutil

        fsutil.remove(self.path(name))

    def lock(self, name: str, timeout: float | None = None) -> Lock:
        from sfcred import fsutil  # the one wait by default (deadline.lock_wait)

        return fsutil.file_lock(os.path.join(self.directory, f"{name}.lock"), timeout)


class NoCache(TokenCache):
    """A cache that must not be used: reads miss, writes drop, locks are free (minting works;
    only the single flight across processes is lost)."""

    def __init__(self) -> None:
        super().__init__(os.devnull)

    def check(self) -> tuple[str, bool] | None:
        return None

    def read(self, name: str) -> Entry | None:
        return None

    def write(self, entry: Entry) -> None:
        return None

    def drop(self, name: str) -> None:
        return None

    def stamp(self, name: str) -> tuple[int, ...] | None:
        return None  # nothing cached: nothing to keep in memory either

    def lock(self, name: str, timeout: float | None = None) -> Lock:
        from sfcred import fsutil

        return fsutil.NoLock()


def open_cache(load_key: Callable[[], bytes]) -> TokenCache:
    """The cache for this machine: plain on a memory file system, else sealed on disk."""
    directory = runtime_dir()
    if directory is not None:
        return TokenCache(directory)
    from sfcred import fsutil

    disk = os.path.join(fsutil.cache_dir(), "tokens")

    def load_key_locked() -> bytes:
        # The keyring's read-or-create is not atomic: two first uses at once would each make a
        # key (a file sealed with the lost one is unreadable). No profile name starts with ".".
        with fsutil.file_lock(os.path.join(disk, ".cache-key.lock")):
            return load_key()

    from sfcred.tokens.sealer import Sealer

    return TokenCache(disk, Sealer(load_key_locked))

