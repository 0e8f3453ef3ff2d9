"""The client credentials grant end to end through the installed program: a profile added
from a pipe or a terminal (no echo), get in every format, exec, CI mode, the Python API,
JWT-based access tokens whose exp bounds the cache, and doctor's checklist."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cc import RUN_AS, CcOrg, add_cc_profile, cc_app, setup_cc
from _e2e import get_json, on_terminal, parse_git, setup_org, userinfo

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service


@pytest.fixture
def cc(run_sfcred, standin: FakeSalesforce, rsa_keypair) -> CcOrg:
    return setup_cc(run_sfcred, standin, rsa_keypair.cert_pem)


def _expires(data: dict[str, str]) -> float:
    return dt.datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")).timestamp()


def test_get_in_every_format_acts_as_the_run_as_user(run_sfcred, cc: CcOrg) -> None:
    sf = cc.sf
    shown = run_sfcred("profile", "show", "cc")
    assert shown.returncode == 0, shown.stderr
    assert "grant:" in shown.stdout
    assert "client-credentials" in shown.stdout
    assert "not known yet" in shown.stdout
    assert "consumer secret" in shown.stdout

    host = sf.url.split("://", 1)[1]
    git = run_sfcred("get", input=f"protocol=http\nhost={host}\n\n")
    assert git.returncode == 0, git.stderr
    answer = parse_git(git.stdout)
    assert answer["username"] == RUN_AS
    token = answer["password"]
    reply = userinfo(sf.url, token)
    assert reply.status_code == 200
    assert reply.json()["preferred_username"] == RUN_AS
    assert sf.token_requests == 1
    form = [r for r in sf.requests if r[2] == "/services/oauth2/token"]
    assert [r[0] for r in form] == ["mydomain"]

    data = get_json(run_sfcred, "-p", "cc")
    assert (data["access_token"], data["username"], data["profile"]) == (token, RUN_AS, "cc")
    assert data["instance_url"] == sf.url
    plain = run_sfcred("get", "-p", "cc", "--format", "token")
    assert plain.stdout == token + "\n"
    env = run_sfcred("get", "-p", "cc", "--format", "env")
    assert "SF_ACCESS_TOKEN=" in env.stdout
    assert token in env.stdout
    assert sf.token_requests == 1  # one mint; every later get from the cache

    shown = run_sfcred("profile", "show", "cc", "--json")
    info = json.loads(shown.stdout)
    assert info["grant"] == "client-credentials"
    assert info["run_as"] == RUN_AS
    assert [k["kind"] for k in info["keys"]] == ["client-secret"]
    assert "audience" not in info
    assert cc.secret not in shown.stdout + shown.stderr


def test_exec_gets_the_token_never_the_secret(run_sfcred, cc: CcOrg) -> None:
    script = ("import os,json;print(json.dumps({k: os.environ.get(k) for k in "
              "('SF_ACCESS_TOKEN','SF_INSTANCE_URL','SFCRED_CLIENT_SECRET')}))")
    done = run_sfcred("exec", "-p", "cc", "--", sys.executable, "-c", script,
                      env={"SFCRED_CLIENT_SECRET": cc.secret})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["SFCRED_CLIENT_SECRET"] is None
    assert seen["SF_INSTANCE_URL"] == cc.sf.url
    assert userinfo(cc.sf.url, seen["SF_ACCESS_TOKEN"]).status_code == 200


def test_the_python_api_and_auth_classes(sfcred_env, cc: CcOrg) -> None:
    code = f"""
import httpx, requests, sfcred
tok = sfcred.get_token("cc")
assert tok.username == {RUN_AS!r}, tok.username
assert tok.access_token not in repr(tok)
with httpx.Client(auth=sfcred.SalesforceAuth("cc")) as c:
    r = c.get({cc.sf.url!r} + "/services/oauth2/userinfo")
    assert r.status_code == 200 and r.json()["preferred_username"] == {RUN_AS!r}
s = requests.Session(); s.auth = sfcred.RequestsAuth("cc")
assert s.get({cc.sf.url!r} + "/services/oauth2/userinfo").status_code == 200
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], env=sfcred_env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert cc.sf.token_requests == 1


def test_add_from_a_terminal_asks_without_echo(sfcred_env, standin: FakeSalesforce,
                                               rsa_keypair, run_sfcred) -> None:
    client_id, secret = cc_app(standin, rsa_keypair.cert_pem)
    argv = ["sfcred", "profile", "add", "tty", "--grant", "client-credentials",
            "--client-id", client_id, "--client-secret-stdin", "--login-url", standin.url]
    code, seen = on_terminal(argv, sfcred_env, b"consumer secret:", secret.encode())
    assert code == 0, seen
    assert secret.encode() not in seen  # not echoed
    assert b"added profile tty" in seen
    data = get_json(run_sfcred, "-p", "tty")
    assert data["username"] == RUN_AS


