"""The fleet's shared records under the store's prefix: each profile's token and its lease.

``tokens/NAME`` holds the last token minted by any machine, as the cache file's fields
(``Entry.to_fields``), read back through the same validation: anything damaged,
foreign or not ours is a miss, never an error. ``erase`` overwrites it with a tombstone,
with check-and-set, so it forgets exactly the token it read and never a newer one.

``leases/NAME`` says who may mint: ``{"holder": ID, "until": EPOCH}``. It is taken with KV v2
check-and-set (version 0 when absent, else the version read), so of many machines at most
one wins; ``holder`` is unique per process (random, never a host name); ``until`` is at most
30 s ahead (docs/fleet.md), after which any machine may take it over (a holder that crashed).
A lease whose ``until`` cannot be trusted (another machine's clock far off, a foreign record)
is also taken over once this process has seen the same version unchanged for the lease's
length: that rule needs no clock agreement at all. And a lease has a maximum life: once this
process has seen the same holder hold it for a lease and a margin (``max_life``), it is taken
over however often that holder renewed it (sfcred never renews; a writer of ``leases/`` that
does would starve the fleet).

Every writer of ``tokens/`` is trusted no further than its record checks out: it is read with
a size cap (``MAX_ENTRY_BYTES``) and, given ``vet`` (``fleettrust``), served only when
its instance, times and size are the profile's; a refused record is a miss, with a note.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from sfcred.deadline import lease_seconds
from sfcred.secret import Secret
from sfcred.store.capped import TooLarge
from sfcred.store.vault import CasConflict, StoreUnavailable, VaultKV
from sfcred.tokens.entry import MAX_ENTRY_BYTES, Entry

_TOMBSTONE = {"v": "sfcred-token-erased-1"}
# The KV v2 answer around a record: its metadata, a few hundred bytes.
_ENVELOPE = 4096
MAX_LIFE_MARGIN = 2.0  # a lease's whole life: its length and this (see _held)


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
        note: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.kv = kv
        self.clock = clock
        self.monotonic = monotonic
        self.holder = holder or new_holder()
        self.seconds = lease_seconds() if seconds is None else seconds
        self.note = note
        self._seen: dict[tuple[str, int], float] = {}  # (name, lease version) -> first seen
        self._held_by: dict[tuple[str, str], float] = {}  # (name, holder) -> first seen
        self._noted: set[str] = set()

    @property
    def max_life(self) -> float:
        """The longest one holder may hold a lease, as seen by this process, renewals or not."""
        return self.seconds + MAX_LIFE_MARGIN

    @staticmethod
    def _token_path(name: str) -> str:
        return f"tokens/{quote(name, safe='')}"

    @staticmethod
    def _lease_path(name: str) -> str:
        return f"leases/{quote(name, safe='')}"

    # -- the token -------------------------------------------------------------------------

    def read(self, name: str, username: str | None = None,
             vet: Callable[[Entry], str | None] | None = None) -> Entry | None:
        """The fleet's token for ``name`` (of ``username`` when given), or None; with ``vet``,
        None too when it names a reason to refuse the record (noted once per process)."""
        try:
            found = self.kv.read(self._token_path(name), MAX_ENTRY_BYTES + _ENVELOPE)
        except TooLarge:
            self._refuse(name, f"it is over {MAX_ENTRY_BYTES // 1024} KiB")
            return None
        if found is None:
            return None
        entry = Entry.from_fields(found.data, name)
        if entry is None or (username is not None and entry.username != username):
            return None
        entry.fleet_seen = None  # the mark is this machine's, never the writer's
        why = vet(entry) if vet is not None else None
        if why is not None:
            self._refuse(name, why)
            return None
        return entry

    def _refuse(self, name: str, why: str) -> None:
        if why not in self._noted:  # the flight reads again and again: say it once
            self._noted.add(why)
            self.note(f"the fleet's token for profile {name} is refused: {why}; "
                      "getting a new one")

    def publish(self, entry: Entry) -> None:
        self.kv.write(self._token_path(entry.profile), entry.to_fields())

    def erase(self, name: str, password: Secret | None = None) -> bool:
        """Forget the fleet's token (only if it is ``password``, when given). True if one was
        forgotten. Check-and-set: a token another machine published meanwhile stays."""
        path = self._token_path(name)
        try:
            found = self.kv.read(path, MAX_ENTRY_BYTES + _ENVELOPE)
        except TooLarge:
            if password is not None:
                return False  # not a token sfcred would have served
            self.kv.write(path, _TOMBSTONE)
            return True
        if found is None:
            return False
        entry = Entry.from_fields(found.data, name)
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
        """The records gone (the profile was removed or redefined): its token may belong to
        the old settings, and its lease to nobody."""
        self.kv.delete(self._token_path(name))
        self.kv.delete(self._lease_path(name))
        from sfcred.tokens.memory import FleetMemory

        FleetMemory(self.kv).clear(name)  # what the old settings failed with is over too

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
        now = self.monotonic()
        first = self._seen.setdefault((name, version), now)
        # However the clocks disagree: the same version for a whole lease is a dead holder.
        if now - first >= self.seconds:
            return False
        # A holder mints within its lease and never renews it: one that held it for longer
        # (new versions, new untils) is not minting for the fleet, whatever it writes.
        since = self._held_by.setdefault((name, holder), now)
        return now - since < self.max_life

    def release(self, lease: Lease) -> None:
        """Let the next machine mint. Never raises: a lease not released expires anyway."""
        # Taken over already, or the store went away: either way the expiry frees it.
        with contextlib.suppress(CasConflict, StoreUnavailable):
            self.kv.write(self._lease_path(lease.name), {"holder": "", "until": "0"},
                          cas=lease.version)
