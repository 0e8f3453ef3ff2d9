"""The fleet's shared token and its lease, against a real OpenBao (KV v2 check-and-set): one
winner among racing machines, takeover of a dead holder (by its expiry, and by the
no-clock rule), erase that forgets only the refused token, damaged or foreign records under
the prefix, and the single flight itself (``fleet.flight.fetch``) with threads as machines."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import pytest

from sfcred.deadline import LEASE_SECONDS, lease_seconds
from sfcred.errors import SalesforceUnreachable
from sfcred.fleet import flight as fleetflight
from sfcred.fleet.shared import SharedTokens
from sfcred.secret import Secret
from sfcred.store.vault import Location, StoreUnavailable, VaultKV
from sfcred.tokens.entry import Entry, State

USER = "fleet@example.com"


@pytest.fixture
def kv(openbao: dict[str, str]) -> Iterator[VaultKV]:
    store = VaultKV(Location("secret", f"sfcred-lease-{secrets.token_hex(4)}"), openbao)
    yield store
    for folder in ("tokens", "leases"):
        for name in store.list(folder):
            store.delete(f"{folder}/{name}")


def entry(token: str, *, age: float = 0.0, ttl: float = 900, margin: float = 60) -> Entry:
    minted = time.time() - age
    return Entry("acme", USER, Secret(token), "https://acme.my.salesforce.com", minted,
                 minted + ttl, margin)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()
        self.mono = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono


def race_for_the_lease(machines: list[SharedTokens]) -> list[str]:
    """Every machine tries to take the lease at the same moment; the holders that won."""
    won: list[str] = []
    start = threading.Barrier(len(machines))

    def race(m: SharedTokens) -> None:
        start.wait()
        lease = m.acquire("acme")
        if lease is not None:
            won.append(lease.holder)

    threads = [threading.Thread(target=race, args=(m,)) for m in machines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return won


def test_the_lease_is_30_seconds_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lease_seconds() == LEASE_SECONDS == 30.0
    monkeypatch.setenv("SFCRED_LEASE_SECONDS", "2")
    assert lease_seconds() == 2.0
    monkeypatch.setenv("SFCRED_LEASE_SECONDS", "300")
    assert lease_seconds() == 30.0  # never longer than docs/fleet.md allows


def test_holders_are_unique_and_not_host_names(kv: VaultKV) -> None:
    import socket

    holders = {SharedTokens(kv).holder for _ in range(50)}
    assert len(holders) == 50
    assert not any(socket.gethostname() in h for h in holders)


def test_of_many_machines_racing_for_a_free_lease_exactly_one_wins(kv: VaultKV) -> None:
    machines = [SharedTokens(kv) for _ in range(16)]
    won = race_for_the_lease(machines)
    assert len(won) == 1
    found = kv.read("leases/acme")
    assert found is not None
    assert found.data["holder"] == won[0]


def test_a_held_lease_is_refused_then_taken_over_when_it_expires(kv: VaultKV) -> None:
    clock = Clock()
    holder = SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=30)
    other = SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=30)
    lease = holder.acquire("acme")
    assert lease is not None
    assert other.acquire("acme") is None  # held
    clock.now += 29.0
    assert other.acquire("acme") is None  # still within its 30 s
    clock.now += 1.5  # the holder crashed: its lease ran out
    taken = other.acquire("acme")
    assert taken is not None
    assert taken.holder == other.holder
    holder.release(lease)  # a late release of the old lease must not free the new one
    assert SharedTokens(kv).acquire("acme") is None


def test_two_machines_racing_the_takeover_of_a_dead_lease(kv: VaultKV) -> None:
    clock = Clock()
    dead = SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=5)
    assert dead.acquire("acme") is not None
    clock.now += 6
    machines = [SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=5)
                for _ in range(8)]
    assert len(race_for_the_lease(machines)) == 1


def test_a_lease_from_a_clock_far_ahead_is_taken_over_after_one_lease_unchanged(
    kv: VaultKV,
) -> None:
    """A machine whose clock runs an hour ahead writes an 'until' an hour away; the others
    take over once they have seen that same version for a whole lease, whatever it says."""
    clock = Clock()
    kv.write("leases/acme", {"holder": "skewed-1", "until": repr(time.time() + 3600)})
    waiter = SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=10)
    assert waiter.acquire("acme") is None
    clock.mono += 9.0
    assert waiter.acquire("acme") is None
    clock.mono += 1.5
    assert waiter.acquire("acme") is not None


@pytest.mark.parametrize("record", [
    {"holder": 3, "until": "x"}, {"nothing": "of ours"}, {"holder": "h", "until": "soon"},
    {"holder": "", "until": "0"},  # released
])
def test_a_damaged_foreign_or_released_lease_is_free(
    kv: VaultKV, record: dict[str, object]
) -> None:
    kv.write("leases/acme", record)
    assert SharedTokens(kv).acquire("acme") is not None


def test_the_token_is_read_back_validated(kv: VaultKV) -> None:
    shared = SharedTokens(kv)
    assert shared.read("acme") is None
    shared.publish(entry("00Dx!fresh"))
    got = shared.read("acme", USER)
    assert got is not None
    assert got.access_token.reveal() == "00Dx!fresh"
    assert shared.read("acme", "someone.else@example.com") is None  # not that user's
    for damaged in ({"v": "other"}, {**entry("t").to_fields(), "instance_url": "javascript:x"},
                    {**entry("t").to_fields(), "expires_at": "inf"},
                    {**entry("t").to_fields(), "profile": "other"},
                    {**entry("t").to_fields(), "access_token": "two words"}):
        kv.write("tokens/acme", damaged)
        assert shared.read("acme") is None, damaged


def test_erase_forgets_only_the_refused_token(kv: VaultKV) -> None:
    shared = SharedTokens(kv)
    shared.publish(entry("00Dx!current"))
    assert not shared.erase("acme", Secret("00Dx!an-older-one"))  # another 401's token
    assert shared.read("acme") is not None
    assert shared.erase("acme", Secret("00Dx!current"))
    assert shared.read("acme") is None
    assert not shared.erase("acme", Secret("00Dx!current"))  # the next 401 of the fleet
    shared.publish(entry("00Dx!next"))
    assert shared.erase("acme")  # no password: whatever it is
    assert shared.read("acme") is None


def test_erase_never_forgets_a_token_published_meanwhile(kv: VaultKV) -> None:
    shared = SharedTokens(kv)
    shared.publish(entry("00Dx!refused"))
    found = kv.read("tokens/acme")
    assert found is not None
    shared.publish(entry("00Dx!newer"))  # another machine, between the read and the erase

    original = kv.read

    def stale_read(name: str, limit: int | None = None):  # read before the other's publish
        return found if name == "tokens/acme" else original(name, limit)

    kv.read = stale_read  # type: ignore[method-assign]
    try:
        assert not shared.erase("acme", Secret("00Dx!refused"))
    finally:
        kv.read = original  # type: ignore[method-assign]
    got = shared.read("acme")
    assert got is not None
    assert got.access_token.reveal() == "00Dx!newer"


def test_eight_machines_one_mint(kv: VaultKV) -> None:
    """Threads as machines, each with its own holder id: one mint, everyone its token."""
    mints: list[str] = []
    lock = threading.Lock()

    def mint() -> Entry:
        time.sleep(0.3)  # a real mint takes a while: the others must wait, not mint
        with lock:
            mints.append("x")
        return entry(f"00Dx!minted{len(mints)}")

    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def machine() -> None:
        start.wait()
        try:
            fetched = fleetflight.fetch(SharedTokens(kv), "acme", USER, mint, note=print)
            got.append(fetched.entry.access_token.reveal())
        except BaseException as e:  # collected, asserted below
            errors.append(e)

    threads = [threading.Thread(target=machine) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(mints) == 1
    assert got == ["00Dx!minted1"] * 8


def test_a_stale_fleet_token_is_refreshed_once(kv: VaultKV) -> None:
    SharedTokens(kv).publish(entry("00Dx!old", age=870))  # within the 60 s margin
    assert SharedTokens(kv).read("acme") is not None
    minted: list[Entry] = []

    def mint() -> Entry:
        minted.append(entry("00Dx!new"))
        return minted[-1]

    first = fleetflight.fetch(SharedTokens(kv), "acme", USER, mint, note=print)
    second = fleetflight.fetch(SharedTokens(kv), "acme", USER, mint, note=print)
    assert (first.minted, second.minted) == (True, False)
    assert len(minted) == 1
    assert second.entry.access_token.reveal() == "00Dx!new"


def test_a_waiter_takes_over_from_a_holder_that_died(kv: VaultKV) -> None:
    dead = SharedTokens(kv, seconds=1.0)
    assert dead.acquire("acme") is not None  # and never releases: killed mid-mint
    started = time.monotonic()
    got = fleetflight.fetch(SharedTokens(kv, seconds=1.0), "acme", USER,
                            lambda: entry("00Dx!taken-over"), note=print)
    assert got.minted
    assert got.entry.access_token.reveal() == "00Dx!taken-over"
    assert time.monotonic() - started < 10  # hang guard (the lease is 1 s)


def test_a_lease_that_is_never_free_makes_the_waiter_serve_stale_or_fail(
    kv: VaultKV,
) -> None:
    """Holder after holder (each new, each within its lease): the waiter never takes over, and
    gives up after a lease's whole life."""
    clock = Clock()
    holder = SharedTokens(kv, seconds=2.0)
    assert holder.acquire("acme") is not None

    def mint() -> Entry:
        raise AssertionError("a waiter must not mint while the lease is held")

    def sleep(seconds: float) -> None:  # the waiter's time passes; the next holder takes it
        clock.mono += seconds
        kv.write("leases/acme", {"holder": f"next-{secrets.token_hex(4)}",
                                 "until": repr(time.time() + 2)})

    waiter = SharedTokens(kv, monotonic=clock.monotonic, seconds=2.0)
    with pytest.raises(SalesforceUnreachable, match="another machine of the fleet"):
        fleetflight.fetch(waiter, "acme", USER, mint, note=print, sleep=sleep)
    SharedTokens(kv).publish(entry("00Dx!stale", age=870))
    notes: list[str] = []
    got = fleetflight.fetch(waiter, "acme", USER, mint, note=notes.append, sleep=sleep)
    assert got.entry.state(time.time()) == State.STALE
    assert not got.minted
    assert "serving the fleet's token" in notes[0]


