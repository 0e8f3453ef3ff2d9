"""Tokens for a chosen profile: answer from the cache, mint when needed, forget on erase.

A FRESH cached token is answered before this module is imported (``helper.warm``). Callers
on a cold or stale cache take the profile's lock, re-read the cache inside it, and only the
first one mints (single flight). In fleet mode the lock's holder goes on to the fleet's
single flight (``fleet.flight``); a token from the fleet is checked (``fleet.trust``) and its
local copy re-confirmed every ``entry.FLEET_RECHECK`` seconds, dropped when the fleet's
record was erased or replaced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, TypeGuard

from sfcred.errors import ConfigError, KeyringUnavailable, SalesforceRefused, SalesforceUnreachable
from sfcred.salesforce import trace
from sfcred.salesforce.jwtexp import lifetime
from sfcred.tokens import cache as cache_mod
from sfcred.tokens import waiting
from sfcred.tokens.budget import LoginBudgetExceeded
from sfcred.tokens.entry import Entry, State
from sfcred.tokens.memory import HolderFailed

if TYPE_CHECKING:
    from sfcred.fleet.shared import SharedTokens
    from sfcred.helper.warm import Pass
    from sfcred.profiles.index import IndexFile
    from sfcred.profiles.record import Profile
    from sfcred.salesforce.oauth import TokenClient
    from sfcred.secret import Secret
    from sfcred.store.base import Store
    from sfcred.tokens.guard import Guard


class Tokens:
    """The cache in front of the keyring and the token endpoint, for one process."""

    def __init__(
        self,
        *,
        index: IndexFile,
        store: Callable[[], Store],
        client: Callable[[], TokenClient],
        cache: Callable[[], cache_mod.TokenCache],
        clock: Callable[[], float] = time.time,
        note: Callable[[str], None] = lambda _msg: None,
        stateless: bool = False,
        shared: Callable[[], SharedTokens | None] = lambda: None,
        warm: Pass | None = None,
    ) -> None:
        self.index = index
        self._store = store
        self._client = client
        self._cache = cache
        self.clock = clock
        self.note = note
        self.stateless = stateless  # CI mode: no index to check or learn from
        self._shared = shared
        self.warm = warm  # what the warm path of this `get` did already (warm.Pass)
        self._store_obj: Store | None = None
        self._cache_obj: cache_mod.TokenCache | None = None
        self._shared_obj: list[SharedTokens | None] = []
        self._guard: Guard | None = None

    @property
    def store(self) -> Store:
        if self._store_obj is None:
            self._store_obj = self._store()
        return self._store_obj

    @property
    def shared(self) -> SharedTokens | None:
        """The fleet's shared token records (fleet mode), or None."""
        if not self._shared_obj:
            self._shared_obj.append(self._shared())
        return self._shared_obj[0]

    @property
    def cache(self) -> cache_mod.TokenCache:
        """The token cache, checked once (``TokenCache.check``): a planted token is never
        served; a folder that cannot be trusted is noted, with its fix, and bypassed."""
        if self._cache_obj is None:
            cache = self._cache()
            problem = cache.check()
            if problem is not None:
                self.note(problem[0])
                if not problem[1]:
                    cache = cache_mod.NoCache()
            self._cache_obj = cache
        return self._cache_obj

    @property
    def guard(self) -> Guard:
        """The failure memory and the login budget beside the cache (``tokens.guard``)."""
        if self._guard is None:
            from sfcred.tokens.guard import of_tokens

            self._guard = of_tokens(self)
        return self._guard

    def get(self, name: str, retry_now: bool = False) -> Entry:
        warm = self.warm if self.warm is not None and self.warm.choice is not None \
            and self.warm.choice.name == name else None
        # What the warm path read (and the lock it holds) is used, not read or taken again.
        entry = warm.entry if warm is not None and warm.read else self.cache.read(name)
        if warm is None or not warm.read:
            trace.say(f"cache: {trace.cache_state(entry, self.clock())}")
        if self._ready(entry):
            return entry
        self.known(name)
        if retry_now:
            self.guard.clear(name)
        elif (served := self.guard.recall(name, entry)) is not None:
            return served  # a failure within its window: STALE served, else raised above
        with ExitStack() as held:
            if not waiting.take(self, held, name, entry,
                                warm.lock if warm is not None else None):
                assert entry is not None  # take returns False only with a STALE entry
                return entry
            # Someone may have minted while we waited for the lock: that is the single flight.
            entry = self.cache.read(name)
            if self._ready(entry):
                trace.say("cache: another process minted meanwhile: using its token")
            if entry is not None and entry.due(self.clock()) and self.shared is not None:
                entry = self._confirm(name, entry, self.shared)
            if self._ready(entry):
                return entry
            # The holder we waited for failed: its outcome is ours, never a second attempt.
            if not retry_now and (served := self.guard.recall(name, entry, fleet=False)):
                return served
            try:
                if self.shared is not None:
                    return self._from_fleet(name, self.shared)
                return self._mint(name)
            except HolderFailed:
                return self.guard.holder_failed(name, entry)
            except (SalesforceUnreachable, KeyringUnavailable) as e:
                # The token still works until it expires: a refresh that cannot happen now
                # (network down, keyring locked, store unreachable) is not a reason to fail.
                if entry is not None and entry.state(self.clock()) == State.STALE:
                    what = (e.message if isinstance(e, LoginBudgetExceeded)
                            else "Salesforce is unreachable" if isinstance(e, SalesforceUnreachable)
                            else "the fleet store is unavailable" if self.shared is not None
                            else "the keyring is unavailable")
                    self.note(f"{what}; serving the cached token until it expires")
                    return entry
                raise

    def _ready(self, entry: Entry | None) -> TypeGuard[Entry]:
        """FRESH, and (a copy of the fleet's token, in fleet mode) recently confirmed."""
        now = self.clock()
        return (entry is not None and entry.state(now) == State.FRESH
                and (not entry.due(now) or self.shared is None))

    def _confirm(self, name: str, entry: Entry,
                 shared: SharedTokens) -> Entry | None:
        """The local copy of the fleet's token if the fleet still has that token (marked
        confirmed now); None, the copy dropped, when the record is gone or another."""
        try:
            current = shared.read(name, entry.username, self._vet(name))
        except KeyringUnavailable:
            return entry  # the store cannot say now: the copy stands until it can
        if current is not None and current.same_token(entry):
            confirmed = entry.seen(self.clock())
            self._keep(confirmed)
            return confirmed
        self.cache.drop(name)  # erased (a 401 elsewhere), replaced, or refused now
        return None

    def _vet(self, name: str) -> Callable[[Entry], str | None]:
        from sfcred.fleet import trust as fleettrust

        known = None if self.stateless else self.index.load().profiles.get(name)
        return fleettrust.vetter(self.store.require_profile(name), known, self.clock)

    def _from_fleet(self, name: str, shared: SharedTokens) -> Entry:
        from sfcred.fleet import flight as fleetflight

        known = None if self.stateless else self.index.load().profiles.get(name)
        # "" is a client credentials profile's Run As user not learned here yet: any user.
        got = fleetflight.fetch(shared, name, (known.username or None) if known else None,
                                lambda: self._mint(name), note=self.note, vet=self._vet(name),
                                failed=lambda: self.guard.failure(name) is not None)
        if got.minted:
            return got.entry
        self.guard.local.clear(name)  # the fleet has a token: what this machine kept is over
        copy = got.entry.seen(self.clock())
        self._keep(copy)
        return copy

    def _keep(self, entry: Entry) -> None:
        try:
            self.cache.write(entry)
        except (OSError, ConfigError, KeyringUnavailable) as e:
            # The token is good: deliver it. Only the reuse is lost (and noted). A fleet
            # consumer with no runtime dir lands here: the sealing key is not its to read.
            self.note(f"could not cache the token ({getattr(e, 'strerror', None) or e}); "
                      "the next get fetches it again")

    def _mint(self, name: str) -> Entry:
        """A new token, its outcome remembered (``memory``): a failure until its window
        ends, a success by clearing what was remembered."""
        try:
            entry = self._mint_once(name)
        except (SalesforceRefused, SalesforceUnreachable) as e:
            self.guard.remember(name, e)
            raise
        self.guard.clear(name)
        return entry

    def _mint_once(self, name: str) -> Entry:
        from sfcred.rotation.lifecycle import mint_with_rotation as mint

        trace.say(f"minting a new token for profile {name}")
        client = self._client()
        try:
            profile = self.store.require_profile(name)
            self.guard.spend(client, profile)  # the login budget; each request counted
            try:
                token, profile = mint(self.store, client, profile, self.note)
            except ConfigError:
                # A key named by the record we read is gone: a rotation step in a process
                # outside our lock (another runtime dir) changed the record meanwhile. Read
                # the record again and retry once; if it did not change, the error stands.
                current = self.store.require_profile(name)
                if current.revision == profile.revision and current.keys == profile.keys:
                    raise
                token, profile = mint(self.store, client, current, self.note)
            if profile.client_credentials and not profile.username:  # its Run As user
                from sfcred.salesforce import runas

                profile = runas.learn(client, token, profile, self.note,
                                      None if self.stateless else (self.store, self.index))
        finally:
            client.close()
        now = self.clock()
        expires, margin = lifetime(now, profile, token)  # a JWT access token's exp may set it
        entry = Entry(profile=name, username=profile.username,
                      access_token=token.access_token, instance_url=token.instance_url,
                      minted_at=now, expires_at=expires, margin=margin)
        self._keep(entry)
        trace.say(f"minted; cached for {expires - now:.0f} s (refreshed {margin:g} s before "
                  f"that); instance {token.instance_url}")
        self._remember_instance(profile, token.instance_url)
        return entry

    def _remember_instance(self, profile: Profile, instance_url: str) -> None:
        if self.stateless:
            return  # CI mode writes nothing beyond the token cache
        self.index.learn_instance(profile.name, instance_url)

    @contextmanager
    def changing(self, name: str) -> Iterator[Profile]:
        """The profile, read under its lock (no get mints meanwhile); its token is dropped
        after a change, since it may belong to the old settings or key."""
        self.known(name)
        with self.cache.lock(name):
            yield self.store.require_profile(name)
            self.cache.drop(name)
            self.guard.clear(name)

    def erase(self, name: str, password: Secret | None = None) -> bool:
        """Forget the cached token, here and (fleet mode) the fleet's; with ``password``
        (git's reject after a 401 names the token that failed) each only when it is that
        token, so one 401 makes one new mint for the whole fleet. True if one was dropped."""
        dropped = False
        self.guard.clear(name)  # a reset: the next get asks Salesforce again
        entry = self.cache.read(name) if password is not None else None
        if password is None or (entry is not None and entry.access_token == password):
            self.cache.drop(name)
            dropped = True
        if self.shared is not None:
            try:
                dropped = self.shared.erase(name, password) or dropped
            except KeyringUnavailable as e:  # the store: this machine forgot it, at least
                self.note(f"{e.message}; the fleet's copy of the token is not erased")
        return dropped

    def known(self, name: str) -> None:
        """Refuse early, without the keyring, a name the index does not list."""
        if self.stateless:
            return
        if name not in self.index.load().profiles and self.shared is not None:
            self.sync()
        profiles = self.index.load().profiles
        if name not in profiles:
            from sfcred.profiles.suggest import missing

            raise missing(name, profiles)

    def sync(self) -> None:
        """Fleet mode: learn the fleet's profiles this machine's index lacks (``fleetindex``);
        only when a name or host is not found, so a get that knows its profile lists nothing."""
        if self.shared is not None:
            from sfcred.fleet import index as fleetindex

            fleetindex.sync_index(self.store, self.index)
