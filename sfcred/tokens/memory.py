"""The failure memory: the outcome of a profile's last failed mint, and when to try again.

A refusal (Salesforce's words, its cause and fix, exit 3) or an endpoint that could not be
reached or did not answer in time (exit 4) is kept per profile, so that the next ``get``
within the backoff window answers at once from it (a STALE token with a note, or the same
error) instead of spending another login on an outcome that will not change. The window
grows with each failure in a row: refusals from ``REFUSED_FIRST`` seconds up to
``REFUSED_MAX``, unreachable from ``UNREACHABLE_FIRST`` up to ``UNREACHABLE_MAX``.

Where: ``NAME.failure`` beside the token cache file (same folder, same trust rules on read:
a regular 0600 file of this user, not followed through a link), plain ``key=value`` lines
(nothing in it is secret: the server's words were made safe on the way in, and are again on
the way out); in fleet mode also ``failures/NAME`` beside the shared token, which is the
fleet's word and wins over this machine's copy. A success, ``erase``, a change to the profile
or its keys and ``get --retry-now`` clear both.
"""

from __future__ import annotations

import os
import time

from sfcred import fsread
from sfcred.errors import SalesforceRefused, SalesforceUnreachable, SfcredError
from sfcred.tokens.entry import State  # a leaf, loaded on the warm path already
from sfcred.untrusted import server_words

TYPE_CHECKING = False  # the warm path of `get` reads the memory: nothing heavy at module level
if TYPE_CHECKING:
    from collections.abc import Callable

    from sfcred.store.vault import VaultKV
    from sfcred.tokens.entry import Entry

REFUSED_FIRST, REFUSED_MAX = 30.0, 480.0
UNREACHABLE_FIRST, UNREACHABLE_MAX = 5.0, 120.0
_VERSION = "sfcred-failure-1"
_MAX_BYTES = 16 * 1024
_TEXT = ("message", "hint", "error", "description", "cause", "fix")


def backoff(kind: str, count: int) -> float:
    """Seconds before the next try after ``count`` failures of ``kind`` in a row."""
    first, last = (REFUSED_FIRST, REFUSED_MAX) if kind == "refused" else \
        (UNREACHABLE_FIRST, UNREACHABLE_MAX)
    return min(last, first * 2.0 ** min(max(count, 1) - 1, 16))


