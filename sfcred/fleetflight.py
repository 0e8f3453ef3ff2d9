"""The fleet-wide single flight: of every machine that needs a new token, one mints.

Called by ``Tokens.get`` inside the machine's own lock (so one process per machine gets
here) when the local cache has no FRESH token:

1. the fleet's token, if FRESH, is the answer (no mint);
2. else take the lease (check-and-set); the holder reads the token once more (the last
   holder may have published between step 1 and the lease), mints, publishes, releases;
3. a machine that did not get the lease polls, with backoff and jitter, until a FRESH token
   is published or the lease is free (released, or expired after a crash: it takes over).

It gives up waiting after one whole lease and a second (a holder that took it just now has
had all its time): then a STALE token is served, with a note, or the wait is an error (4).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from sfcred import cache
from sfcred.errors import SalesforceUnreachable
from sfcred.store.shared import SharedTokens
from sfcred.store.vault import StoreUnavailable

FIRST_POLL = 0.05
LAST_POLL = 0.5


@dataclass(frozen=True)
class Fetched:
    entry: cache.Entry
    minted: bool  # by this process (already in the local cache) or taken from the fleet


def fetch(
    shared: SharedTokens,
    name: str,
    username: str | None,
    mint: Callable[[], cache.Entry],
    *,
    note: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    fresh = cache.State.FRESH
    give_up = shared.monotonic() + shared.seconds + 1.0
    delay = FIRST_POLL
    while True:
        found = shared.read(name, username)
        if found is not None and found.state(shared.clock()) == fresh:
            return Fetched(found, minted=False)
        lease = shared.acquire(name)
        if lease is not None:
            try:
                return _hold(shared, name, username, mint, note)
            finally:
                shared.release(lease)
        left = give_up - shared.monotonic()
        if left <= 0:
            if found is not None and found.state(shared.clock()) == cache.State.STALE:
                note(f"another machine of the fleet has been getting a new token for "
                     f"{shared.seconds:g} s; serving the fleet's token until it expires")
                return Fetched(found, minted=False)
            raise SalesforceUnreachable(
                f"another machine of the fleet has been getting a token for profile {name} "
                f"for {shared.seconds:g} s without finishing",
                hint="Salesforce may be slow or unreachable; try again")
        sleep(min(left, delay * random.uniform(0.75, 1.25)))  # noqa: S311  # jitter, not a secret
        delay = min(LAST_POLL, delay * 1.5)


def _hold(shared: SharedTokens, name: str, username: str | None,
          mint: Callable[[], cache.Entry], note: Callable[[str], None]) -> Fetched:
    """With the lease: the token the last holder published, or a new one, shared."""
    found = shared.read(name, username)
    now = shared.clock()
    if found is not None and found.state(now) == cache.State.FRESH:
        return Fetched(found, minted=False)
    try:
        entry = mint()
    except SalesforceUnreachable:
        if found is None or found.state(shared.clock()) != cache.State.STALE:
            raise
        note("Salesforce is unreachable; serving the fleet's token until it expires")
        return Fetched(found, minted=False)
    try:
        shared.publish(entry)
    except StoreUnavailable as e:
        note(f"could not share the new token with the fleet ({e.message}); other machines "
             "mint their own")
    return Fetched(entry, minted=True)
