"""The API's auth classes heal a dead session that Salesforce answers with a 403 (userinfo's
``Bad_OAuth_Token``) with one new mint, and a token request abandoned at its deadline leaves
no thread or socket behind in a long-lived process (issue 22, item 5). In process, against
the stand-in."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import requests
from test_api import org, revoke  # noqa: F401  # the fixture: profile acme at the stand-in

import sfcred
from sfcred.auth import dead_session
from sfcred.testing.server import FakeSalesforce

USERINFO = "/services/oauth2/userinfo"


def test_only_salesforces_dead_session_403_renews() -> None:
    assert dead_session(401, b"")
    assert dead_session(403, b"Bad_OAuth_Token")
    assert dead_session(403, b'[{"message":"Session expired or invalid",'
                             b'"errorCode":"INVALID_SESSION_ID"}]')
    assert not dead_session(403, b'[{"errorCode":"INSUFFICIENT_ACCESS"}]')  # a permission
    assert not dead_session(403, b"")
    assert not dead_session(500, b"Bad_OAuth_Token")


def test_httpx_heals_a_403_bad_oauth_token_with_one_new_mint(org: FakeSalesforce) -> None:  # noqa: F811
    with httpx.Client(auth=sfcred.SalesforceAuth("acme"), base_url=org.url, timeout=10) as c:
        assert c.get(USERINFO).status_code == 200
        revoke(org, sfcred.get_token("acme").access_token)
        assert httpx.get(f"{org.url}{USERINFO}", timeout=10, headers={
            "Authorization": "Bearer dead"}).text == "Bad_OAuth_Token"  # what a dead one gets
        again = c.get(USERINFO)
        assert again.status_code == 200
        assert again.json()["preferred_username"] == "api@example.com"
        assert c.get(USERINFO).status_code == 200
    assert org.token_requests == 2  # the first mint, and one after the 403


def test_requests_heals_a_403_bad_oauth_token_with_one_new_mint(org: FakeSalesforce) -> None:  # noqa: F811
    session = requests.Session()
    session.auth = sfcred.RequestsAuth("acme")
    assert session.get(f"{org.url}{USERINFO}", timeout=10).status_code == 200
    revoke(org, sfcred.get_token("acme").access_token)
    again = session.get(f"{org.url}{USERINFO}", timeout=10)
    assert again.status_code == 200
    assert [r.status_code for r in again.history] == [403]
    assert org.token_requests == 2


def _ours() -> list[str]:
    """The threads of sfcred's own calls (the stand-in's are its server's)."""
    return [t.name for t in threading.enumerate()
            if t.name.startswith("sfcred-") and not t.name.startswith("sfcred-standin")]


def test_100_timed_out_api_calls_leave_no_thread_behind(
    org: FakeSalesforce, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The endpoint answers "100 Continue" forever: no read timeout ever fires, so before
    this, each abandoned request kept its thread and socket as long as the server talked."""
    monkeypatch.setenv("SFCRED_TIMEOUT", "0.1")
    org.fail_next("continue", count=100, delay=0.02)
    for _ in range(100):
        with pytest.raises(sfcred.SalesforceUnreachable, match="no complete answer"):
            sfcred.get_token("acme")
        sfcred.erase_token("acme")  # a reset: the next call asks again (not the memory)
    assert org.token_requests == 100
    deadline = time.monotonic() + 5  # a hang-catcher: they end at once
    while _ours() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ours() == []
