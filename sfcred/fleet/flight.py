"""The fleet-wide single flight: of every machine that needs a new token, one mints.

Called by ``Tokens.get`` inside the machine's own lock (so one process per machine gets
here) when the local cache has no FRESH token:

1. the fleet's token, if FRESH, is the answer (no mint);
2. else take the lease (check-and-set); the holder reads the token once more (the last
   holder may have published between step 1 and the lease), mints, publishes, releases;
3. a machine that did not get the lease polls, with backoff and jitter, until a FRESH token
   is published or the lease is free (released, or expired after a crash: it takes over).

A machine that finds the fleet's failure record within its window (``tokens.memory``: the
holder's mint failed) stops waiting and never takes the lease to try again: ``HolderFailed``.

It gives up waiting after a lease's whole life and a second (a holder that took it just now
has had all its time): then a STALE token is served, with a note, or the wait is an error (4).

A machine whose policy may not take the lease (the consumer policy: docs/fleet.md) only
waits, within the same time, for a minter's token; then STALE with a note, or exit 5 saying so.
Every record read is checked by ``vet`` (``fleettrust``): one refused is as if there were none.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from sfcred.errors import SalesforceUnreachable
from sfcred.fleet.shared import SharedTokens
from sfcred.store.vault import StoreRefused, StoreUnavailable
from sfcred.tokens.entry import Entry, State
from sfcred.tokens.memory import HolderFailed

Vet = Callable[[Entry], str | None]

FIRST_POLL = 0.05
LAST_POLL = 0.5


@dataclass(frozen=True)
class Fetched:
    entry: Entry
    minted: bool  # by this process (already in the local cache) or taken from the fleet


def fetch(
    shared: SharedTokens,
    name: str,
    username: str | None,
    mint: Callable[[], Entry],
    *,
    note: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    vet: Vet | None = None,
    failed: Callable[[], bool] = lambda: False,
) -> Fetched:
    fresh = State.FRESH
    give_up = shared.monotonic() + shared.max_life + 1.0
    delay = FIRST_POLL
    refused: StoreRefused | None = None  # the lease is not ours to take: a consumer
    while True:
        found = shared.read(name, username, vet)
        if found is not None and found.state(shared.clock()) == fresh:
            return Fetched(found, minted=False)
        if failed():  # the holder's mint failed in this window: never a second attempt
            raise HolderFailed
        lease = None
        if refused is None:
            try:
                lease = shared.acquire(name)
            except StoreRefused as e:
                refused = e
        if lease is not None:
            try:
                if failed():  # the last holder failed just before releasing the lease
                    raise HolderFailed
                return _hold(shared, name, username, mint, note, vet)
            finally:
                shared.release(lease)
        left = give_up - shared.monotonic()
        if left <= 0:
            waited = shared.max_life + 1.0
            if found is not None and found.state(shared.clock()) == State.STALE:
                who = ("no machine of the fleet has published a new token in "
                       if refused is not None else
                       "another machine of the fleet has been getting a new token for ")
                note(f"{who}{waited:g} s; serving the fleet's token until it expires")
                return Fetched(found, minted=False)
            if refused is not None:
                raise StoreRefused(
                    f"no fresh token for profile {name} in the fleet store after {waited:g} s, "
                    f"and this machine may not get one itself ({refused.message})",
                    hint="this machine has the consumer policy (docs/fleet.md): a machine "
                    "with the minter policy must get the token, or give this one that policy")
            raise SalesforceUnreachable(
                f"another machine of the fleet has been getting a token for profile {name} "
                f"for {shared.seconds:g} s without finishing",
                hint="Salesforce may be slow or unreachable; try again")
        sleep(min(left, delay * random.uniform(0.75, 1.25)))  # noqa: S311  # jitter, not a secret
        delay = min(LAST_POLL, delay * 1.5)


def _hold(shared: SharedTokens, name: str, username: str | None,
          mint: Callable[[], Entry], note: Callable[[str], None],
          vet: Vet | None) -> Fetched:
    """With the lease: the token the last holder published, or a new one, shared."""
    found = shared.read(name, username, vet)
    now = shared.clock()
    if found is not None and found.state(now) == State.FRESH:
        return Fetched(found, minted=False)
    try:
        entry = mint()
    except SalesforceUnreachable:
        if found is None or found.state(shared.clock()) != State.STALE:
            raise
        note("Salesforce is unreachable; serving the fleet's token until it expires")
        return Fetched(found, minted=False)
    try:
        shared.publish(entry)
    except StoreUnavailable as e:
        note(f"could not share the new token with the fleet ({e.message}); other machines "
             "mint their own")
    return Fetched(entry, minted=True)
