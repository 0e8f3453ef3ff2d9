"""Key rotation in process (sfcred.rotation.lifecycle): the memory keyring and the stand-in.

Every step is checked twice: what it does when all goes well, and what a keyring error or a
crash at EACH of its keyring writes leaves behind (``FaultyKeyring``). After any fault the
profile must mint, with no repair, against the stand-in holding the certificate that the
admin has uploaded at that point of the rotation:

    step                          stand-in holds     must mint with            written
    rotate (start, --force)       the old cert       the active (old) key      5, 9
    first get after the upload    the new cert       new key (pending or       1 + 4 when a
      (promotion), --activate                        active, either way)       previous falls
    --abort                       the old cert       the active (old) key      1 + 4
    --rollback                    the old cert       the old key (active or    1
                                  again              previous, either way)

(5 = 3 chunks + manifest of the new key, then the record; 4 = manifest + 3 chunks deleted.)
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from _support import KeyPair
from keyring.backend import KeyringBackend

from sfcred import keys
from sfcred.errors import ConfigError, KeyringUnavailable, SalesforceRefused
from sfcred.keys import KeyMaterial
from sfcred.profiles.record import KeySlots, Profile, default_audience
from sfcred.rotation import lifecycle
from sfcred.salesforce.http import tls_context
from sfcred.salesforce.oauth import Token, TokenClient
from sfcred.secret import Secret
from sfcred.store.keystore import KeyStore
from sfcred.testing.keyrings import FaultyKeyring, MemoryKeyring, SimulatedCrash
from sfcred.testing.server import FakeSalesforce

NAME = "acme"
USER = "integration@example.com"


@dataclass
class Org:
    sf: FakeSalesforce
    client_id: str
    old: KeyMaterial  # the key the profile starts with, its certificate at the stand-in

    def upload(self, cert_pem: str) -> None:
        self.sf.upload_certificate(self.client_id, cert_pem)


def material_of(pair: KeyPair) -> KeyMaterial:
    return KeyMaterial(key_pem=Secret(pair.key_pem), cert_pem=pair.cert_pem, checked=True)


@pytest.fixture
def client() -> Iterator[TokenClient]:
    # A connection per request: on a kept-alive connection each stand-in reply waits ~40 ms
    # (delayed ACK against its separate header and body writes).
    http = httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0),
                        verify=tls_context())
    c = TokenClient(http, attempts=1)
    yield c
    c.close()


@pytest.fixture
def org(standin: FakeSalesforce, rsa_keypair: Callable[..., KeyPair]) -> Org:
    """Profile NAME in the memory keyring, its key's certificate uploaded to a new app."""
    old = material_of(rsa_keypair())
    client_id = "3MVG9" + secrets.token_hex(20)
    standin.add_app(client_id, old.cert_pem)
    standin.add_user(USER)
    standin.preauthorize(client_id, USER)
    store = KeyStore()
    kid = store.put_key(NAME, old)
    store.put_profile(
        Profile(
            name=NAME,
            client_id=client_id,
            username=USER,
            login_url=standin.url,
            audience=default_audience(standin.url),
            keys=KeySlots(active=kid),
        )
    )
    return Org(standin, client_id, old)


def record() -> Profile:
    return KeyStore().require_profile(NAME)


def items() -> set[str]:
    return {user for (_service, user) in MemoryKeyring.store}


def mint(client: TokenClient, notes: list[str] | None = None) -> tuple[Token, Profile]:
    """What `sfcred get` does on a cold cache, with a store that injects no fault."""
    out = notes if notes is not None else []
    return lifecycle.mint_with_rotation(KeyStore(), client, record(), out.append)


def mints_with(client: TokenClient, profile: Profile, material: KeyMaterial) -> bool:
    try:
        client.mint(profile, material)
    except SalesforceRefused as e:
        if "invalid assertion" in e.description:
            return False
        raise
    return True


def start(store: KeyStore | None = None, *, force: bool = False) -> str:
    """`sfcred rotate NAME`: returns the pending certificate."""
    _, cert = lifecycle.start(store or KeyStore(), record(), None, 30, force)
    return cert


# ---------------------------------------------------------------- the sequence, no faults


def test_start_stores_a_pending_key_of_the_same_size_and_its_certificate(
    org: Org, client: TokenClient
) -> None:
    before = items()
    cert = start()
    p = record()
    assert p.keys.active == org.old.key_id
    assert p.keys.pending is not None
    assert p.keys.pending != p.keys.active
    assert p.keys.previous is None
    pending = KeyStore().get_key(NAME, p.keys.pending)
    assert pending.cert_pem == cert
    assert keys.cert_matches(cert, keys.public_of(pending.key_pem))
    assert keys.public_of(pending.key_pem).key_size == 2048
    assert "PRIVATE" not in cert
    # key material in chunks (each under the Windows limit) plus a manifest, then the record
    new_items = items() - before
    assert f"key:{NAME}:{p.keys.pending}" in new_items
    assert all(len(v) <= 1000 for v in MemoryKeyring.store.values() if v.startswith('"'))
    # the active key keeps working until the admin uploads the certificate
    token, after = mint(client)
    assert token.access_token.reveal()
    assert after == p, "nothing is promoted while Salesforce knows only the active key"