def test_a_holder_that_renews_its_lease_is_taken_over_after_its_maximum_life(
    kv: VaultKV,
) -> None:
    """A writer of leases/ that rewrites its lease every 5 s (each a new version, a new
    until): taken over once it has held the lease for a lease and a margin, and the waiter
    mints instead of starving."""
    clock = Clock()
    renewer = "renewer-" + secrets.token_hex(4)

    def renew() -> None:
        kv.write("leases/acme", {"holder": renewer, "until": repr(time.time() + 30)})

    renew()
    waiter = SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=30)
    assert waiter.max_life == 32.0
    for _ in range(6):  # 30 s of renewals: held
        assert waiter.acquire("acme") is None
        clock.mono += 5.0
        renew()
    clock.mono += 2.5
    renew()
    lease = waiter.acquire("acme")
    assert lease is not None
    assert lease.holder == waiter.holder

    minted: list[Entry] = []

    def sleep(seconds: float) -> None:  # the renewer goes on renewing while we wait
        clock.mono += seconds
        renew()

    def mint() -> Entry:
        minted.append(entry("00Dx!past-renewer"))
        return minted[-1]

    renew()
    other = SharedTokens(kv, clock=clock.time, monotonic=clock.monotonic, seconds=30)
    started = clock.mono
    got = fleetflight.fetch(other, "acme", USER, mint, note=print, sleep=sleep)
    assert got.minted
    assert got.entry.access_token.reveal() == "00Dx!past-renewer"
    assert len(minted) == 1
    assert clock.mono - started <= other.max_life + 1.0  # one life, then a token: no starving


