"""The client credentials grant in process: the secret as key material, the profile record's
grant, the form the grant posts, CI mode's profile, the exp of a JWT-based access token, and
a mint against the stand-in (success, refusals, a JWT-shaped token)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from _support import make_keypair

from sfcred import keys
from sfcred.errors import ConfigError, InputError, SalesforceRefused
from sfcred.profiles import env as envprofile
from sfcred.profiles.record import KeySlots, Profile, require_my_domain
from sfcred.salesforce.grants import ClientCredentials, JwtBearer, grant_of
from sfcred.salesforce.jwtexp import cache_life, expiry
from sfcred.salesforce.oauth import TokenClient
from sfcred.salesforce.refusals import Refusal
from sfcred.testing.server import FakeSalesforce

SECRET = "CS" + "ab12" * 16


def _profile(url: str, **kw: object) -> Profile:
    material = keys.client_secret(SECRET)
    base = {"name": "cc", "client_id": "cc-app", "username": "", "login_url": url,
            "audience": "https://login.salesforce.com", "keys": KeySlots(material.key_id),
            "grant": "client-credentials"}
    return Profile(**{**base, **kw})  # type: ignore[arg-type]


def test_a_secret_is_material_with_an_id_that_shows_nothing() -> None:
    m = keys.client_secret(f"  {SECRET}\n")
    assert m.is_secret
    assert m.key_pem.reveal() == SECRET
    assert m.key_id == keys.client_secret(SECRET).key_id != keys.client_secret("x").key_id
    assert SECRET not in m.key_id + repr(m)
    assert keys.readable(m)
    assert json.loads(keys.stored_form(m))["kind"] == "client-secret"
    assert "kind" not in json.loads(keys.stored_form(make_keypair().material))
    for bad in ("", "   ", "a\tb", "x" * 1025):
        with pytest.raises(InputError):
            keys.client_secret(bad)


def test_the_record_keeps_its_grant_and_refuses_an_unknown_one() -> None:
    p = _profile("https://acme.my.salesforce.com")
    again = Profile.from_json(p.to_json())
    assert again.client_credentials
    assert isinstance(grant_of(again), ClientCredentials)
    old = json.loads(p.to_json())
    del old["grant"]  # a record written before grants existed
    assert isinstance(grant_of(Profile.from_json(json.dumps(old))), JwtBearer)
    with pytest.raises(ConfigError):
        Profile.from_json(json.dumps({**old, "grant": "password"}))


def test_the_form_holds_the_secret_and_never_a_key() -> None:
    p = _profile("https://acme.my.salesforce.com")
    form = ClientCredentials().form(p, keys.client_secret(SECRET), time.time())
    assert form == {"grant_type": "client_credentials", "client_id": "cc-app",
                    "client_secret": SECRET}
    with pytest.raises(ConfigError):
        ClientCredentials().form(p, make_keypair().material, time.time())


@pytest.mark.parametrize("url", ["https://login.salesforce.com", "https://test.salesforce.com"])
def test_only_a_my_domain_serves_the_grant(url: str) -> None:
    with pytest.raises(InputError, match="My Domain"):
        require_my_domain(url, "--login-url")
    assert require_my_domain("https://acme.my.salesforce.com", "x")


def test_ci_mode_makes_a_client_credentials_profile() -> None:
    env = {"SFCRED_CLIENT_ID": "cc-app", "SFCRED_CLIENT_SECRET": SECRET,
           "SFCRED_LOGIN_URL": "https://acme.my.salesforce.com"}
    made = envprofile.from_env(env)
    assert made.profile.client_credentials
    assert made.profile.username == ""
    assert made.key().key_pem.reveal() == SECRET
    assert SECRET not in made.profile.to_json() + made.name
    jwt_one = envprofile.from_env({**env, "SFCRED_USERNAME": "u@x.com",
                                   "SFCRED_PRIVATE_KEY": "pem"})
    assert not jwt_one.profile.client_credentials
    assert jwt_one.name != made.name
    with pytest.raises(ConfigError, match="My Domain"):
        envprofile.from_env({**env, "SFCRED_LOGIN_URL": "production"})


def _jwt(claims: object) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{part(b'{}')}.{part(json.dumps(claims).encode())}.sig"


def test_the_exp_of_a_jwt_access_token() -> None:
    assert expiry(_jwt({"exp": 1700000000})) == 1700000000.0
    for token in ("00D!opaque.token", _jwt({"exp": "soon"}), _jwt({"exp": True}), _jwt([1]),
                  "a.b.c", "a..c", _jwt({"exp": 1}) + "x" * 20000, _jwt({})):
        assert expiry(token) is None


def test_the_cache_life_a_jwt_access_token_gives() -> None:
    now = 1_800_000_000.0
    assert cache_life(now, 900, True, "opaque!token") == 900
    assert cache_life(now, 900, True, _jwt({"exp": now + 300})) == 300  # shorter: always
    assert cache_life(now, 900, True, _jwt({"exp": now + 5000})) == 5000  # the default gives way
    assert cache_life(now, 1200, False, _jwt({"exp": now + 5000})) == 1200  # a chosen TTL holds
    assert cache_life(now, 900, True, _jwt({"exp": now + 10**7})) == 86400  # a day at most


@pytest.fixture
def sf() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as standin:
        standin.add_app("cc-app", make_keypair().cert_pem, client_secret=SECRET)
        standin.add_user("runas@example.com")
        standin.enable_client_credentials("cc-app", "runas@example.com")
        yield standin


def test_a_mint_at_the_my_domain_and_its_refusals(sf: FakeSalesforce) -> None:
    client = TokenClient(attempts=1)
    try:
        token = client.mint(_profile(sf.url), keys.client_secret(SECRET))
        assert sf.valid_token(token.access_token.reveal())
        assert token.expires is None  # opaque
        sf.jwt_access_tokens("cc-app", 120)
        token = client.mint(_profile(sf.url), keys.client_secret(SECRET))
        assert token.expires is not None
        assert abs(token.expires - (time.time() + 120)) < 5
        with pytest.raises(SalesforceRefused) as e:
            client.mint(_profile(sf.login_url), keys.client_secret(SECRET))
        assert e.value.refusal is Refusal.WRONG_DOMAIN
        with pytest.raises(SalesforceRefused) as e:
            client.mint(_profile(sf.url), keys.client_secret("wrong"))
        assert e.value.refusal is Refusal.CLIENT_SECRET
        assert "--secret-stdin" in e.value.fix
    finally:
        client.close()


def test_switching_grants_with_force_loses_nothing_that_works(tmp_path) -> None:
    """jwt → client credentials with --force: the secret is active, the old key goes; a
    --force without a secret keeps it (settings change); back to JWT needs a key."""
    from sfcred.profiles import manage
    from sfcred.profiles.index import IndexFile
    from sfcred.secret import Secret
    from sfcred.store.keystore import KeyStore

    store, index = KeyStore(), IndexFile(str(tmp_path / "profiles.json"))
    base = {"name": "p", "client_id": "cid", "username": "",
            "login_url": "https://acme.my.salesforce.com"}
    jwt = manage.add(manage.NewProfile(**{**base, "username": "u@x.com"},  # type: ignore[arg-type]
                                       generate_bits=2048), store, index, None)
    cc = manage.add(manage.NewProfile(**base, grant="client-credentials",  # type: ignore[arg-type]
                                      client_secret=Secret(SECRET), force=True),
                    store, index, None)
    assert cc.profile.client_credentials
    assert store.get_key("p", cc.profile.keys.active).key_pem.reveal() == SECRET
    with pytest.raises(ConfigError):
        store.get_key("p", jwt.profile.keys.active)  # the replaced key is gone
    kept = manage.add(manage.NewProfile(**base, grant="client-credentials",  # type: ignore[arg-type]
                                        token_ttl=3600, force=True), store, index, None)
    assert kept.profile.keys == cc.profile.keys
    assert kept.profile.token_ttl == 3600
    with pytest.raises(InputError, match="--key-file"):
        manage.add(manage.NewProfile(**{**base, "username": "u@x.com"},  # type: ignore[arg-type]
                                     force=True), store, index, None)
    assert store.require_profile("p").keys == cc.profile.keys  # the refusal changed nothing
    with pytest.raises(InputError, match="My Domain"):
        manage.add(manage.NewProfile(**{**base, "name": "q", "login_url": "production"},  # type: ignore[arg-type]
                                     grant="client-credentials", client_secret=Secret(SECRET)),
                   store, index, None)


def test_the_stand_in_takes_the_client_in_a_basic_header_too(sf: FakeSalesforce) -> None:
    import httpx

    with httpx.Client(timeout=10) as client:
        url = f"{sf.url}/services/oauth2/token"
        ok = client.post(url, data={"grant_type": "client_credentials"},
                         auth=httpx.BasicAuth("cc-app", SECRET))
        assert ok.status_code == 200, ok.text
        assert sf.valid_token(ok.json()["access_token"])
        wrong = client.post(url, data={"grant_type": "client_credentials"},
                            auth=httpx.BasicAuth("cc-app", "nope"))
        assert wrong.json()["error"] == "invalid_client"


def test_the_stand_in_grants_only_the_scopes_the_flow_allows(sf: FakeSalesforce) -> None:
    """The token carries the app's scopes less full, refresh_token and offline_access; with
    none left, Salesforce's Winter '26 answer: invalid_grant, "no valid scopes defined"."""
    import httpx

    with httpx.Client(timeout=10) as client:
        url = f"{sf.url}/services/oauth2/token"
        form = {"grant_type": "client_credentials", "client_id": "cc-app",
                "client_secret": SECRET}
        sf.set_scopes("cc-app", {"api", "full", "refresh_token", "web"})
        ok = client.post(url, data=form)
        assert ok.status_code == 200, ok.text
        assert ok.json()["scope"].split() == ["api", "web"]
        sf.set_scopes("cc-app", {"full", "refresh_token", "offline_access"})
        refused = client.post(url, data=form)
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_grant",
                                  "error_description": "no valid scopes defined"}