def test_ci_mode_from_the_environment_alone(run_sfcred, standin: FakeSalesforce,
                                            rsa_keypair, fail_keyring, sfcred_env) -> None:
    client_id, secret = cc_app(standin, rsa_keypair.cert_pem)
    env = {"SFCRED_CLIENT_ID": client_id, "SFCRED_CLIENT_SECRET": secret,
           "SFCRED_LOGIN_URL": standin.url}
    data = get_json(run_sfcred, env=env)
    assert data["username"] == RUN_AS
    assert userinfo(standin.url, data["access_token"]).status_code == 200
    script = ("import os;print(os.environ.get('SFCRED_CLIENT_SECRET'), "
              "'SF_ACCESS_TOKEN' in os.environ)")
    done = run_sfcred("exec", "--", sys.executable, "-c", script, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "True"]
    code = "import sfcred; print(sfcred.get_token().username)"
    api = subprocess.run([sys.executable, "-c", code],
                         env={**sfcred_env, **env}, capture_output=True, text=True, timeout=60,
                         check=False)
    assert api.returncode == 0, api.stderr
    assert api.stdout.strip() == RUN_AS
    generic = run_sfcred("get", "--format", "token",
                         env={**env, "SFCRED_LOGIN_URL": "https://login.salesforce.com"})
    assert generic.returncode == 1
    assert "My Domain" in generic.stderr
    assert secret not in done.stdout + done.stderr + generic.stderr


def test_a_jwt_access_token_s_exp_shortens_the_cache_life(run_sfcred, cc: CcOrg,
                                                          tmp_path: Path) -> None:
    cc.sf.jwt_access_tokens(cc.client_id, 300)  # the TTL is 900
    before = time.time()
    data = get_json(run_sfcred, "-p", "cc")
    assert data["access_token"].count(".") == 2
    assert before + 290 <= _expires(data) <= time.time() + 301
    # Longer than the default TTL: exp replaces it.
    cc.sf.jwt_access_tokens(cc.client_id, 5000)
    assert run_sfcred("erase", "-p", "cc").returncode == 0
    before = time.time()
    data = get_json(run_sfcred, "-p", "cc")
    assert before + 4990 <= _expires(data) <= time.time() + 5001
    # ... but never a TTL the user chose.
    add_cc_profile(run_sfcred, cc.sf, cc.client_id, cc.secret, "capped",
                   extra=["--token-ttl", "1200"])
    data = get_json(run_sfcred, "-p", "capped")
    assert _expires(data) <= time.time() + 1201
    # The JWT bearer grant too.
    org = setup_org(run_sfcred, cc.sf, tmp_path, "jwt")
    cc.sf.jwt_access_tokens(org.client_id, 200)
    data = get_json(run_sfcred, "-p", "jwt")
    assert _expires(data) <= time.time() + 201


def test_doctor_runs_its_checklist(run_sfcred, cc: CcOrg) -> None:
    done = run_sfcred("doctor", "cc", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert checks["key"]["status"] == "ok"
    assert "consumer secret" in checks["key"]["detail"]
    assert checks["certificate"]["status"] == "skip"
    assert checks["token"]["status"] == "ok"
    assert checks["userinfo"]["status"] == "ok"
    assert RUN_AS in checks["userinfo"]["detail"]
    assert cc.secret not in done.stdout + done.stderr
    refused = run_sfcred("authorize", "cc", "--no-browser")
    assert refused.returncode == 1
    assert "no user approval" in refused.stderr


def test_profile_add_refuses_a_generic_login_host_and_keys(run_sfcred, standin) -> None:
    done = add_cc_profile(run_sfcred, standin, "3MVG9x", "s3cret", "bad",
                          login_url="https://login.salesforce.com", check=False)
    assert done.returncode == 1
    assert "My Domain" in done.stderr
    done = run_sfcred("profile", "add", "bad2", "--grant", "client-credentials",
                      "--client-id", "x", "--generate-key", "--client-secret-stdin",
                      "--login-url", standin.url, input="s\n")
    assert done.returncode == 2
    done = run_sfcred("profile", "add", "bad3", "--client-id", "x", "--client-secret-stdin",
                      "--username", "u@example.com", "--login-url", standin.url, input="s\n")
    assert done.returncode == 2
    assert run_sfcred("profile", "list", "--names").stdout == ""