def test_a_holder_whose_mint_fails_serves_the_stale_fleet_token(kv: VaultKV) -> None:
    SharedTokens(kv).publish(entry("00Dx!stale", age=870))

    def mint() -> Entry:
        raise SalesforceUnreachable("down")

    notes: list[str] = []
    got = fleetflight.fetch(SharedTokens(kv), "acme", USER, mint, note=notes.append)
    assert got.entry.access_token.reveal() == "00Dx!stale"
    assert "Salesforce is unreachable" in notes[0]
    probe = SharedTokens(kv)
    lease = probe.acquire("acme")
    assert lease is not None  # the failed holder released it
    probe.release(lease)
    assert probe.erase("acme")
    with pytest.raises(SalesforceUnreachable):  # nothing to fall back on: the error stands
        fleetflight.fetch(SharedTokens(kv), "acme", USER, mint, note=notes.append)


def test_a_store_that_goes_away_fails_fast_afterwards(openbao: dict[str, str]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kv = VaultKV(Location("secret", "x"), {**openbao, "VAULT_ADDR": f"http://127.0.0.1:{port}"})
    with pytest.raises(StoreUnavailable, match="cannot reach"):
        kv.read("tokens/acme")
    kv._client = None  # even a fresh client is not tried again in this process
    with pytest.raises(StoreUnavailable, match="cannot reach"):
        kv.read("leases/acme")
    assert kv._client is None
