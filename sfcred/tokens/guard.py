"""The failure memory and the login budget as ``Tokens`` uses them around a mint.

``recall`` before any wait or request: a failure remembered within its window (this
machine's, else the fleet's) is the answer, a STALE token served with a note or the
remembered error raised, and nothing is sent. ``remember`` after a failed mint, ``clear``
after a success and on every reset. ``spend`` arms a token client so each request it sends
is counted, once the budget check has passed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from sfcred.errors import KeyringUnavailable, SalesforceRefused, SalesforceUnreachable
from sfcred.tokens.budget import LoginBudgetExceeded, Logins, limit
from sfcred.tokens.memory import Failure, FleetMemory, Memory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sfcred.profiles.record import Profile
    from sfcred.salesforce.oauth import TokenClient
    from sfcred.store.vault import VaultKV
    from sfcred.tokens.entry import Entry
    from sfcred.tokens.flight import Tokens


def of_tokens(tokens: Tokens) -> Guard:
    """The guard of ``tokens``: its cache's folder (none for a cache not to be used) and, in
    fleet mode, the fleet store."""
    from sfcred.tokens.cache import NoCache

    folder = None if isinstance(tokens.cache, NoCache) else tokens.cache.directory
    kv = tokens.shared.kv if tokens.shared is not None else None
    return Guard(folder, kv, tokens.clock, tokens.note)


class Guard:
    def __init__(self, directory: str | None, kv: VaultKV | None,
                 clock: Callable[[], float] = time.time,
                 note: Callable[[str], None] = lambda _msg: None) -> None:
        self.directory = directory
        self.local = Memory(directory, clock)
        self.fleet = FleetMemory(kv) if kv is not None else None
        self.kv = kv
        self.clock = clock
        self.note = note

    def failure(self, name: str, *, fleet: bool = True) -> Failure | None:
        """The failure remembered within its window, or None. The fleet's is asked only when
        this machine has none (a copy is kept here: the next call needs no store)."""
        now = self.clock()
        found = self.local.read(name)
        if found is not None and found.active(now):
            return found
        if self.fleet is None or not fleet:
            return None
        try:
            shared = self.fleet.read(name)
        except KeyringUnavailable:
            return None
        if shared is None or not shared.active(now):
            return None
        self.local.write(shared)
        return shared

    def recall(self, name: str, entry: Entry | None, *, fleet: bool = True) -> Entry | None:
        """None: nothing remembered, go ahead. Else ``entry`` when it is STALE (noted), or the
        remembered error raised."""
        found = self.failure(name, fleet=fleet)
        return None if found is None else found.answer(name, entry, self.note, self.clock())

    def remember(self, name: str, e: SalesforceRefused | SalesforceUnreachable) -> None:
        if isinstance(e, LoginBudgetExceeded):
            return  # not an answer of Salesforce's: nothing was sent
        failure = Failure.of(name, e, self.clock(), self.local.read(name))
        self.local.write(failure)
        if self.fleet is not None:
            with contextlib.suppress(KeyringUnavailable):  # this machine remembers, at least
                self.fleet.write(failure)

    def clear(self, name: str) -> None:
        self.local.clear(name)
        if self.fleet is not None:
            try:
                self.fleet.clear(name)
            except KeyringUnavailable as e:
                self.note(f"{e.message}; the fleet's failure record of {name} is not cleared")

    def logins(self, profile: Profile) -> Logins:
        from sfcred.profiles.record import netloc

        return Logins(self.directory, profile.username, netloc(profile.login_url), self.kv,
                      self.clock)

    def spend(self, client: TokenClient, profile: Profile) -> None:
        """Check the budget of the profile's user (raises ``LoginBudgetExceeded``), then
        count each request ``client`` sends."""
        logins = self.logins(profile)
        logins.check(limit(profile.login_budget))
        client.on_request = logins.spend

    def holder_failed(self, name: str, entry: Entry | None) -> Entry:
        """What a waiter answers when the holder it waited for failed (``HolderFailed``)."""
        served = self.recall(name, entry)
        if served is None:  # cleared meanwhile (a reset): this call still makes no request
            raise SalesforceUnreachable(
                f"another process's token request for profile {name} failed just now",
                hint="try again")
        return served
