"""Every refusal of the client credentials grant, through the installed program against the
stand-in: Salesforce's words, then the cause and the fix, exit 3, nothing on stdout, and the
consumer secret nowhere in the output."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _cc import RUN_AS, add_cc_profile, cc_app, new_secret

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

Change = Callable[[FakeSalesforce, str], None]


def _no_run_as(sf: FakeSalesforce, cid: str) -> None:
    sf.enable_client_credentials(cid, None)


def _flow_off(sf: FakeSalesforce, cid: str) -> None:
    sf.enable_client_credentials(cid, RUN_AS, enabled=False)


def _secret_changed(sf: FakeSalesforce, cid: str) -> None:
    sf.set_client_secret(cid, new_secret())


def _user_off(sf: FakeSalesforce, cid: str) -> None:
    sf.add_user(RUN_AS, active=False)


def _only_full(sf: FakeSalesforce, cid: str) -> None:
    sf.set_scopes(cid, {"full", "refresh_token", "offline_access"})


def _rate(sf: FakeSalesforce, cid: str) -> None:
    sf.login_rate_limit = 0


CASES = [
    # (change at Salesforce, the profile's login host, Salesforce's words, a piece of the fix)
    (None, "login", "request not supported on this domain", "My Domain"),
    (_no_run_as, "mydomain", "no client credentials user enabled", "Run As"),
    (_flow_off, "mydomain", "client credentials flow not enabled",
     "Enable Client Credentials Flow"),
    (_secret_changed, "mydomain", "invalid client credentials", "--secret-stdin"),
    (_user_off, "mydomain", "inactive user", "reactivate"),
    (_only_full, "mydomain", "no valid scopes defined", "Manage user data via APIs (api)"),
    (_rate, "mydomain", "login rate exceeded", "cache"),
    ("unknown-client", "mydomain", "client identifier invalid", "--client-id"),
]


@pytest.mark.parametrize(("change", "host", "words", "fix"), CASES,
                         ids=[c[2].split()[0] + "-" + c[2].split()[-1] for c in CASES])
def test_each_refusal_names_its_fix(run_sfcred, standin: FakeSalesforce, rsa_keypair,
                                    change: Change | str | None, host: str, words: str,
                                    fix: str) -> None:
    client_id, secret = cc_app(standin, rsa_keypair.cert_pem)
    login_url = standin.login_url if host == "login" else standin.url
    given = "3MVG9unknown" if change == "unknown-client" else client_id
    add_cc_profile(run_sfcred, standin, given, secret, login_url=login_url)
    if callable(change):
        change(standin, client_id)
    done = run_sfcred("get", "-p", "cc")
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert words in lines[0]
    cause = next(line for line in lines if line.startswith("sfcred: cause: "))
    fixed = next(line for line in lines if line.startswith("sfcred: fix: "))
    assert cause
    assert fix in fixed
    assert secret not in done.stderr
    # doctor gives the same advice in its token check
    doctor = run_sfcred("doctor", "cc")
    assert doctor.returncode != 0
    assert fix in doctor.stdout + doctor.stderr
    assert secret not in doctor.stdout + doctor.stderr
