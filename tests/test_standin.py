"""The local Salesforce stand-in (``sfcred.testing.server``) behaves like Salesforce.

Every expected error body below is written out literally, from Salesforce's observed answers,
so a wrong string in the stand-in fails here. Keys are generated per run; none is committed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from _support import Clock, KeyPair, make_keypair
from cryptography.hazmat.primitives import serialization

from sfcred.salesforce.http import tls_context
from sfcred.testing.server import FAULT_KINDS, FakeSalesforce

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN = "https://login.salesforce.com"
TEST = "https://test.salesforce.com"
CID = "3MVG9standinConsumerKey"
USER = "integration@example.com"
REDIRECT = "http://localhost:1717/OauthRedirect"


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {"good": make_keypair(common_name="good", days=31),
            "other": make_keypair(common_name="other", days=31)}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sf(keys: dict[str, KeyPair], clock: Clock) -> Iterator[FakeSalesforce]:
    """A production org: app CID with the good key's certificate, USER pre-authorized."""
    with FakeSalesforce(clock=clock) as server:
        server.add_app(CID, keys["good"].cert_pem, client_secret="S3CR3T")
        server.add_user(USER)
        server.preauthorize(CID, USER)
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, verify=tls_context()) as client:
        yield client


def assertion(
    key: KeyPair,
    *,
    iss: str = CID,
    sub: str = USER,
    aud: str = LOGIN,
    exp: float | None = 120,
    now: float | None = None,
) -> str:
    claims: dict[str, Any] = {"iss": iss, "sub": sub, "aud": aud}
    if exp is not None:
        claims["exp"] = int((now if now is not None else time.time()) + exp)
    return jwt.encode(claims, key.key, algorithm="RS256")


def mint(client: httpx.Client, host: str, token: str) -> httpx.Response:
    form = {"grant_type": JWT_GRANT, "assertion": token}
    return client.post(f"{host}/services/oauth2/token", data=form)


def error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


# ---------------------------------------------------------------- success