def test_start_keeps_the_size_of_the_active_key_unless_told(
    standin: FakeSalesforce, rsa_keypair: Callable[..., KeyPair]
) -> None:
    store = KeyStore()
    pair = rsa_keypair(3072)
    kid = store.put_key(NAME, material_of(pair))
    profile = Profile(NAME, "cid", USER, standin.url, standin.url, KeySlots(kid))
    store.put_profile(profile)
    new, cert = lifecycle.start(store, profile, None, 30, False)
    assert new.keys.pending is not None
    assert keys.public_of(store.get_key(NAME, new.keys.pending).key_pem).key_size == 3072
    new, cert = lifecycle.start(store, new, 2048, 30, True)
    assert new.keys.pending is not None
    assert keys.public_of(store.get_key(NAME, new.keys.pending).key_pem).key_size == 2048
    assert keys.cert_matches(cert, keys.public_of(store.get_key(NAME, new.keys.pending).key_pem))
    days = (keys.cert_expiry(cert) - dt.datetime.now(dt.timezone.utc)).total_seconds() / 86400
    assert 29 < days <= 30, "--cert-days"


def test_start_refuses_while_a_key_is_pending_unless_forced(org: Org) -> None:
    start()
    first = record().keys.pending
    assert first is not None
    with pytest.raises(ConfigError) as refused:
        start()
    assert "already has a pending key" in refused.value.message
    assert "--force" in (refused.value.hint or "")
    assert record().keys.pending == first
    start(force=True)
    second = record().keys.pending
    assert second not in (None, first)
    assert not any(i.startswith(f"key:{NAME}:{first}") for i in items()), "old pending kept"


def test_get_promotes_the_pending_key_once_salesforce_knows_it(
    org: Org, client: TokenClient
) -> None:
    cert = start()
    pending = record().keys.pending
    assert pending is not None
    org.upload(cert)
    org.sf.reset_counts()
    notes: list[str] = []
    token, promoted = mint(client, notes)
    assert org.sf.valid_token(token.access_token.reveal())
    assert org.sf.token_requests == 2, "the active key, refused, then the pending one"
    assert promoted.keys == KeySlots(active=pending, pending=None, previous=org.old.key_id)
    assert record() == promoted
    assert len(notes) == 1
    assert "accepted the pending key" in notes[0]
    # the next mint goes straight to the new key; the old one is refused now
    org.sf.reset_counts()
    mint(client, notes)
    assert org.sf.token_requests == 1
    assert len(notes) == 1
    assert not mints_with(client, promoted, org.old)


def test_get_never_tries_the_pending_key_for_other_refusals(org: Org, client: TokenClient) -> None:
    start()
    org.sf.add_user(USER, active=False)
    org.sf.reset_counts()
    with pytest.raises(SalesforceRefused) as refused:
        mint(client)
    assert "invalid assertion" not in refused.value.description
    assert org.sf.token_requests == 1
    assert record().keys.pending is not None


def test_get_raises_the_active_keys_refusal_when_no_key_works(
    org: Org, client: TokenClient, rsa_keypair: Callable[..., KeyPair]
) -> None:
    start()
    org.upload(rsa_keypair(name="stranger").cert_pem)
    before = record()
    with pytest.raises(SalesforceRefused) as refused:
        mint(client)
    assert refused.value.exit_code == 3
    assert "invalid assertion" in refused.value.description
    assert record() == before


def test_activate_refuses_before_the_upload_and_promotes_after(
    org: Org, client: TokenClient
) -> None:
    cert = start()
    before = record()
    with pytest.raises(SalesforceRefused) as refused:
        lifecycle.activate(KeyStore(), client, before)
    assert refused.value.exit_code == 3
    assert "upload the pending certificate first" in refused.value.fix
    assert f"sfcred cert {NAME} --pending" in refused.value.fix
    assert "Use digital signatures" in refused.value.fix
    assert record() == before
    org.upload(cert)
    token, promoted = lifecycle.activate(KeyStore(), client, before)
    assert before.keys.pending is not None
    assert org.sf.valid_token(token.access_token.reveal())
    assert promoted.keys == KeySlots(before.keys.pending, None, org.old.key_id)
    assert record() == promoted
    with pytest.raises(ConfigError, match="no pending key"):
        lifecycle.activate(KeyStore(), client, promoted)


