"""salesforce.oauth against the stand-in, in-process: the assertion, retries, answer checks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from _support import app_standin, make_keypair

from sfcred import keys
from sfcred.errors import SalesforceRefused, SalesforceUnreachable
from sfcred.profiles.record import KeySlots, Profile
from sfcred.salesforce.grants import ASSERTION_LIFETIME, JwtBearer, assertion, grant_of
from sfcred.salesforce.http import tls_context
from sfcred.salesforce.oauth import TokenClient
from sfcred.testing.server import FakeSalesforce

CID = "3MVGunit"
USER = "unit@example.com"


@pytest.fixture(scope="module")
def material() -> keys.KeyMaterial:
    return make_keypair(common_name="unit").material


@pytest.fixture
def sf(material: keys.KeyMaterial) -> Iterator[FakeSalesforce]:
    yield from app_standin(material, CID, USER)


def profile(url: str, aud: str = "https://login.salesforce.com") -> Profile:
    return Profile("p", CID, USER, url, aud, KeySlots("k"))


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(sleeps: Sleeps | None = None) -> TokenClient:
    return TokenClient(httpx.Client(timeout=2.0, verify=tls_context()), sleep=sleeps or Sleeps(),
                       jitter=lambda: 0.5)


def test_assertion_claims(material: keys.KeyMaterial) -> None:
    p = profile("https://login.salesforce.com")
    token = assertion(p, material, 1_000_000.0)
    pub = keys.public_of(material.key_pem)
    claims = jwt.decode(token, pub, algorithms=["RS256"], audience=p.audience,
                        options={"verify_exp": False})
    assert claims == {"iss": CID, "sub": USER, "aud": p.audience,
                      "exp": 1_000_000 + ASSERTION_LIFETIME}
    assert ASSERTION_LIFETIME <= 180
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_mint_returns_a_token_the_stand_in_accepts(sf: FakeSalesforce,
                                                   material: keys.KeyMaterial) -> None:
    token = client().mint(profile(sf.url), material)
    assert sf.valid_token(token.access_token.reveal())
    assert token.instance_url == sf.url
    assert sf.token_requests == 1


def test_a_grant_is_what_the_mint_posts(sf: FakeSalesforce, material: keys.KeyMaterial) -> None:
    """The Grant seam: a mint sends what the profile's grant (or the one given) says, and
    every answer is read the same way; a grant whose form Salesforce refuses is explained."""
    assert isinstance(grant_of(profile(sf.url)), JwtBearer)

    class Other:
        name = "other"

        def __init__(self) -> None:
            self.forms: list[dict[str, str]] = []

        def form(self, p: Profile, m: keys.KeyMaterial, now: float) -> dict[str, str]:
            out = {"grant_type": "urn:example:other", "client_id": p.client_id}
            self.forms.append(out)
            return out

    other = Other()
    with pytest.raises(SalesforceRefused) as refused:
        client().mint(profile(sf.url), material, grant=other)
    assert refused.value.error == "unsupported_grant_type"
    assert other.forms == [{"grant_type": "urn:example:other", "client_id": CID}]
    token = client().mint(profile(sf.url), material, grant=JwtBearer())
    assert sf.valid_token(token.access_token.reveal())


def test_5xx_is_retried_with_backoff_then_succeeds(sf: FakeSalesforce,
                                                   material: keys.KeyMaterial) -> None:
    sf.fail_next("503", count=2)
    sleeps = Sleeps()
    token = client(sleeps).mint(profile(sf.url), material)
    assert sf.valid_token(token.access_token.reveal())
    assert sf.token_requests == 3
    assert len(sleeps.calls) == 2
    assert sleeps.calls[1] > sleeps.calls[0]


def test_persistent_5xx_is_exit_4_after_a_bounded_number_of_tries(
    sf: FakeSalesforce, material: keys.KeyMaterial
) -> None:
    sf.fail_next("500", count=10)
    sleeps = Sleeps()
    with pytest.raises(SalesforceUnreachable, match="HTTP 500 after 4 attempts") as info:
        client(sleeps).mint(profile(sf.url), material)
    assert info.value.exit_code == 4
    assert sf.token_requests == 4
    assert sum(sleeps.calls) < 10  # the whole retry budget stays near ten seconds


def test_4xx_is_final_and_never_retried(sf: FakeSalesforce,
                                        material: keys.KeyMaterial) -> None:
    with pytest.raises(SalesforceRefused) as info:
        client().mint(profile(sf.url, aud="https://test.salesforce.com"), material)
    assert info.value.description == "audience is invalid"
    assert "test.salesforce.com" in info.value.fix
    assert sf.token_requests == 1


def test_unreachable_is_exit_4() -> None:
    key = keys.KeyMaterial(keys.key_to_pem(make_keypair().key), "")
    with pytest.raises(SalesforceUnreachable, match="ConnectError"):
        client().mint(profile("http://127.0.0.1:9"), key)


@pytest.mark.parametrize("kind", ["garbage", "huge", "crlf", "http_instance", "missing_token"])
def test_bad_answers_are_refused_and_never_passed_on(sf: FakeSalesforce,
                                                     material: keys.KeyMaterial,
                                                     kind: str) -> None:
    sf.fail_next(kind)
    with pytest.raises(SalesforceUnreachable) as info:
        client().mint(profile(sf.url), material)
    assert "refus" in info.value.message


def test_a_read_timeout_is_retried(sf: FakeSalesforce, material: keys.KeyMaterial) -> None:
    sf.fail_next("timeout", delay=3)
    start = time.monotonic()
    c = TokenClient(httpx.Client(timeout=httpx.Timeout(0.5)), sleep=Sleeps(), jitter=lambda: 0)
    token = c.mint(profile(sf.url), material)
    assert sf.valid_token(token.access_token.reveal())
    assert time.monotonic() - start < 3
