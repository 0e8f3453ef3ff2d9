"""`sfcred authorize`: the one-time browser approval that cures "user hasn't approved this
consumer", driven against the stand-in.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_authorize_e2e.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from _authorize import CLIENT_SECRET, URL_RE, browse, free_port

from sfcred.authorize import flow as authz
from sfcred.errors import ConfigError, InputError, SalesforceRefused
from sfcred.profiles.record import KeySlots, Profile
from sfcred.salesforce.oauth import code_refused, exchange_code
from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce


def _profile(sf: FakeSalesforce, client_id: str = "CID") -> Profile:
    return Profile(name="acme", client_id=client_id, username="u@example.com",
                   login_url=sf.url, audience="https://login.salesforce.com",
                   keys=KeySlots(active="k"))


def test_pkce_pair_is_s256_of_a_long_verifier() -> None:
    verifier, challenge = authz.pkce_pair()
    value = verifier.reveal()
    assert 43 <= len(value) <= 128
    assert re.fullmatch(r"[A-Za-z0-9_-]+", value)
    digest = hashlib.sha256(value.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert repr(verifier) == "Secret(<redacted>)"
    assert authz.pkce_pair()[1] != challenge


def test_opener_path_in_process(standin: FakeSalesforce, rsa_keypair: Any) -> None:
    """open_browser=True: the injected opener plays the browser; no keyring involved."""
    port = free_port()
    standin.add_app("CID", rsa_keypair.cert_pem, require_secret=False,
                    callback_urls=[f"http://localhost:{port}/OauthRedirect"])
    standin.add_user("u@example.com")
    standin.browser_user = "u@example.com"
    said: list[str] = []
    pages: list[httpx.Response] = []

    def opener(url: str) -> bool:
        threading.Thread(target=lambda: pages.append(browse(url)), daemon=True).start()
        return True

    authz.authorize(_profile(standin), port=port, open_browser=True, client_secret=None,
                    timeout=20, say=said.append, opener=opener)
    assert any("opened the browser" in line for line in said)
    assert "refresh_token" in standin.approvals("CID", "u@example.com")
    for _ in range(50):
        if pages:
            break
        time.sleep(0.05)
    assert pages
    assert pages[0].status_code == 200


def test_failed_opener_prints_the_url_and_times_out(standin: FakeSalesforce) -> None:
    said: list[str] = []
    with pytest.raises(InputError, match=r"within 0\.5 s"):
        authz.authorize(_profile(standin), port=free_port(), open_browser=True,
                        client_secret=None, timeout=0.5, say=said.append,
                        opener=lambda url: False)
    assert any("open this URL" in line for line in said)
    assert any(URL_RE.search(line) for line in said)


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_bad_port_is_an_input_error(standin: FakeSalesforce, port: int) -> None:
    with pytest.raises(InputError, match="--port"):
        authz.authorize(_profile(standin), port=port, open_browser=False, client_secret=None,
                        timeout=1, say=lambda _: None)


def test_busy_port_in_process(standin: FakeSalesforce) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match="in use"):
            authz.authorize(_profile(standin), port=port, open_browser=False,
                            client_secret=None, timeout=1, say=lambda _: None)


def test_refused_exchange_causes(standin: FakeSalesforce) -> None:
    p = _profile(standin)
    redirect = authz.redirect_uri(1717)
    cases = {
        ("invalid_client", "invalid client credentials"): "--client-secret-stdin",
        ("redirect_uri_mismatch", "redirect_uri must match configuration"): redirect,
        ("invalid_grant", "invalid code verifier"): "authorize acme",
        ("invalid_grant", "expired authorization code"): "again",
        ("invalid_client_id", "client identifier invalid"): "--client-id",
    }
    for (error, desc), needle in cases.items():
        e = code_refused(p, 400, {"error": error, "error_description": desc}, redirect)
        assert isinstance(e, SalesforceRefused)
        assert e.exit_code == 3
        assert needle in e.fix, (error, e.fix)


def test_client_secret_never_in_the_error(standin: FakeSalesforce, rsa_keypair: Any) -> None:
    standin.add_app("CID", rsa_keypair.cert_pem, client_secret="right")
    standin.add_user("u@example.com")
    with pytest.raises(SalesforceRefused) as caught:
        exchange_code(_profile(standin), Secret("nocode"), authz.redirect_uri(1717),
                        Secret("v"), Secret(CLIENT_SECRET))
    text = f"{caught.value} {caught.value.fix} {caught.value.cause} {caught.value!r}"
    assert CLIENT_SECRET not in text
    assert "nocode" not in text