def test_abort_discards_the_pending_key_and_its_material(org: Org, client: TokenClient) -> None:
    before_items = items()
    start()
    pending = record().keys.pending
    aborted = lifecycle.abort(KeyStore(), record())
    assert aborted.keys == KeySlots(org.old.key_id)
    assert record() == aborted
    assert items() == before_items, "the pending key's manifest and chunks are gone"
    assert pending is not None
    mint(client)
    with pytest.raises(ConfigError, match="no pending key"):
        lifecycle.abort(KeyStore(), aborted)


def test_rollback_swaps_the_previous_key_back(org: Org, client: TokenClient) -> None:
    new_cert = start()
    org.upload(new_cert)
    _, promoted = mint(client)
    new_kid = promoted.keys.active
    with pytest.raises(ConfigError, match="no previous key"):
        lifecycle.rollback(KeyStore(), promoted.changed(keys=KeySlots(new_kid)))
    # the admin re-uploads the old certificate: gets keep working before the rollback too
    org.upload(org.old.cert_pem)
    notes: list[str] = []
    _, same = mint(client, notes)
    assert same == promoted, "falling back to the previous key writes nothing"
    assert "accepted the previous one" in notes[0]
    assert "--rollback" in notes[0]
    rolled = lifecycle.rollback(KeyStore(), promoted)
    assert rolled.keys == KeySlots(active=org.old.key_id, pending=None, previous=new_kid)
    assert record() == rolled
    org.sf.reset_counts()
    notes.clear()
    mint(client, notes)
    assert org.sf.token_requests == 1, "the old key is active again"
    assert notes == []


def test_a_second_rotation_drops_the_key_two_generations_old(org: Org, client: TokenClient) -> None:
    org.upload(start())
    mint(client)
    middle = record().keys.active
    org.upload(start())
    _, promoted = mint(client)
    assert promoted.keys.previous == middle
    assert not any(i.startswith(f"key:{NAME}:{org.old.key_id}") for i in items())
    assert any(i.startswith(f"key:{NAME}:{middle}") for i in items())


# ---------------------------------------------------------------- faults at every write


@dataclass(frozen=True)
class Case:
    """One step of the rotation: how to reach the state before it, run it, and which
    certificate the stand-in holds (the admin's doing) while and after it runs."""

    name: str
    prepare: Callable[[Org, TokenClient], None]
    run: Callable[[KeyStore, TokenClient], object]
    stand_in: str  # "old" or "new": the certificate the stand-in holds for the step
    writes: int


def _pending(org: Org, client: TokenClient) -> None:
    start()


def _two_pending(org: Org, client: TokenClient) -> None:
    start()
    start(force=True)


def _rotated_once_then_pending(org: Org, client: TokenClient) -> None:
    """active = key 2, previous = key 1 (the old one), pending = key 3: a promotion now
    drops key 1, so every write of a promotion is exercised."""
    org.upload(start())
    mint(client)
    start()


def _rotated(org: Org, client: TokenClient) -> None:
    org.upload(start())
    mint(client)


def _get(store: KeyStore, client: TokenClient) -> object:
    return lifecycle.mint_with_rotation(store, client, store.require_profile(NAME), print)


CASES = [
    Case("start", lambda o, c: None, lambda s, c: start(s), "old", 5),
    Case("start --force", _pending, lambda s, c: start(s, force=True), "old", 9),
    Case("get promotes", _rotated_once_then_pending, _get, "new", 5),
    Case(
        "activate",
        _rotated_once_then_pending,
        lambda s, c: lifecycle.activate(s, c, s.require_profile(NAME)),
        "new",
        5,
    ),
    Case("abort", _two_pending,
         lambda s, c: lifecycle.abort(s, s.require_profile(NAME)), "old", 5),
    Case("rollback", _rotated,
         lambda s, c: lifecycle.rollback(s, s.require_profile(NAME)), "old", 1),
]


def _stand_in_cert(org: Org, which: str) -> str:
    """The certificate the admin has uploaded for the step: the old key's, or the newest
    key's (pending if there is one, else active)."""
    if which == "old":
        return org.old.cert_pem
    p = record()
    return KeyStore().get_key(NAME, p.keys.pending or p.keys.active).cert_pem