class Failure:
    __slots__ = ("at", "cause", "count", "description", "error", "fix", "hint", "kind",
                 "message", "profile", "until")

    def __init__(self, profile: str, kind: str, message: str, hint: str = "", error: str = "",
                 description: str = "", cause: str = "", fix: str = "", count: int = 1,
                 at: float = 0.0, until: float = 0.0) -> None:
        self.profile = profile
        self.kind = kind  # "refused" | "unreachable"
        self.message = message
        self.hint = hint
        self.error = error
        self.description = description
        self.cause = cause
        self.fix = fix
        self.count = count  # failures in a row
        self.at = at  # when the last one happened
        self.until = until  # no try before this

    def moved(self, at: float, until: float) -> Failure:
        """The same failure, as if it happened at ``at`` with its window ending ``until``."""
        return Failure(self.profile, self.kind, self.message, self.hint, self.error,
                       self.description, self.cause, self.fix, self.count, at, until)

    @classmethod
    def of(cls, profile: str, e: SfcredError, now: float,
           before: Failure | None = None) -> Failure:
        """The failure ``e`` of a mint at ``now``, counted after ``before`` (the one kept)."""
        kind = "refused" if isinstance(e, SalesforceRefused) else "unreachable"
        count = before.count + 1 if before is not None and before.kind == kind else 1
        found = cls(profile, kind, e.message, e.hint or "", count=count, at=now,
                    until=now + backoff(kind, count))
        if isinstance(e, SalesforceRefused):
            found.error, found.description = e.error, e.description
            found.cause, found.fix = e.cause, e.fix
        return found

    def active(self, now: float) -> bool:
        """Within its window (a clock gone back past the failure ends it)."""
        return self.at - 5.0 <= now < self.until

    def raised(self, now: float) -> SfcredError:
        """The remembered error, as raised when it happened, saying it is remembered."""
        e: SfcredError
        if self.kind == "refused":
            e = SalesforceRefused(self.error, self.description, cause=self.cause, fix=self.fix)
        else:
            e = SalesforceUnreachable(self.message, hint=self.hint or None)
        e.message = f"{e.message} ({self.remembered(now)})"
        return e

    def answer(self, name: str, entry: Entry | None, note: Callable[[str], None],
               now: float) -> Entry:
        """What a get answers within the window: ``entry`` when it is STALE (with a note to
        ``note``), else the remembered error, raised."""
        if entry is not None and entry.state(now) == State.STALE:
            note(self.serving(name, now))
            return entry
        raise self.raised(now)

    def serving(self, name: str, now: float) -> str:
        """The note of a STALE token served within the window."""
        return (f"the last token request for profile {name} failed ({self.error or self.message}"
                f"; {self.remembered(now)}); serving the cached token until it expires")

    def remembered(self, now: float) -> str:
        return (f"remembered from {max(0, now - self.at):.0f} s ago, no new request before "
                f"{max(0, self.until - now):.0f} s; `sfcred get --retry-now` tries now")

    def to_fields(self) -> dict[str, str]:
        fields = {"v": _VERSION, "profile": self.profile, "kind": self.kind,
                  "count": str(self.count), "at": repr(self.at), "until": repr(self.until)}
        for key in _TEXT:
            fields[key] = server_words(getattr(self, key), 600)
        return fields

    def to_bytes(self) -> bytes:
        return fsread.key_value_lines(self.to_fields())

    @classmethod
    def from_fields(cls, data: object, profile: str) -> Failure | None:
        """Read back from a file or the store: None for anything damaged or foreign."""
        if not isinstance(data, dict) or data.get("v") != _VERSION \
                or data.get("profile") != profile or data.get("kind") not in (
                    "refused", "unreachable"):
            return None
        try:
            count, at, until = int(data["count"]), float(data["at"]), float(data["until"])
            text = {k: data.get(k, "") for k in _TEXT}
        except (KeyError, TypeError, ValueError):
            return None
        if not (0 < count < 10**6 and -1e11 < at < 1e11 and at <= until < at + 86400.0) \
                or not all(isinstance(v, str) for v in text.values()):
            return None
        clean = {k: server_words(v, 600) for k, v in text.items()}
        return cls(profile, str(data["kind"]), count=count, at=at, until=until, **clean)

    @classmethod
    def from_bytes(cls, raw: bytes, profile: str) -> Failure | None:
        data = fsread.key_values(raw)
        return None if data is None else cls.from_fields(data, profile)


class Memory:
    """This machine's failure records, in the token cache's folder (None: nowhere)."""

    def __init__(self, directory: str | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.clock = clock

    def path(self, name: str) -> str | None:
        return os.path.join(self.directory, f"{name}.failure") if self.directory else None

    def read(self, name: str) -> Failure | None:
        path = self.path(name)
        raw = fsread.read_private(path, _MAX_BYTES) if path else None
        return Failure.from_bytes(raw, name) if raw is not None else None

    def write(self, failure: Failure) -> None:
        path = self.path(failure.profile)
        if path is None:
            return
        from sfcred import fsutil

        try:  # noqa: SIM105  # contextlib stays off the warm path
            fsutil.atomic_write(path, failure.to_bytes())
        except OSError:
            pass  # only the memory is lost: the next get tries again

    def clear(self, name: str) -> None:
        path = self.path(name)
        if path is None:
            return
        from sfcred import fsutil

        try:  # noqa: SIM105
            fsutil.remove(path)
        except OSError:
            pass


class FleetMemory:
    """The fleet's failure record of each profile: ``failures/NAME`` beside its token."""

    def __init__(self, kv: VaultKV) -> None:
        self.kv = kv

    @staticmethod
    def _path(name: str) -> str:
        from urllib.parse import quote

        return f"failures/{quote(name, safe='')}"

    def read(self, name: str) -> Failure | None:
        found = self.kv.read(self._path(name), _MAX_BYTES)
        return Failure.from_fields(found.data, name) if found is not None else None

    def write(self, failure: Failure) -> None:
        self.kv.write(self._path(failure.profile), failure.to_fields())

    def clear(self, name: str) -> None:
        self.kv.delete(self._path(name))


class HolderFailed(Exception):  # a signal between the flights, not an error
    """Another machine's mint (the fleet's lease holder) failed within the window: a waiter
    answers from the failure memory instead of trying itself."""
