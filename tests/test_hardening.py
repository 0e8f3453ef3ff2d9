"""Every fault ends in a bounded time with the documented answer, and nothing is lost.

In process, against the stand-in and the test keyrings: one test per finding of the outside
attack review (docs/security.md, "What sfcred promises", names them). Times are bounded by hang
guards only; what is asserted is the answer, the counters and the order of events.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from _support import app_standin, make_keypair
from hypothesis import given
from hypothesis import strategies as st

from sfcred import keys
from sfcred.deadline import Deadline, Expired, run_within
from sfcred.errors import (
    ConfigError,
    KeyringUnavailable,
    SalesforceRefused,
    SalesforceUnreachable,
)
from sfcred.keys import KeyMaterial
from sfcred.profiles.index import IndexEntry, IndexFile, _parse_index
from sfcred.profiles.record import KeySlots, Profile
from sfcred.salesforce.http import tls_context
from sfcred.salesforce.oauth import TokenClient
from sfcred.salesforce.refusals import Refusal
from sfcred.secret import Secret
from sfcred.store.keystore import KeyStore
from sfcred.testing.keyrings import MemoryKeyring, StoppedKeyring
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry, State
from sfcred.tokens.flight import Tokens
from sfcred.tokens.sealer import Sealer

CID, USER = "3MVG9hardening", "hard@example.com"


@pytest.fixture(scope="module")
def material() -> keys.KeyMaterial:
    return make_keypair(common_name="hardening").material


@pytest.fixture
def sf(material: keys.KeyMaterial) -> Iterator[FakeSalesforce]:
    yield from app_standin(material, CID, USER)


def profile(url: str) -> Profile:
    return Profile("p", CID, USER, url, "https://login.salesforce.com", KeySlots("k"))


def client(budget: float = 2.0) -> TokenClient:
    return TokenClient(httpx.Client(timeout=5.0, verify=tls_context()), sleep=lambda _s: None,
                       jitter=lambda: 0.0, budget=budget)


# ---------------------------------------------------------------- one deadline per mint


@pytest.mark.parametrize("kind", ["drip", "continue"])
def test_an_endpoint_that_drips_or_continues_forever_ends_at_the_deadline(
    sf: FakeSalesforce, material: keys.KeyMaterial, kind: str
) -> None:
    """0.1 hung past 75 s: the read timeout restarted with every byte."""
    sf.fail_next(kind, count=10, delay=0.2)
    with pytest.raises(SalesforceUnreachable, match=r"no complete answer within 1\.5 s"):
        client(budget=1.5).mint(profile(sf.url), material)
    assert sf.token_requests == 1  # abandoned, not retried past the deadline


def test_a_silent_endpoint_ends_at_the_deadline(
    sf: FakeSalesforce, material: keys.KeyMaterial
) -> None:
    """0.1: exit 4 only after 43 s (the README said about 10 s)."""
    sf.fail_next("timeout", count=10, delay=30)
    started = time.monotonic()
    with pytest.raises(SalesforceUnreachable, match=r"deadline 1\.5 s"):
        client(budget=1.5).mint(profile(sf.url), material)
    assert time.monotonic() - started < 10  # hang guard; the deadline is the promise


def test_a_damaged_key_is_a_named_error_not_an_internal_one() -> None:
    from sfcred.salesforce.grants import assertion

    with pytest.raises(ConfigError, match="cannot sign: it is damaged") as e:
        assertion(profile("https://x.example"),
                  KeyMaterial(Secret("-----BEGIN PRIVATE KEY-----\nbad\n"), "", checked=True), 0)
    assert "bad" not in e.value.message


def _der_int(n: int) -> bytes:
    body = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_len(len(body)) + body


def _der_len(n: int) -> bytes:
    size = (n.bit_length() + 7) // 8
    return bytes([n]) if n < 128 else bytes([0x80 | size]) + n.to_bytes(size, "big")


def test_a_key_not_known_valid_is_checked_in_full_before_it_signs() -> None:
    """Only ``checked`` material skips OpenSSL's RSA check: a key whose numbers do not fit
    (d off by one, a PKCS#1 key built by hand) is refused when unchecked."""
    import base64

    from sfcred.keys import signing_key
    from sfcred.salesforce.grants import assertion

    n = make_keypair().key.private_numbers()
    ints = [0, n.public_numbers.n, n.public_numbers.e, n.d + 2, n.p, n.q, n.dmp1, n.dmq1, n.iqmp]
    body = b"".join(_der_int(i) for i in ints)
    der = b"\x30" + _der_len(len(body)) + body
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{base64.encodebytes(der).decode()}" \
        "-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(ConfigError, match="damaged"):
        assertion(profile("https://x.example"), KeyMaterial(Secret(pem), ""), 0)
    assert signing_key(KeyMaterial(Secret(pem), "", checked=True)).key_size == 2048


def test_a_keyring_error_names_its_type_once() -> None:
    from sfcred.store.calls import _reason

    class InitError(Exception):
        pass

    assert _reason(InitError("InitError: Failed to unlock")) == "InitError: Failed to unlock"
    assert _reason(InitError("Failed to unlock")) == "InitError: Failed to unlock"


def test_retries_stop_when_the_deadline_is_spent(
    sf: FakeSalesforce, material: keys.KeyMaterial
) -> None:
    sf.fail_next("503", count=10)
    pauses: list[float] = []
    now = [0.0]  # a fake monotonic clock that only the pauses move

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    c = TokenClient(httpx.Client(timeout=5.0), sleep=pause, jitter=lambda: 0.5, budget=1.0,
                    monotonic=lambda: now[0])
    with pytest.raises(SalesforceUnreachable, match="HTTP 503 after") as e:
        c.mint(profile(sf.url), material)
    assert sum(pauses) < 1.0  # no pause was taken that the deadline could not afford
    assert "deadline 1 s" in e.value.message


def test_a_redirect_is_explained_and_never_followed(
    sf: FakeSalesforce, material: keys.KeyMaterial
) -> None:
    sf.fail_next("redirect", value="https://acme.my.salesforce.com/services/oauth2/token?x=1")
    with pytest.raises(SalesforceRefused) as e:
        client().mint(profile(sf.url), material)
    assert e.value.exit_code == 3
    assert "redirects to https://acme.my.salesforce.com" in e.value.cause
    assert "--login-url https://acme.my.salesforce.com" in e.value.fix
    assert sf.token_requests == 1


def test_a_bare_429_is_the_login_rate_limit(
    sf: FakeSalesforce, material: keys.KeyMaterial
) -> None:
    sf.fail_next("429")
    with pytest.raises(SalesforceRefused) as e:
        client().mint(profile(sf.url), material)
    assert e.value.refusal is Refusal.RATE_LIMIT
    assert "3,600" in e.value.cause
    assert sf.token_requests == 1  # a 4xx is never retried


def test_an_untrusted_certificate_is_named_and_not_retried(
    material: keys.KeyMaterial, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    pauses: list[float] = []
    with FakeSalesforce(ssl_context=context) as tls:
        c = TokenClient(httpx.Client(timeout=5.0), sleep=pauses.append, budget=5.0)
        with pytest.raises(SalesforceUnreachable, match=r"TLS certificate of 127\.0\.0\.1") as e:
            c.mint(profile(tls.url), material)
    assert "SSL_CERT_FILE" in (e.value.hint or "")
    assert pauses == []  # not retried: a certificate does not fix itself in a second


def test_tls_trust_comes_from_ssl_cert_file_in_one_context_per_setting(
    material: keys.KeyMaterial, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """sfcred's clients share one TLS context per trust setting (the CA bundle loads once per
    process), and a changed SSL_CERT_FILE, or a new file in its place, is honoured at once."""
    from sfcred.salesforce import http as sfhttp

    ca, other = trustme.CA(), trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    other.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    first = sfhttp.tls_context()
    assert sfhttp.tls_context() is first  # shared
    with FakeSalesforce(ssl_context=context) as tls:
        tls.add_app(CID, material.cert_pem)
        tls.add_user(USER)
        tls.preauthorize(CID, USER)
        with pytest.raises(SalesforceUnreachable, match="TLS certificate"):
            TokenClient(budget=5.0, sleep=lambda _s: None).mint(profile(tls.url), material)
        ca.cert_pem.write_to_path(str(bundle))  # the right CA, in the same file
        os.utime(bundle, ns=(1, bundle.stat().st_mtime_ns + 10**9))
        assert sfhttp.tls_context() is not first
        token = TokenClient(budget=5.0).mint(profile(tls.url), material)
    assert token.access_token.reveal()


# ---------------------------------------------------------------- the lock and STALE tokens


def tokens_for(tmp_path: Path, sf: FakeSalesforce, material: keys.KeyMaterial,
               notes: list[str]) -> Tokens:
    store = KeyStore(MemoryKeyring(), "hardening")
    kid = store.put_key("p", material)
    store.put_profile(Profile("p", CID, USER, sf.url, "https://login.salesforce.com",
                              KeySlots(kid), token_ttl=900, refresh_margin=60))
    index = IndexFile(str(tmp_path / "profiles.json"))
    with index.edit() as idx:
        idx.profiles["p"] = IndexEntry("127.0.0.1", USER)
    return Tokens(index=index, store=lambda: store, client=lambda: client(budget=1.0),
                  cache=lambda: TokenCache(tmp_path / "c"), note=notes.append)


def stale_entry(now: float) -> Entry:
    return Entry("p", USER, Secret("00Dstale!token"), "http://127.0.0.1:9", now - 880,
                 now + 20, 60)


def test_a_waiter_whose_holder_does_not_finish_gets_the_stale_token(
    tmp_path: Path, sf: FakeSalesforce, material: keys.KeyMaterial,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """0.1: the waiters exited 1 after 20 s with nothing printed, though a STALE token was
    there to serve."""
    monkeypatch.setenv("SFCRED_TIMEOUT", "0.5")  # the lock wait is 1 s
    notes: list[str] = []
    tokens = tokens_for(tmp_path, sf, material, notes)
    tokens.cache.write(stale_entry(time.time()))
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with tokens.cache.lock("p"):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        served = tokens.get("p")
    finally:
        release.set()
        thread.join(10)
    assert served.access_token.reveal() == "00Dstale!token"
    assert served.state(time.time()) == State.STALE
    assert any("serving the cached one" in n for n in notes)
    assert sf.token_requests == 0


def test_the_full_path_waits_only_what_the_warm_path_left_of_the_wait(
    tmp_path: Path, sf: FakeSalesforce, material: keys.KeyMaterial,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stampede's loser waits on the warm path first (``warm.after_holder``); the full
    path then waits only for the rest of the one wait, not a second whole one."""
    monkeypatch.setenv("SFCRED_TIMEOUT", "5")  # the lock wait is 10 s
    notes: list[str] = []
    tokens = tokens_for(tmp_path, sf, material, notes)
    from sfcred.helper.warm import Pass

    tokens.warm = Pass()
    tokens.warm.waited = 10.0  # all of it, spent on the warm path (on another profile's
    # choice: only the wait is the warm path's here, not a read or a lock)
    tokens.cache.write(stale_entry(time.time()))
    with tokens.cache.lock("p"):
        started = time.monotonic()
        served = tokens.get("p")
        assert time.monotonic() - started < 3  # not another 10 s
    assert served.access_token.reveal() == "00Dstale!token"
    assert any("serving the cached one" in n for n in notes)
    assert sf.token_requests == 0


def test_without_a_stale_token_the_waiter_says_so_with_exit_4(
    tmp_path: Path, sf: FakeSalesforce, material: keys.KeyMaterial,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFCRED_TIMEOUT", "0.3")
    tokens = tokens_for(tmp_path, sf, material, [])
    with tokens.cache.lock("p"), pytest.raises(SalesforceUnreachable) as e:
        tokens.get("p")
    assert e.value.exit_code == 4
    assert "another sfcred process" in e.value.message


@pytest.mark.parametrize("what", ["lock is a folder", "cache folder is a file",
                                  "token file is a folder"])
def test_a_cache_that_cannot_be_used_degrades_to_no_cache(
    tmp_path: Path, sf: FakeSalesforce, material: keys.KeyMaterial, what: str
) -> None:
    """0.1: an internal error after minting, the token thrown away (every retry mints)."""
    notes: list[str] = []
    tokens = tokens_for(tmp_path, sf, material, notes)
    folder = tmp_path / "c"
    if what == "lock is a folder":
        folder.mkdir(mode=0o700)
        (folder / "p.lock").mkdir()
    elif what == "token file is a folder":
        folder.mkdir(mode=0o700)
        (folder / "p.token").mkdir()
    else:
        folder.write_text("not a folder")
    entry = tokens.get("p")
    assert sf.valid_token(entry.access_token.reveal())  # delivered all the same
    assert notes  # and the reason said once
    assert sf.token_requests == 1


def test_a_damaged_sealing_key_is_a_miss_and_the_token_is_delivered(
    tmp_path: Path, sf: FakeSalesforce, material: keys.KeyMaterial
) -> None:
    store = KeyStore(MemoryKeyring(), "hardening-seal")
    store._set("cache-key", "not base64 at all!")
    with pytest.raises(ConfigError, match="token-cache key in the keyring is damaged"):
        store.cache_key()
    sealed = TokenCache(tmp_path / "sealed", Sealer(store.cache_key))
    (tmp_path / "sealed").mkdir(mode=0o700)
    (tmp_path / "sealed" / "p.token").write_bytes(b"SFC1" + os.urandom(40))
    (tmp_path / "sealed" / "p.token").chmod(0o600)
    assert sealed.read("p") is None
    notes: list[str] = []
    tokens = tokens_for(tmp_path, sf, material, notes)
    tokens._cache = lambda: sealed
    assert sf.valid_token(tokens.get("p").access_token.reveal())
    assert any("damaged" in n for n in notes)


# ---------------------------------------------------------------- bounded keyring calls


def test_a_keyring_that_never_answers_is_exit_5_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """0.1: a SIGSTOPped gnome-keyring hung `get` and `profile show` indefinitely."""
    monkeypatch.setenv("SFCRED_STOPPED_SECONDS", "30")
    store = KeyStore(StoppedKeyring(), "stopped", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable, match=r"did not answer within 0\.3 s") as e:
        store.get_profile("p")
    assert e.value.exit_code == 5
    assert time.monotonic() - started < 10  # hang guard


def test_run_within_returns_raises_and_expires() -> None:
    assert run_within(lambda: 42, 1) == 42
    with pytest.raises(ZeroDivisionError):
        run_within(lambda: 1 // 0, 1)
    gate = threading.Event()
    with pytest.raises(Expired):
        run_within(lambda: gate.wait(30), 0.05)
    gate.set()
    ticks = iter([0.0, 0.4, 2.0])
    d = Deadline(1.0, clock=lambda: next(ticks))
    assert d.left() == pytest.approx(0.6)
    assert d.expired()


# ---------------------------------------------------------------- readers of untrusted bytes


def test_a_deeply_nested_body_is_not_json_not_a_crash() -> None:
    from sfcred.salesforce.http import json_object

    assert json_object(b"[" * 200_000) is None
    assert json_object(b'{"a":' * 100_000) is None
    assert json_object(b'{"access_token": "x"}') == {"access_token": "x"}


@given(st.binary(max_size=600))
def test_the_cache_reader_takes_any_bytes(raw: bytes) -> None:
    entry = Entry.from_bytes(raw, "p")
    assert entry is None or isinstance(entry.expires_at, float)


@given(st.text(max_size=300))
def test_the_cache_reader_takes_any_text_of_the_right_shape(text: str) -> None:
    raw = ("v=sfcred-token-cache-1\nprofile=p\n" + text).encode("utf-8", "surrogatepass")
    entry = Entry.from_bytes(raw, "p")
    if entry is not None:
        assert entry.instance_url.startswith(("https://", "http://"))
        assert entry.access_token.reveal().isprintable()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                  max_size=4),
    max_leaves=20,
)


@given(st.one_of(st.binary(max_size=400), JSONISH.map(lambda v: repr(v).encode())))
def test_the_index_reader_takes_any_bytes(raw: bytes) -> None:
    try:
        index = _parse_index(raw)
    except (ValueError, TypeError, RecursionError, ConfigError):
        return  # IndexFile.load turns these into "the profile index is damaged"
    for name in index.profiles:
        assert os.sep not in name


@given(st.dictionaries(st.sampled_from(["default", "profiles", "x"]), JSONISH, max_size=3))
def test_the_index_file_is_a_value_or_a_named_error(tmp_path_factory: pytest.TempPathFactory,
                                                     data: dict[str, object]) -> None:
    import json

    path = tmp_path_factory.mktemp("idx") / "profiles.json"
    path.write_text(json.dumps(data))
    error: ConfigError | None = None
    try:
        IndexFile(str(path)).load()
    except ConfigError as e:
        error = e
    assert error is None or "damaged" in error.message


@given(st.one_of(st.text(max_size=300), JSONISH.map(repr),
                 st.just("[" * 5000), st.just('{"keys": 1}')))
def test_a_profile_record_from_the_keyring_is_a_value_or_a_named_error(text: str) -> None:
    error: ConfigError | None = None
    try:
        Profile.from_json(text)
    except ConfigError as e:
        error = e
    assert error is None or "unreadable" in error.message


@given(manifest=st.fixed_dictionaries({
    "n": st.one_of(st.integers(-5, 10**9), st.text(max_size=5), st.none()),
    "tag": st.one_of(st.text(max_size=8), st.integers()),
    "sha256": st.text(max_size=64),
}))
def test_a_damaged_key_manifest_is_a_named_error_in_bounded_time(
    manifest: dict[str, object],
) -> None:
    import json

    store = KeyStore(MemoryKeyring(), "hardening-manifest", sleep=lambda _s: None)
    store._set("key:p:k1", json.dumps(manifest))
    with pytest.raises(ConfigError, match="damaged"):
        store.get_key("p", "k1")
