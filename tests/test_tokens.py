"""The token layer in process (``sfcred.tokens.flight.Tokens``): a memory keyring, a cache in a
temporary folder, an injected clock, and the Salesforce stand-in counting token requests.

Each rule of the cache in front of the token endpoint, one test each: a FRESH token costs no
request, a STALE one is renewed, an EXPIRED one is never served, a dead endpoint leaves a
STALE token served with a note, and erase forgets exactly what it is asked to.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _support import Clock

from sfcred.errors import SalesforceUnreachable
from sfcred.profiles import manage
from sfcred.profiles.index import IndexFile
from sfcred.salesforce.oauth import TokenClient
from sfcred.store.keystore import KeyStore
from sfcred.testing.keyrings import MemoryKeyring
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import State
from sfcred.tokens.flight import Tokens

CID, USER = "3MVG9tokensUnit", "tokens@example.com"
TTL, MARGIN = 3600, 300


@pytest.fixture
def sf() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def made(sf: FakeSalesforce, tmp_path: Path, clock: Clock) -> tuple[Tokens, list[str]]:
    store = KeyStore(MemoryKeyring(), "tokens-unit")
    index = IndexFile(str(tmp_path / "profiles.json"))
    manage.add(manage.NewProfile("p", CID, USER, sf.url, generate_bits=2048, token_ttl=TTL,
                                 refresh_margin=MARGIN), store, index, None)
    sf.add_app(CID, store.get_key("p", store.require_profile("p").keys.active).cert_pem)
    sf.add_user(USER)
    sf.preauthorize(CID, USER)
    notes: list[str] = []
    tokens = Tokens(index=index, store=lambda: store, clock=clock, note=notes.append,
                    cache=lambda: TokenCache(tmp_path / "cache"),
                    client=lambda: TokenClient(httpx.Client(timeout=5), clock=clock,
                                                       sleep=lambda _s: None))
    return tokens, notes


def test_a_fresh_token_costs_no_request(made: tuple[Tokens, list[str]],
                                        sf: FakeSalesforce) -> None:
    tokens, _ = made
    first = tokens.get("p")
    assert sf.token_requests == 1
    assert sf.valid_token(first.access_token.reveal())
    again = tokens.get("p")
    assert again.access_token.reveal() == first.access_token.reveal()
    assert sf.token_requests == 1


def test_a_stale_token_is_renewed(made: tuple[Tokens, list[str]], sf: FakeSalesforce,
                                  clock: Clock) -> None:
    tokens, _ = made
    first = tokens.get("p")
    clock.t += TTL - MARGIN + 1  # inside the refresh margin: STALE
    cached = tokens.cache.read("p")
    assert cached is not None
    assert cached.state(clock.t) == State.STALE
    renewed = tokens.get("p")
    assert sf.token_requests == 2
    assert renewed.access_token.reveal() != first.access_token.reveal()


def test_a_dead_endpoint_leaves_the_stale_token_served_with_a_note(
    made: tuple[Tokens, list[str]], sf: FakeSalesforce, clock: Clock
) -> None:
    tokens, notes = made
    first = tokens.get("p")
    clock.t += TTL - MARGIN + 1
    sf.fail_next("503", count=100)
    served = tokens.get("p")
    assert served.access_token.reveal() == first.access_token.reveal()
    assert any("serving the cached token until it expires" in n for n in notes), notes


def test_an_expired_token_is_never_served(made: tuple[Tokens, list[str]], sf: FakeSalesforce,
                                          clock: Clock) -> None:
    tokens, _ = made
    tokens.get("p")
    clock.t += TTL + 1
    sf.fail_next("503", count=100)
    with pytest.raises(SalesforceUnreachable):
        tokens.get("p")


def test_erase_forgets_and_the_next_get_mints(made: tuple[Tokens, list[str]],
                                              sf: FakeSalesforce) -> None:
    tokens, _ = made
    first = tokens.get("p")
    assert tokens.erase("p") is True
    assert tokens.cache.read("p") is None
    second = tokens.get("p")
    assert sf.token_requests == 2
    assert second.access_token.reveal() != first.access_token.reveal()


def test_erase_with_another_password_keeps_the_token(made: tuple[Tokens, list[str]],
                                                     sf: FakeSalesforce) -> None:
    from sfcred.secret import Secret

    tokens, _ = made
    first = tokens.get("p")
    assert tokens.erase("p", Secret("not-the-token")) is False
    assert tokens.get("p").access_token.reveal() == first.access_token.reveal()
    assert sf.token_requests == 1
    assert tokens.erase("p", first.access_token) is True
