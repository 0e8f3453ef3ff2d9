"""A cached token (``Entry``) and its state (``State``): a value type every layer may read.

State is decided in one place, ``Entry.state``:

    FRESH    now <  expires_at - margin      serve it
    STALE    within the margin               refresh; serve it only if refreshing fails
    EXPIRED  now >= expires_at               never served

``expires_at`` is mint time + the profile's token TTL, or the token's own ``exp`` when it is a
JWT (Salesforce sends no expiry otherwise). An entry read back (a cache file, the fleet's
record) is checked field by field: anything damaged, foreign or insane is None, never an
exception. On the warm path: nothing heavy is imported.
"""

from __future__ import annotations

from sfcred.fsread import key_value_lines, key_values
from sfcred.secret import Secret
from sfcred.untrusted import origin

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
        return key_value_lines(fields)

    @classmethod
    def from_bytes(cls, raw: bytes, profile: str) -> Entry | None:
        """The entry, or None for anything damaged, foreign or insane (never an exception)."""
        data = key_values(raw)
        return None if data is None else cls.from_fields(data, profile)

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
