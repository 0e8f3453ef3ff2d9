"""Every reset of the failure memory, one test each (issue 22), and the login budget with
``sfcred status``, through the INSTALLED program against the Salesforce stand-in.

Each reset test makes a refusal remembered, checks that a get within the window sends
nothing, does the reset, and checks that the memory is gone and the next get asks again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from _e2e import USERNAME, Org, add_profile, setup_org

from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry
from sfcred.tokens.memory import Memory

pytestmark = [pytest.mark.slow, pytest.mark.secret_service]


def folder() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"], "sfcred")


def memory() -> Memory:
    return Memory(str(folder()))


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def refused_and_remembered(run_sfcred, org: Org, *, inactive: bool = True,
                           sent: int = 1) -> None:
    """A refusal remembered: the user deactivated (or the app's certificate replaced), one
    request, then a get that sends nothing."""
    if inactive:
        org.sf.add_user(org.username, active=False)
    org.sf.reset_counts()
    first = run_sfcred("get", "-p", "acme")
    assert first.returncode == 3, first.stderr
    again = run_sfcred("get", "-p", "acme")
    assert again.returncode == 3
    assert "remembered from" in again.stderr
    assert org.sf.token_requests == sent
    assert memory().read("acme") is not None


def asks_again(run_sfcred, org: Org, requests: int = 2) -> None:
    assert memory().read("acme") is None
    run_sfcred("get", "-p", "acme")
    assert org.sf.token_requests == requests


def test_success_clears_it(run_sfcred, org: Org) -> None:
    org.sf.fail_next("timeout", delay=5)
    failed = run_sfcred("get", "-p", "acme", env={"SFCRED_TIMEOUT": "1"})
    assert failed.returncode == 4, failed.stderr
    kept = memory().read("acme")
    assert kept is not None
    assert kept.kind == "unreachable"
    assert 4 <= kept.until - kept.at <= 6  # a few seconds
    memory().write(kept.moved(kept.at - 10, time.time() - 0.5))  # the window is over
    ok = run_sfcred("get", "-p", "acme")
    assert ok.returncode == 0, ok.stderr
    assert memory().read("acme") is None


def test_erase_clears_it(run_sfcred, org: Org) -> None:
    refused_and_remembered(run_sfcred, org)
    assert run_sfcred("erase", "-p", "acme").returncode == 0
    asks_again(run_sfcred, org)


def test_retry_now_clears_it_and_asks_once(run_sfcred, org: Org) -> None:
    refused_and_remembered(run_sfcred, org)
    org.sf.add_user(org.username, active=True)  # an admin fixed it: no need to wait
    done = run_sfcred("get", "-p", "acme", "--retry-now", "--format", "token")
    assert done.returncode == 0, done.stderr
    assert org.sf.valid_token(done.stdout.strip())
    assert org.sf.token_requests == 2
    assert memory().read("acme") is None


def test_profile_add_force_clears_it(run_sfcred, org: Org, tmp_path: Path) -> None:
    refused_and_remembered(run_sfcred, org)
    add_profile(run_sfcred, org.sf, tmp_path, "acme", client_id=org.client_id,
                extra=["--force"])
    asks_again(run_sfcred, org)


def test_profile_set_clears_it(run_sfcred, org: Org) -> None:
    refused_and_remembered(run_sfcred, org)
    changed = run_sfcred("profile", "set", "acme", "--login-budget", "100")
    assert changed.returncode == 0, changed.stderr
    asks_again(run_sfcred, org)
    shown = json.loads(run_sfcred("profile", "show", "acme", "--json").stdout)
    assert shown["login_budget"] == 100
    bad = run_sfcred("profile", "set", "acme", "--login-budget", "5000")
    assert bad.returncode == 1
    assert "--login-budget must be between 1 and 3600" in bad.stderr


def test_rotate_clears_it(run_sfcred, org: Org) -> None:
    refused_and_remembered(run_sfcred, org)
    started = run_sfcred("rotate", "acme")
    assert started.returncode == 0, started.stderr
    asks_again(run_sfcred, org)


def test_an_activated_pending_key_clears_it(run_sfcred, org: Org, rsa_keypair) -> None:
    started = run_sfcred("rotate", "acme")  # a pending key, its certificate not uploaded
    assert started.returncode == 0, started.stderr
    pending_cert = started.stdout
    org.sf.upload_certificate(org.client_id, rsa_keypair(name="stranger").cert_pem)
    # Neither key is the app's: the active key, then the pending one, refused.
    refused_and_remembered(run_sfcred, org, inactive=False, sent=2)
    assert "invalid assertion" in memory().read("acme").description  # type: ignore[union-attr]
    org.sf.upload_certificate(org.client_id, pending_cert)
    activated = run_sfcred("rotate", "acme", "--activate")
    assert activated.returncode == 0, activated.stderr
    assert memory().read("acme") is None
    ok = run_sfcred("get", "-p", "acme")
    assert ok.returncode == 0, ok.stderr


# ---------------------------------------------------------------- the login budget


def test_the_budget_refuses_past_it_serves_stale_and_status_shows_it(
    run_sfcred, org: Org, tmp_path: Path
) -> None:
    env = {"SFCRED_LOGIN_BUDGET": "3"}
    org.sf.reset_counts()
    for _ in range(3):  # three logins: each get after an erase mints
        assert run_sfcred("erase", "-p", "acme").returncode == 0
        assert run_sfcred("get", "-p", "acme", env=env).returncode == 0
    assert run_sfcred("erase", "-p", "acme").returncode == 0
    past = run_sfcred("get", "-p", "acme", env=env)
    assert past.returncode == 4, past.stderr
    assert "login budget" in past.stderr
    assert "3 token requests in the last hour (budget 3)" in past.stderr
    assert past.stdout == ""
    assert org.sf.token_requests == 3  # refused by sfcred: nothing sent

    status = run_sfcred("status", "acme", "--json", env=env)
    assert status.returncode == 0, status.stderr
    [view] = json.loads(status.stdout)
    assert view["logins"]["machine"] == 3
    assert view["logins"]["budget"] == 3
    assert view["logins"]["spent"] is True
    assert view["logins"]["key"] == f"{USERNAME}@{org.sf.url.split('://')[1]}"
    text = run_sfcred("status", env=env)
    assert "3 on this machine; budget 3; SPENT" in text.stdout

    token = str(org.sf.session_tokens()[-1])  # a STALE token is served past the budget
    now = time.time()
    TokenCache(folder()).write(Entry("acme", org.username, Secret(token), org.sf.url,
                                     now - 880, now + 20, 60))
    stale = run_sfcred("get", "-p", "acme", "--format", "token", env=env)
    assert stale.returncode == 0, stale.stderr
    assert stale.stdout.strip() == token
    assert "login budget" in stale.stderr
    assert org.sf.token_requests == 3
    # A larger budget on the profile wins over the variable.
    _, cert = add_profile(run_sfcred, org.sf, tmp_path, "acme", client_id=org.client_id,
                          extra=["--force", "--login-budget", "10"])
    org.sf.upload_certificate(org.client_id, cert.read_text(encoding="ascii"))
    shown = json.loads(run_sfcred("profile", "show", "acme", "--json").stdout)
    assert shown["login_budget"] == 10
    more = run_sfcred("get", "-p", "acme", env=env)
    assert more.returncode == 0, more.stderr
    assert org.sf.token_requests == 4


def test_status_shows_token_last_mint_and_failure(run_sfcred, org: Org) -> None:
    assert run_sfcred("get", "-p", "acme").returncode == 0
    [fresh] = json.loads(run_sfcred("status", "acme", "--json").stdout)
    assert fresh["token"]["state"] == "fresh"
    assert 800 <= fresh["token"]["expires_in"] <= 900
    assert fresh["last_mint"]["outcome"] == "ok"
    assert fresh["failure"] is None
    assert fresh["logins"]["machine"] == 1
    run_sfcred("erase", "-p", "acme")
    refused_and_remembered(run_sfcred, org)
    [failed] = json.loads(run_sfcred("status", "acme", "--json").stdout)
    assert failed["token"]["state"] == "none"
    assert failed["last_mint"]["outcome"] == "refused"
    assert failed["last_mint"]["error"] == "invalid_grant"
    assert failed["failure"]["active"] is True
    assert 25 <= failed["failure"]["next_try_in"] <= 30
    assert "reactivate" in failed["failure"]["fix"]
    assert failed["logins"]["machine"] == 2
    text = run_sfcred("status", "acme").stdout
    assert "failure memory: refused (1 in a row); next try in" in text
    assert "fix: reactivate" in text