def test_a_correct_assertion_mints_a_token_that_works(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    answer = mint(http, sf.login_url, assertion(keys["good"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # Salesforce's JWT bearer answer: these five fields, in this order (docs/standin.md).
    assert list(body) == ["access_token", "scope", "instance_url", "id", "token_type"]
    token = body["access_token"]
    assert re.fullmatch(r"00D[0-9A-Za-z]{12}![0-9A-Za-z._]{20,}", token)
    assert token.startswith(sf.org_id[:15] + "!")
    assert body["instance_url"] == sf.url
    assert body["token_type"] == "Bearer"
    # The identity URL is on the login host, whichever host was asked.
    assert re.fullmatch(re.escape(sf.login_url) + r"/id/00D\w{15}/005\w{15}", body["id"])
    assert sf.valid_token(token)
    assert sf.last_assertion_claims is not None
    assert sf.last_assertion_claims["sub"] == USER

    me = http.get(
        f"{sf.url}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200
    info = me.json()
    assert info["preferred_username"] == USER
    assert info["organization_id"] == sf.org_id
    assert body["id"].endswith(info["user_id"])
    assert {"sub", "name", "email"} <= set(info)

    query = http.get(
        f"{sf.url}/services/data/v59.0/query/",
        params={"q": "SELECT Id, Name FROM Account"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert query.status_code == 200
    result = query.json()
    assert result["totalSize"] == 2
    assert result["done"] is True
    assert [r["attributes"]["type"] for r in result["records"]] == ["Account", "Account"]
    assert all(r["Id"].startswith("001") and r["Name"] for r in result["records"])


@pytest.mark.parametrize(
    ("listener", "aud"), [("url", "url"), ("url", LOGIN), ("login_url", LOGIN)]
)
def test_production_accepts_login_host_and_my_domain(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client, listener: str, aud: str
) -> None:
    audience = sf.url if aud == "url" else aud
    answer = mint(http, getattr(sf, listener), assertion(keys["good"], aud=audience))
    assert answer.status_code == 200, answer.text


def test_sandbox_takes_the_test_host(keys: dict[str, KeyPair], http: httpx.Client) -> None:
    with FakeSalesforce(org="sandbox") as box:
        box.add_app(CID, keys["good"].cert_pem)
        box.add_user(USER)
        box.preauthorize(CID, USER)
        assert mint(http, box.test_url, assertion(keys["good"], aud=TEST)).status_code == 200
        assert mint(http, box.url, assertion(keys["good"], aud=box.url)).status_code == 200
        wrong_aud = mint(http, box.url, assertion(keys["good"], aud=LOGIN))
        assert wrong_aud.json() == error("invalid_grant", "audience is invalid")
        wrong_host = mint(http, box.login_url, assertion(keys["good"], aud=TEST))
        assert wrong_host.status_code == 400
        assert wrong_host.json() == error("invalid_grant", "user hasn't approved this consumer")


def test_responses_carry_the_server_clock_in_date(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client, clock: Clock
) -> None:
    sf.clock_offset = 3 * 3600.0
    answer = mint(http, sf.url, assertion(keys["good"]))  # exp is 2 min ahead of the local clock
    assert answer.json() == error("invalid_grant", "expired authorization code")
    date = dt.datetime.strptime(answer.headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")
    served = date.replace(tzinfo=dt.timezone.utc).timestamp()
    assert abs(served - (clock.t + 3 * 3600)) < 2
    ok = mint(http, sf.url, assertion(keys["good"], now=sf.now()))
    assert ok.status_code == 200


# ---------------------------------------------------------------- rejections


def _setup(sf: FakeSalesforce, keys: dict[str, KeyPair], case: str) -> tuple[str, str]:
    """Arrange one failure case; return (host attribute, assertion)."""
    good, other = keys["good"], keys["other"]
    if case == "wrong key":
        return "login_url", assertion(other)
    if case == "malformed":
        return "login_url", "not-a-jwt"
    if case == "HS256":
        return "login_url", jwt.encode({"iss": CID, "sub": USER, "aud": LOGIN}, "k" * 32)
    if case in ("alg none", "HS256 keyed with the public key"):
        # The classic JWT attacks (pyjwt's advisories): an unsigned token, and an HMAC whose
        # secret is the verifier's public key. Only RS256 is ever accepted.
        claims = {"iss": CID, "sub": USER, "aud": LOGIN, "exp": int(sf.now()) + 100}
        pub = good.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        alg = "none" if case == "alg none" else "HS256"
        head = _b64({"alg": alg, "typ": "JWT"}) + "." + _b64(claims)
        mac = hmac.new(pub, head.encode(), hashlib.sha256).digest() if alg == "HS256" else b""
        return "login_url", head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    if case == "wrong audience":
        return "login_url", assertion(good, aud=TEST)
    if case == "expired":
        return "login_url", assertion(good, exp=-1)
    if case == "no exp":
        return "login_url", assertion(good, exp=None)
    if case == "unapproved user":
        sf.add_user("new@example.com")
        return "login_url", assertion(good, sub="new@example.com")
    if case == "unknown user":
        return "login_url", assertion(good, sub="nobody@example.com")
    if case == "production on test host":
        return "test_url", assertion(good)
    if case == "unknown consumer key":
        return "login_url", assertion(good, iss="3MVG9unknown")
    if case in ("external via login", "external via test", "external with login aud"):
        sf.add_app("ECA", good.cert_pem, kind="external")
        sf.preauthorize("ECA", USER)
        host = {"external via login": "login_url", "external via test": "test_url"}
        return host.get(case, "url"), assertion(good, iss="ECA")
    if case == "inactive user":
        sf.add_user(USER, active=False)
        return "login_url", assertion(good)
    if case == "inactive org":
        sf.org_active = False
        return "login_url", assertion(good)
    if case == "IP restricted":
        sf.add_user(USER, ip_restricted=True)
        return "login_url", assertion(good)
    if case == "admin approved, not assigned":
        sf.add_app("ADMIN", good.cert_pem, preauthorized_only=True)
        sf.approve("ADMIN", USER)  # a user's own approval does not count on such an app
        return "login_url", assertion(good, iss="ADMIN")
    if case == "approved without refresh_token":
        sf.add_user("new@example.com")
        sf.approve(CID, "new@example.com", scopes=("api",))
        return "login_url", assertion(good, sub="new@example.com")
    raise AssertionError(case)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


NOT_APPROVED = ("invalid_grant", "user hasn't approved this consumer")
REJECTIONS = {
    "wrong key": ("invalid_grant", "invalid assertion"),
    "malformed": ("invalid_grant", "invalid assertion"),
    "HS256": ("invalid_grant", "invalid assertion"),
    "alg none": ("invalid_grant", "invalid assertion"),
    "HS256 keyed with the public key": ("invalid_grant", "invalid assertion"),
    "wrong audience": ("invalid_grant", "audience is invalid"),
    "expired": ("invalid_grant", "expired authorization code"),
    "no exp": ("invalid_grant", "expired authorization code"),
    "unapproved user": NOT_APPROVED,
    "unknown user": NOT_APPROVED,
    "production on test host": NOT_APPROVED,
    "approved without refresh_token": NOT_APPROVED,
    "unknown consumer key": ("invalid_client_id", "client identifier invalid"),
    "external via login": ("app_not_found", "External client app is not installed in this org"),
    "external via test": ("app_not_found", "External client app is not installed in this org"),
    "external with login aud": ("invalid_grant", "audience is invalid"),
    "inactive user": ("invalid_grant", "inactive user"),
    "inactive org": ("invalid_grant", "inactive organization"),
    "IP restricted": ("invalid_grant", "IP restricted or invalid login hours"),
    "admin approved, not assigned": (
        "invalid_app_access",
        "user is not admin approved to access this app",
    ),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejections_carry_salesforce_exact_bodies(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client, case: str
) -> None:
    host, token = _setup(sf, keys, case)
    answer = mint(http, getattr(sf, host), token)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == error(*REJECTIONS[case])


def test_external_app_works_through_my_domain(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    sf.add_app("ECA", keys["good"].cert_pem, kind="external")
    sf.preauthorize("ECA", USER)
    answer = mint(http, sf.url, assertion(keys["good"], iss="ECA", aud=sf.url))
    assert answer.status_code == 200, answer.text


def test_a_prior_approval_opens_an_app_for_all_users(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    sf.add_user("new@example.com")
    sf.approve(CID, "new@example.com")
    assert mint(http, sf.url, assertion(keys["good"], sub="new@example.com")).status_code == 200


def test_login_rate_limit_counts_successes_per_user_per_hour(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client, clock: Clock
) -> None:
    sf.login_rate_limit = 2
    for _ in range(2):
        assert mint(http, sf.url, assertion(keys["good"], now=clock.t)).status_code == 200
    third = mint(http, sf.url, assertion(keys["good"], now=clock.t))
    assert third.status_code == 400
    assert third.json() == error("invalid_grant", "login rate exceeded")
    clock.t += 3601
    assert mint(http, sf.url, assertion(keys["good"], now=clock.t)).status_code == 200


def test_uploading_a_certificate_cuts_the_old_key_off_at_once(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    assert mint(http, sf.url, assertion(keys["good"])).status_code == 200
    sf.upload_certificate(CID, keys["other"].cert_pem)
    old = mint(http, sf.url, assertion(keys["good"]))
    assert old.status_code == 400
    assert old.json() == error("invalid_grant", "invalid assertion")
    assert mint(http, sf.url, assertion(keys["other"])).status_code == 200


def test_unsupported_grant_and_get_on_token(sf: FakeSalesforce, http: httpx.Client) -> None:
    answer = http.post(f"{sf.url}/services/oauth2/token", data={"grant_type": "password"})
    assert answer.status_code == 400
    assert answer.json() == error("unsupported_grant_type", "grant type not supported")
    assert http.get(f"{sf.url}/services/oauth2/token").status_code == 400


# ---------------------------------------------------------------- authorization code + PKCE


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(sf: FakeSalesforce, http: httpx.Client, challenge: str, **extra: str) -> httpx.URL:
    params = {
        "response_type": "code",
        "client_id": CID,
        "redirect_uri": REDIRECT,
        "scope": "api refresh_token",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st4te",
        **extra,
    }
    answer = http.get(f"{sf.login_url}/services/oauth2/authorize", params=params)
    assert answer.status_code == 302, answer.text
    return httpx.URL(answer.headers["Location"])


def _exchange(
    sf: FakeSalesforce, http: httpx.Client, code: str, verifier: str, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CID,
        "client_secret": "S3CR3T",
        "code_verifier": verifier,
        **extra,
    }
    return http.post(f"{sf.login_url}/services/oauth2/token", data=form)


def test_pkce_code_flow_approves_the_user_for_the_jwt_grant(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    sf.add_user("person@example.com")
    sf.browser_user = "person@example.com"
    before = mint(http, sf.url, assertion(keys["good"], sub="person@example.com"))
    assert before.json() == error(*NOT_APPROVED)

    verifier, challenge = _pkce()
    location = _authorize(sf, http, challenge)
    assert str(location).startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(str(location)).query)
    assert query["state"] == ["st4te"]
    answer = _exchange(sf, http, query["code"][0], verifier)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"access_token", "refresh_token", "instance_url", "id", "token_type", "scope"} <= set(
        body
    )
    assert "expires_in" not in body
    assert set(body["scope"].split()) == {"api", "refresh_token"}
    assert sf.valid_token(body["access_token"])

    after = mint(http, sf.url, assertion(keys["good"], sub="person@example.com"))
    assert after.status_code == 200, after.text


def test_pkce_bad_verifier_reused_code_and_bad_secret_fail(
    sf: FakeSalesforce, http: httpx.Client
) -> None:
    sf.browser_user = USER
    verifier, challenge = _pkce()
    code = parse_qs(_authorize(sf, http, challenge).query.decode())["code"][0]
    bad = _exchange(sf, http, code, "x" * 50)
    assert bad.status_code == 400
    assert bad.json() == error("invalid_grant", "invalid code verifier")
    reused = _exchange(sf, http, code, verifier)  # spent by the failed attempt
    assert reused.json() == error("invalid_grant", "invalid authorization code")

    code = parse_qs(_authorize(sf, http, challenge).query.decode())["code"][0]
    assert _exchange(sf, http, code, verifier).status_code == 200
    again = _exchange(sf, http, code, verifier)
    assert again.status_code == 400
    assert again.json() == error("invalid_grant", "invalid authorization code")

    code = parse_qs(_authorize(sf, http, challenge).query.decode())["code"][0]
    wrong_secret = _exchange(sf, http, code, verifier, client_secret="nope")
    assert wrong_secret.json() == error("invalid_client", "invalid client credentials")

    code = parse_qs(_authorize(sf, http, challenge).query.decode())["code"][0]
    moved = _exchange(sf, http, code, verifier, redirect_uri="http://localhost:1718/x")
    assert moved.json() == error("redirect_uri_mismatch", "redirect_uri must match configuration")


def test_pkce_without_secret_when_the_app_does_not_require_one(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    sf.add_app(CID, keys["good"].cert_pem, require_secret=False)
    sf.browser_user = USER
    verifier, challenge = _pkce()
    code = parse_qs(_authorize(sf, http, challenge).query.decode())["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CID,
        "code_verifier": verifier,
    }
    assert http.post(f"{sf.url}/services/oauth2/token", data=form).status_code == 200


def test_authorize_denied_unknown_client_and_foreign_redirect(
    sf: FakeSalesforce, http: httpx.Client
) -> None:
    sf.browser_user = USER
    sf.consent = "deny"
    _, challenge = _pkce()
    denied = _authorize(sf, http, challenge)
    assert denied.params["error"] == "access_denied"
    assert denied.params["error_description"] == "end-user denied authorization"
    assert denied.params["state"] == "st4te"
    assert "code" not in denied.params

    url = f"{sf.login_url}/services/oauth2/authorize"
    base = {"response_type": "code", "client_id": CID, "redirect_uri": REDIRECT}
    foreign = http.get(url, params={**base, "redirect_uri": "https://evil.example.com/cb"})
    assert foreign.status_code == 400
    assert "error=redirect_uri_mismatch" in foreign.text
    assert "redirect_uri%20must%20match%20configuration" in foreign.text
    unknown = http.get(url, params={**base, "client_id": "nope"})
    assert unknown.status_code == 400
    assert "error=invalid_client_id" in unknown.text


# ---------------------------------------------------------------- sessions


def _token(sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client) -> str:
    answer = mint(http, sf.url, assertion(keys["good"], now=sf.now()))
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _userinfo(sf: FakeSalesforce, http: httpx.Client, token: str) -> httpx.Response:
    return http.get(
        f"{sf.url}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"}
    )


def test_dead_tokens_answer_bad_oauth_token_and_invalid_session(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    token = _token(sf, keys, http)
    sf.expire_sessions()
    assert not sf.valid_token(token)
    me = _userinfo(sf, http, token)
    assert (me.status_code, me.text) == (403, "Bad_OAuth_Token")
    query = http.get(
        f"{sf.url}/services/data/v59.0/query",
        params={"q": "SELECT Id FROM Account"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert query.status_code == 401
    assert query.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_sessions_time_out_after_inactivity(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client, clock: Clock
) -> None:
    sf.session_timeout = 900
    token = _token(sf, keys, http)
    clock.t += 800
    assert _userinfo(sf, http, token).status_code == 200  # use restarts the timer
    clock.t += 800
    assert sf.valid_token(token)
    clock.t += 901
    assert not sf.valid_token(token)
    assert _userinfo(sf, http, token).status_code == 403


def test_revoke(sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client) -> None:
    token = _token(sf, keys, http)
    done = http.post(f"{sf.url}/services/oauth2/revoke", data={"token": token})
    assert done.status_code == 200
    assert _userinfo(sf, http, token).status_code == 403
    again = http.post(
        f"{sf.url}/services/oauth2/revoke",
        data={"token": token},
        headers={"Accept": "application/json"},
    )
    assert again.status_code == 400
    assert again.json() == error("unsupported_token_type", "this token type is not supported")
    plain = http.post(f"{sf.url}/services/oauth2/revoke", data={"token": "nope"})
    assert plain.status_code == 400
    assert parse_qs(plain.text) == {
        "error": ["unsupported_token_type"],
        "error_description": ["this token type is not supported"],
    }


def test_revoking_the_refresh_token_withdraws_the_approval(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    sf.add_user("person@example.com")
    sf.browser_user = "person@example.com"
    verifier, challenge = _pkce()
    code = parse_qs(_authorize(sf, http, challenge).query.decode())["code"][0]
    body = _exchange(sf, http, code, verifier).json()
    revoked = http.post(f"{sf.url}/services/oauth2/revoke", data={"token": body["refresh_token"]})
    assert revoked.status_code == 200
    assert not sf.valid_token(body["access_token"])
    after = mint(http, sf.url, assertion(keys["good"], sub="person@example.com"))
    assert after.json() == error(*NOT_APPROVED)


def test_userinfo_without_a_token(sf: FakeSalesforce, http: httpx.Client) -> None:
    me = http.get(f"{sf.url}/services/oauth2/userinfo")
    assert me.status_code == 403


# ---------------------------------------------------------------- REST API


def test_data_versions_and_query_errors(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    versions = http.get(f"{sf.url}/services/data/")
    assert versions.status_code == 200
    listed = {v["version"]: v for v in versions.json()}
    assert {"59.0", "60.0", "61.0", "62.0"} <= set(listed)
    assert listed["62.0"]["url"] == "/services/data/v62.0"
    assert all(v["label"] for v in listed.values())

    auth = {"Authorization": f"Bearer {_token(sf, keys, http)}"}
    bad = http.get(f"{sf.url}/services/data/v59.0/query", params={"q": "DELETE x"}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()[0]["errorCode"] == "MALFORMED_QUERY"
    old = http.get(f"{sf.url}/services/data/v10.0/query", params={"q": "x"}, headers=auth)
    assert old.status_code == 404
    nowhere = http.get(f"{sf.url}/services/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json() == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]


def test_bodies_over_one_mebibyte_are_refused(sf: FakeSalesforce, http: httpx.Client) -> None:
    answer = http.post(
        f"{sf.url}/services/oauth2/token",
        content=b"grant_type=x&pad=" + b"a" * (1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413


# ---------------------------------------------------------------- faults and counting


def test_token_requests_count_jwt_posts_on_every_listener(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    mint(http, sf.url, assertion(keys["good"]))
    mint(http, sf.login_url, assertion(keys["other"]))  # refused, still counted
    mint(http, sf.test_url, "junk")
    http.post(f"{sf.url}/services/oauth2/token", data={"grant_type": "password"})
    http.get(f"{sf.url}/services/data/")
    assert sf.token_requests == 3
    assert ("login", "POST", "/services/oauth2/token") in sf.requests
    assert ("mydomain", "GET", "/services/data/") in sf.requests
    sf.reset_counts()
    assert (sf.token_requests, sf.requests) == (0, [])


def test_requests_never_record_query_strings(sf: FakeSalesforce, http: httpx.Client) -> None:
    http.get(f"{sf.url}/services/oauth2/revoke", params={"token": "SENTINEL-token"})
    assert all("SENTINEL" not in path for _, _, path in sf.requests)


@pytest.mark.parametrize(
    "kind", ["503", "500", "garbage", "huge", "crlf", "http_instance", "missing_token"]
)
def test_answering_faults(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client, kind: str
) -> None:
    sf.fail_next(kind)
    answer = mint(http, sf.login_url, assertion(keys["good"]))
    if kind == "503":
        assert answer.status_code == 503
        assert answer.headers["Content-Type"].startswith("text/html")
    elif kind == "500":
        assert answer.status_code == 500
    elif kind == "garbage":
        assert answer.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.content)
    else:
        assert answer.status_code == 200
        body = answer.json()
        if kind == "huge":
            assert len(answer.content) >= 2 * 1024 * 1024
        elif kind == "crlf":
            assert "\r\n" in body["access_token"]
        elif kind == "http_instance":
            assert body["instance_url"] == "http://evil.example.com"
        else:
            assert "access_token" not in body
            assert body["instance_url"] == sf.url
    assert sf.token_requests == 1
    assert mint(http, sf.login_url, assertion(keys["good"])).status_code == 200  # one fault only


def test_timeout_fault_holds_until_the_client_gives_up(
    sf: FakeSalesforce, keys: dict[str, KeyPair]
) -> None:
    sf.fail_next("timeout", delay=5)
    started = time.monotonic()
    with httpx.Client(timeout=0.5) as impatient, pytest.raises(httpx.ReadTimeout):
        mint(impatient, sf.url, assertion(keys["good"]))
    assert time.monotonic() - started < 4
    with httpx.Client(timeout=5) as client:
        assert mint(client, sf.url, assertion(keys["good"])).status_code == 200


def test_timeout_fault_closes_after_its_delay(sf: FakeSalesforce, keys: dict[str, KeyPair]) -> None:
    sf.fail_next("timeout", delay=0.3)
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.RemoteProtocolError):
        mint(client, sf.url, assertion(keys["good"]))


def test_slow_fault_answers_after_its_delay(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client
) -> None:
    sf.fail_next("slow", delay=0.4)
    started = time.monotonic()
    answer = mint(http, sf.url, assertion(keys["good"]))
    assert time.monotonic() - started >= 0.4
    assert answer.status_code == 200


def test_reset_fault_drops_the_connection(
    sf: FakeSalesforce, keys: dict[str, KeyPair], http: httpx.Client,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sf.fail_next("reset", count=2)
    for _ in range(2):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            mint(http, sf.url, assertion(keys["good"]))
    assert mint(http, sf.url, assertion(keys["good"])).status_code == 200
    assert sf.token_requests == 3
    assert capfd.readouterr().err == ""  # quiet: nothing on stderr, least of all tokens


def test_fail_next_knows_its_kinds(sf: FakeSalesforce) -> None:
    assert len(FAULT_KINDS) == 16
    with pytest.raises(ValueError, match="unknown fault"):
        sf.fail_next("meteor")
    with pytest.raises(ValueError, match="needs value"):
        sf.fail_next("instance_url")
    with pytest.raises(ValueError, match="takes no value"):
        sf.fail_next("503", value="x")


def test_urls_need_a_running_server() -> None:
    idle = FakeSalesforce()
    with pytest.raises(RuntimeError):
        _ = idle.url
    idle.start()
    try:
        assert idle.url.startswith("http://127.0.0.1:")
        assert len({idle.url, idle.login_url, idle.test_url}) == 3
    finally:
        idle.stop()


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls() -> Any:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1", "localhost")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_mode_with_a_private_ca(keys: dict[str, KeyPair], tls: Any, host: str) -> None:
    ca, server_cert = tls
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    with FakeSalesforce(ssl_context=server_ctx, host=host) as secure:
        secure.add_app(CID, keys["good"].cert_pem)
        secure.add_user(USER)
        secure.preauthorize(CID, USER)
        assert secure.url.startswith(f"https://{host}:")
        with httpx.Client(verify=client_ctx, timeout=10) as client:
            answer = mint(client, secure.login_url, assertion(keys["good"]))
            assert answer.status_code == 200, answer.text
            assert answer.json()["instance_url"] == secure.url
        with httpx.Client(timeout=10) as untrusting, pytest.raises(httpx.ConnectError):
            untrusting.get(f"{secure.url}/services/data/")


def test_simple_salesforce_queries_over_tls(
    keys: dict[str, KeyPair], tls: Any, tmp_path: Path
) -> None:
    requests = pytest.importorskip("requests")
    simple_salesforce = pytest.importorskip("simple_salesforce")
    ca, server_cert = tls
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_ctx)
    with FakeSalesforce(ssl_context=server_ctx) as secure:
        secure.add_app(CID, keys["good"].cert_pem)
        secure.add_user(USER)
        secure.preauthorize(CID, USER)
        with httpx.Client(verify=ssl.create_default_context(cafile=ca_path), timeout=10) as client:
            body = mint(client, secure.url, assertion(keys["good"], aud=secure.url)).json()
        session = requests.Session()
        session.verify = str(ca_path)
        # REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE in the environment would override verify.
        session.trust_env = False
        api = simple_salesforce.Salesforce(
            instance_url=body["instance_url"], session_id=body["access_token"], session=session
        )
        result = api.query("SELECT Id, Name FROM Account")
        assert result["totalSize"] == 2
        assert [r["Name"] for r in result["records"]] == ["Acme", "Global Media"]
        secure.expire_sessions()
        with pytest.raises(simple_salesforce.exceptions.SalesforceExpiredSession):
            api.query("SELECT Id FROM Account")


# ---------------------------------------------------------------- command line


def test_command_line_serves_until_stopped(keys: dict[str, KeyPair], tmp_path: Path) -> None:
    cert = tmp_path / "app.crt"
    cert.write_text(keys["good"].cert_pem)
    argv = [sys.executable, "-m", "sfcred.testing.server", "--app", CID, "--cert", str(cert),
            "--port", "0"]
    argv += ["--user", USER, "--preauthorize"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(5)]
            named = (
                line.split(":", 1) for line in lines if line.startswith(("My Domain", "login"))
            )
            urls = {name: url.strip() for name, url in named}
            assert urls["login"].startswith("http://127.0.0.1:")
            assert urls["My Domain"] != urls["login"]
            with httpx.Client(timeout=10) as client:
                assert mint(client, urls["login"], assertion(keys["good"])).status_code == 200
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
    assert err == ""  # quiet: no request log, so no token or assertion on stderr