def _key_of_cert(cert_pem: str, p: Profile) -> str:
    for kid in (p.keys.active, p.keys.pending, p.keys.previous):
        if kid and KeyStore().get_key(NAME, kid).cert_pem == cert_pem:
            return kid
    raise AssertionError("the profile no longer holds the key of the uploaded certificate")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_write_counts(case: Case, org: Org, client: TokenClient) -> None:
    case.prepare(org, client)
    org.upload(_stand_in_cert(org, case.stand_in))
    counter = FaultyKeyring(MemoryKeyring(), mode="count")
    case.run(KeyStore(counter), client)
    assert len(counter.writes) == case.writes, counter.writes
    # the record is the commit point: material before it, deletions after it
    commit = next(i for i, w in enumerate(counter.writes) if w == f"set profile:{NAME}")
    assert all(w.startswith("set key:") for w in counter.writes[:commit])
    assert all(w.startswith("delete key:") for w in counter.writes[commit + 1 :])


@pytest.mark.parametrize("mode", ["crash", "error"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_fault_at_any_write_leaves_a_working_key(
    case: Case, mode: str, org: Org, client: TokenClient
) -> None:
    case.prepare(org, client)
    cert = _stand_in_cert(org, case.stand_in)
    org.upload(cert)
    snapshot = dict(MemoryKeyring.store)
    before = record()
    must_work = _key_of_cert(cert, before)  # the key whose certificate the stand-in holds
    for at in range(1, case.writes + 1):
        MemoryKeyring.store.clear()
        MemoryKeyring.store.update(snapshot)
        faulty = FaultyKeyring(MemoryKeyring(), at=at, mode=mode)
        try:
            case.run(KeyStore(faulty), client)
        except SimulatedCrash:
            assert mode == "crash"
        except KeyringUnavailable:
            assert mode == "error"
            # an error after the commit is cleanup: the step itself must not fail for it
            assert f"set profile:{NAME}" not in faulty.writes[: at - 1], "cleanup failed it"
        assert len(faulty.writes) >= at, "the fault was not reached"
        after = record()
        # the record names only keys whose material is whole
        for kid in (after.keys.active, after.keys.pending, after.keys.previous):
            if kid:
                KeyStore().get_key(NAME, kid)
        # it is the state before the step or the state after it, nothing in between
        assert after.keys in (before.keys, _state_after(case, before)), (at, after.keys)
        assert must_work in (after.keys.active, after.keys.pending, after.keys.previous)
        # and, with no repair, a get mints (promoting if need be) against the stand-in
        token, final = mint(client)
        assert org.sf.valid_token(token.access_token.reveal()), (case.name, mode, at)
        if case.stand_in == "new":
            assert final.keys.active == must_work, "the uploaded key ends up active"


def _state_after(case: Case, before: Profile) -> KeySlots:
    k = before.keys
    if case.name in ("get promotes", "activate"):
        assert k.pending is not None
        return KeySlots(k.pending, None, k.active)
    if case.name == "abort":
        return KeySlots(k.active, None, k.previous)
    if case.name == "rollback":
        assert k.previous is not None
        return KeySlots(k.previous, k.pending, k.active)
    return KeySlots(k.active, record().keys.pending, k.previous)  # start: a new pending kid


def test_get_succeeds_when_the_keyring_refuses_to_record_the_promotion(
    org: Org, client: TokenClient
) -> None:
    org.upload(start())
    before = record()
    notes: list[str] = []
    faulty = FaultyKeyring(MemoryKeyring(), at=1, mode="error")
    token, profile = lifecycle.mint_with_rotation(KeyStore(faulty), client, before, notes.append)
    assert org.sf.valid_token(token.access_token.reveal())
    assert profile == before == record()
    assert "did not record its promotion" in notes[0]
    assert "tries again" in notes[0]
    _, promoted = mint(client)  # the next mint promotes
    assert promoted.keys.active == before.keys.pending


def test_faulty_keyring_reads_its_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = str(tmp_path / "writes.log")
    monkeypatch.setenv("SFCRED_FAULT_AT", "2")
    monkeypatch.setenv("SFCRED_FAULT_MODE", "error")
    monkeypatch.setenv("SFCRED_FAULT_LOG", log)
    backend = FaultyKeyring()
    assert isinstance(backend.delegate, MemoryKeyring)
    backend.set_password("svc", "one", "1")
    with pytest.raises(Exception, match="injected failure at write 2: delete one"):
        backend.delete_password("svc", "one")
    assert backend.get_password("svc", "one") == "1", "the failed write did not happen"
    backend.set_password("svc", "two", "2")  # writes after the fault pass
    assert Path(log).read_text(encoding="utf-8").splitlines() == [
        "set one",
        "delete one",
        "set two",
    ]
    monkeypatch.setenv("SFCRED_FAULT_MODE", "sideways")
    with pytest.raises(ValueError, match="SFCRED_FAULT_MODE"):
        FaultyKeyring()


def test_faulty_keyring_is_a_keyring_backend() -> None:
    assert isinstance(FaultyKeyring(MemoryKeyring()), KeyringBackend)
