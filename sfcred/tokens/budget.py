"""The login budget: token requests per Salesforce user and login host over the last hour.

Salesforce blocks a user for an hour after 3,600 logins in an hour, and every token request
counts, failed or not. sfcred counts its own (each attempt ``TokenClient`` sends) on the
machine, in the token cache's folder (``logins-KEY.count``: one ``minute=count`` line per
minute of the last hour), and in fleet mode also in the store (``logins/KEY``, written
with check-and-set so no machine's count is lost), and refuses to mint past the budget:
``--login-budget N`` on the profile, else ``SFCRED_LOGIN_BUDGET``, else ``DEFAULT``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Mapping

from sfcred import fsread
from sfcred.errors import SalesforceUnreachable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sfcred.store.vault import VaultKV

DEFAULT = 3000
HOUR = 3600.0
_VERSION = "sfcred-logins-1"
_MAX_BYTES = 16 * 1024


class LoginBudgetExceeded(SalesforceUnreachable):
    """sfcred's own refusal to mint: the user's logins of the last hour reached the budget
    (exit 4, as Salesforce out of reach: a STALE token is served where there is one)."""


def limit(profile_budget: int | None, environ: Mapping[str, str] = os.environ) -> int:
    """The budget that applies: the profile's, else ``SFCRED_LOGIN_BUDGET``, else 3000."""
    if profile_budget is not None and profile_budget > 0:
        return profile_budget
    try:
        value = int(environ.get("SFCRED_LOGIN_BUDGET") or DEFAULT)
    except ValueError:
        return DEFAULT
    return value if value > 0 else DEFAULT


def key(username: str, login_host: str) -> str:
    return f"{username.lower()}@{login_host.lower()}"


def _parse(data: Mapping[str, object], who: str) -> dict[int, int]:
    """``minute -> count`` of a record for ``who``; empty for anything damaged or foreign."""
    if data.get("v") != _VERSION or data.get("key") != who:
        return {}
    minutes: dict[int, int] = {}
    for name, value in data.items():
        if name.isdigit() and isinstance(value, str) and value.isdigit():
            minutes[int(name)] = min(int(value), 10**6)
    return minutes


def _fields(minutes: Mapping[int, int], who: str) -> dict[str, str]:
    return {"v": _VERSION, "key": who, **{str(m): str(c) for m, c in sorted(minutes.items())}}


def _recent(minutes: Mapping[int, int], now: float) -> dict[int, int]:
    first = int((now - HOUR) // 60) + 1
    return {m: c for m, c in minutes.items() if first <= m <= int(now // 60) + 1}


class Logins:
    """The count of one user and login host: this machine's, and the fleet's (``kv``)."""

    def __init__(self, directory: str | None, username: str, login_host: str,
                 kv: VaultKV | None = None, clock: Callable[[], float] = time.time) -> None:
        self.who = key(username, login_host)
        self.directory = directory
        self.kv = kv
        self.clock = clock

    @property
    def _digest(self) -> str:
        """The user and host as a name any file system and store path takes (the record
        holds them in clear, and is read only when they match)."""
        return hashlib.sha256(self.who.encode()).hexdigest()[:24]

    @property
    def _file(self) -> str | None:
        return os.path.join(self.directory, f"logins-{self._digest}.count") \
            if self.directory else None

    @property
    def _kv_path(self) -> str:
        return f"logins/{self._digest}"

    def _local(self) -> dict[int, int]:
        path = self._file
        raw = fsread.read_private(path, _MAX_BYTES) if path else None
        data = fsread.key_values(raw) if raw is not None else None
        return {} if data is None else _parse(data, self.who)

    def machine(self) -> int:
        """Token requests of the last hour from this machine."""
        return sum(_recent(self._local(), self.clock()).values())

    def fleet(self) -> int | None:
        """... from the whole fleet (None: not in fleet mode)."""
        if self.kv is None:
            return None
        found = self.kv.read(self._kv_path, _MAX_BYTES)
        return sum(_recent(_parse(found.data, self.who) if found else {},
                           self.clock()).values())

    def count(self) -> int:
        """What the budget is checked against: the fleet's count in fleet mode (this
        machine's when the store cannot say), else this machine's."""
        if self.kv is not None:
            from sfcred.errors import KeyringUnavailable

            try:
                fleet = self.fleet()
            except KeyringUnavailable:
                fleet = None
            if fleet is not None:
                return max(fleet, self.machine())
        return self.machine()

    def check(self, budget: int) -> None:
        """Refuse to mint when the last hour's requests reached ``budget``."""
        used = self.count()
        if used >= budget:
            raise LoginBudgetExceeded(
                f"the login budget of {self.who} is spent: {used} token requests in the last "
                f"hour (budget {budget}); not asking Salesforce for another",
                hint="Salesforce blocks a user for an hour after 3,600 logins in an hour; "
                "look for a loop that mints (`sfcred status`), or raise the budget with "
                "--login-budget N on the profile or SFCRED_LOGIN_BUDGET")

    def spend(self) -> None:
        """Count one token request, here and in the fleet. Never raises: a count that cannot
        be kept must not stop the request (the lock or the store may be away)."""
        now = self.clock()
        minute = int(now // 60)
        path = self._file
        if path is not None:
            from sfcred import fsutil
            from sfcred.errors import ConfigError

            # The count is best effort: a lock busy for 2 s (LockTimeout) or a full disk.
            with contextlib.suppress(OSError, ConfigError), \
                    fsutil.file_lock(path[:-len(".count")] + ".lock", 2.0):
                minutes = _recent(self._local(), now)
                minutes[minute] = minutes.get(minute, 0) + 1
                fsutil.atomic_write(path, fsread.key_value_lines(_fields(minutes, self.who)))
        if self.kv is not None:
            self._spend_fleet(now, minute)

    def _spend_fleet(self, now: float, minute: int) -> None:
        from sfcred.errors import KeyringUnavailable
        from sfcred.store.vault import CasConflict

        assert self.kv is not None
        for _ in range(5):  # another machine counted meanwhile: read again and add
            try:
                found = self.kv.read(self._kv_path, _MAX_BYTES)
                minutes = _recent(_parse(found.data, self.who) if found else {}, now)
                minutes[minute] = minutes.get(minute, 0) + 1
                self.kv.write(self._kv_path, _fields(minutes, self.who),
                              cas=found.version if found else 0)
                return
            except CasConflict:
                continue
            except KeyringUnavailable:
                return
