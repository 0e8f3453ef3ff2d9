"""The fleet's shared records under the store's prefix: each profile's token and its lease.

``tokens/NAME`` holds the last token minted by any machine, as the cache file's fields
(``cache.Entry.to_fields``), read back through the same validation: anything damaged,
foreign or not ours is a miss, never an error. ``erase`` overwrites it with a tombstone,
with check-and-set, so it forgets exactly the token it read and never a newer one.

``leases/NAME`` says who may mint: ``{"holder": ID, "until": EPOCH}``. It is taken with KV v2
check-and-set (version 0 when absent, else the version read), so of many machines at most
one wins; ``holder`` is unique per process (random, never a host name); ``until`` is at most
30 s ahead (SPEC.md), after which any machine may take it over (a holder that crashed).
A lease whose ``until`` cannot be trusted (another machine's clock far off, a foreign record)
is also taken over once this process has seen the same version unchanged for the lease's
length: that rule needs no clock agreement at all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from sfcred import cache
from sfcred.deadline import lease_seconds
from sfcred.secret import Secret
from sfcred.store.vault import CasConflict, StoreUnavailable, VaultKV

_TOMBSTONE = {"v": "sfcred-token-erased-1"}


def new_holder() -> str:
    """An id no other process of the fleet has: the pid for people, random bits for truth."""
    return f"{os.getpid()}-{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    version: int


class SharedTokens:
    """Read, publish and erase the fleet's token for a profile; take and release its lease."""

    def __init__(
        self,
        kv: VaultKV,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        holder: str | None = None,
        seconds: float | None = None,
    ) -> None:
        self.kv = kv
        self.clock = clock
        self.monotonic = monotonic
        self.holder = holder or new_holder()
        self.seconds = lease_seconds() if seconds is None else seconds
        self._seen: dict[tuple[str, int], float] = {}  # (name, lease version) -> first seen

    @staticmethod
    def _token_path(name: str) -> str:
        return f"tokens/{quote(name, safe='')}"

    @staticmethod
    def _lease_path(name: str) -> str:
        return f"leases/{quote(name, safe='')}"

    # -- the token -------------------------------------------------------------------------

    def read(self, name: str, username: str | None = None) -> cache.Entry | None:
        """The fleet's token for ``name`` (of ``username`` when given), or None."""
        found = self.kv.read(self._token_path(name))
        if found is None:
            return None
        entry = cache.Entry.from_fields(found.data, name)
        if entry is None or (username is not None and entry.username != username):
            return None
        return entry

    def publish(self, entry: cache.Entry) -> None:
        self.kv.write(self._token_path(entry.profile), entry.to_fields())

    def erase(self, name: str, password: Secret | None = None) -> bool:
        """Forget the fleet's token (only if it is ``password``, when given). True if one was
        forgotten. Check-and-set: a token another machine published meanwhile stays."""
        path = self._token_path(name)
        found = self.kv.read(path)
        if found is None:
            return False
        entry = cache.Entry.from_fields(found.data, name)
        if entry is None and found.data == _TOMBSTONE:
            return False
        if password is not None and (entry is None or entry.access_token != password):
            return False
        try:
            self.kv.write(path, _TOMBSTONE, cas=found.version)
        except CasConflict:
            return False  # replaced meanwhile: the new token is not the one refused
        return True

    def forget(self, name: str) -> None:
        """Both records gone (the profile was removed or redefined): its token may belong to
        the old settings, and its lease to nobody."""
        self.kv.delete(self._token_path(name))
        self.kv.delete(self._lease_path(name))

    # -- the lease -------------------------------------------------------------------------

    def acquire(self, name: str) -> Lease | None:
        """The lease, if this process could take it now; None while another holds it."""
        path = self._lease_path(name)
        found = self.kv.read(path)
        cas = 0
        if found is not None:
            if self._held(name, found.version, found.data):
                return None
            cas = found.version
        record = {"holder": self.holder, "until": repr(self.clock() + self.seconds)}
        try:
            version = self.kv.write(path, record, cas=cas)
        except CasConflict:
            return None  # another machine took it first
        return Lease(name, self.holder, version)

    def _held(self, name: str, version: int, data: dict[str, object]) -> bool:
        holder, until = data.get("holder"), data.get("until")
        if not isinstance(holder, str) or not holder or not isinstance(until, str):
            return False  # released, or not a lease of ours: free to take
        try:
            ends = float(until)
        except ValueError:
            return False
        if ends <= self.clock():
            return False  # over: the holder crashed, or is too slow to count on
        first = self._seen.setdefault((name, version), self.monotonic())
        # However the clocks disagree: the same version for a whole lease is a dead holder.
        return self.monotonic() - first < self.seconds

    def release(self, lease: Lease) -> None:
        """Let the next machine mint. Never raises: a lease not released expires anyway."""
        # Taken over already, or the store went away: either way the expiry frees it.
        with contextlib.suppress(CasConflict, StoreUnavailable):
            self.kv.write(self._lease_path(lease.name), {"holder": "", "until": "0"},
                          cas=lease.version)
