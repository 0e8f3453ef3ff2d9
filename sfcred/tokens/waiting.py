"""The one wait of a ``get`` on another process's mint (the profile's lock).

A waiter waits at most the holder's mint deadline and a little more (``deadline.lock_wait``),
counting what the warm path already waited. When the holder's mint failed, the waiter does
not try again in the same window: ``Tokens.get`` asks the failure memory right after the
lock is taken (``guard.Guard.recall``), and serves STALE or the holder's failure.
"""

from __future__ import annotations

from contextlib import ExitStack

from sfcred.deadline import lock_wait
from sfcred.errors import ConfigError, SalesforceUnreachable
from sfcred.fsutil import LockTimeout
from sfcred.tokens.entry import Entry, State

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sfcred.fsutil import Lock
    from sfcred.tokens.flight import Tokens


def take(tokens: Tokens, held: ExitStack, name: str, entry: Entry | None,
         taken: Lock | None = None) -> bool:
    """Take the profile's lock for at most the mint deadline (plus a little, so a waiter
    outlasts a holder that is still trying), or adopt the one the warm path holds
    (``taken``). False: the holder did not finish in time and ``entry`` is STALE, so it
    is served (to every waiter). A lock that cannot be used is skipped, with a note."""
    wait = lock_wait(tokens.shared.seconds if tokens.shared is not None else None)
    waited = tokens.warm.waited if tokens.warm is not None else 0.0
    try:
        # The warm path may have waited on this lock already (a stampede's losers wait
        # there): only what is left of the one wait.
        lock = taken if taken is not None and taken.held() else \
            tokens.cache.lock(name, timeout=max(0.0, wait - waited))
        held.enter_context(lock)
    except LockTimeout:
        if entry is not None and entry.state(tokens.clock()) == State.STALE:
            tokens.note(f"another sfcred process has been getting a new token for {wait:g} s; "
                        "serving the cached one until it expires")
            return False
        raise SalesforceUnreachable(
            f"another sfcred process has been getting a token for profile {name} for "
            f"{wait:g} s without finishing",
            hint="Salesforce may be slow or unreachable; try again",
        ) from None
    except (ConfigError, OSError) as e:
        tokens.note(f"cannot use the token lock ({getattr(e, 'strerror', None) or e}); "
                    "getting a token without it")
    return True
