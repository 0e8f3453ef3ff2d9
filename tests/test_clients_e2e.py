"""Real clients use what `sfcred` hands out: git's credential machinery, simple-salesforce over
TLS, curl, and `sfcred exec` running a shell. All through the installed program and the real
Secret Service."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from _e2e import Org, get_json, parse_git, setup_org, userinfo
from simple_salesforce.api import Salesforce

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def _run(argv: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


# ---------------------------------------------------------------- git


@pytest.fixture
def git_env(sfcred_env: dict[str, str]) -> dict[str, str]:
    """sfcred's environment plus what keeps git from asking anyone anything."""
    env = dict(sfcred_env)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    for name in ("GIT_ASKPASS", "SSH_ASKPASS"):
        env.pop(name, None)
    return env


def _fill(helper: str, stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The empty value first resets any helper list git might have found.
    argv = ["git", "-c", "credential.helper=", "-c", f"credential.helper={helper}",
            "credential", "fill"]  # fmt: skip
    return _run(argv, env, stdin)


@pytest.mark.parametrize("helper", ["sfcred", "sfcred -p acme"])
def test_git_credential_fill_gets_the_token_as_password(git_env, org: Org, helper: str) -> None:
    # The loopback stand-in is plain http, so that is what git asks for.
    done = _fill(helper, f"protocol=http\nhost={org.host}\n\n", git_env)
    assert done.returncode == 0, done.stderr
    out = parse_git(done.stdout)
    assert out["username"] == org.username
    assert (out["protocol"], out["host"]) == ("http", org.host)
    assert userinfo(org.sf.url, out["password"]).status_code == 200
    assert org.sf.token_requests == 1


def test_git_never_gets_a_token_for_an_unrelated_host(git_env, org: Org) -> None:
    done = _fill("sfcred", "protocol=https\nhost=github.com\n\n", git_env)
    assert done.returncode != 0  # no helper answered and prompts are off
    assert "password=" not in done.stdout
    assert org.sf.token_requests == 0


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(tls_ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_standin(tls_ca: trustme.CA) -> Iterator[FakeSalesforce]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with FakeSalesforce(ssl_context=context) as sf:
        yield sf


@pytest.fixture
def tls_org(run_sfcred, tls_standin: FakeSalesforce, tmp_path: Path) -> Org:
    assert tls_standin.url.startswith("https://")
    return setup_org(run_sfcred, tls_standin, tmp_path, "secure")


def test_git_over_tls_round_trips_protocol_and_host(git_env, tls_org: Org, ca_file) -> None:
    env = {**git_env, "SSL_CERT_FILE": str(ca_file)}
    done = _fill("sfcred", f"protocol=https\nhost={tls_org.host}\n\n", env)
    assert done.returncode == 0, done.stderr
    out = parse_git(done.stdout)
    assert (out["protocol"], out["host"], out["username"]) == (
        "https", tls_org.host, tls_org.username,
    )  # fmt: skip
    assert userinfo(tls_org.sf.url, out["password"], verify=_trusting(ca_file)).status_code == 200


def _trusting(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


# ---------------------------------------------------------------- simple-salesforce over TLS


def test_sfcred_verifies_tls_and_honours_ssl_cert_file(run_sfcred, tls_org: Org, ca_file) -> None:
    untrusted = run_sfcred("get", "-p", "secure", "--format", "json")
    assert untrusted.returncode == 4, untrusted.stderr
    assert untrusted.stdout == ""
    assert tls_org.sf.token_requests == 0  # the handshake failed before any request
    # The failure is remembered for a few seconds: after fixing the trust, --retry-now.
    trusted = run_sfcred("get", "-p", "secure", "--format", "json", "--retry-now",
                         env={"SSL_CERT_FILE": str(ca_file)})  # fmt: skip
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["instance_url"] == tls_org.sf.url


def test_simple_salesforce_queries_with_the_token(
    run_sfcred, tls_org: Org, ca_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests prefers CURL_CA_BUNDLE from the environment over session.verify.
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    data = get_json(run_sfcred, "-p", "secure", env={"SSL_CERT_FILE": str(ca_file)})
    session = requests.Session()
    session.verify = str(ca_file)
    sf = Salesforce(
        instance_url=data["instance_url"], session_id=data["access_token"], session=session
    )
    result: dict[str, Any] = sf.query("SELECT Id, Name FROM Account")
    assert result["done"] is True
    assert result["totalSize"] == 2
    assert [r["Name"] for r in result["records"]] == ["Acme", "Global Media"]
    # The same client with a made-up session is turned away: the query above proved the token.
    bogus = Salesforce(instance_url=data["instance_url"], session_id="00Dbogus", session=session)
    with pytest.raises(Exception, match="INVALID_SESSION_ID"):
        bogus.query("SELECT Id, Name FROM Account")


# ---------------------------------------------------------------- curl and exec


def test_curl_with_the_bearer_token(sfcred_env, org: Org) -> None:
    script = (
        "TOKEN=$(sfcred get -p acme --format token) || exit 90\n"
        'curl -sf -H "Authorization: Bearer $TOKEN" "$URL/services/oauth2/userinfo"\n'
    )
    done = _run(["sh", "-c", script], {**sfcred_env, "URL": org.sf.url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["preferred_username"] == org.username
    # The check has teeth: a wrong token makes curl -f fail.
    bad = _run(
        ["sh", "-c", script.replace("$TOKEN", "${TOKEN}x")], {**sfcred_env, "URL": org.sf.url}
    )
    assert bad.returncode == 22


def test_exec_passes_environment_stdio_and_exit_status(run_sfcred, org: Org) -> None:
    token = run_sfcred("get", "-p", "acme", "--format", "token").stdout.strip()
    script = (
        "echo $SF_ACCESS_TOKEN $SFDX_INSTANCE_URL\n"
        '[ "$SFDX_ACCESS_TOKEN" = "$SF_ACCESS_TOKEN" ] && echo same-token\n'
        '[ "$SF_INSTANCE_URL" = "$SFDX_INSTANCE_URL" ] && echo same-url\n'
        'read line; echo "stdin:$line"; echo to-stderr >&2\n'
        "exit 7\n"
    )
    done = run_sfcred("exec", "-p", "acme", "--", "sh", "-c", script, input="hello\n")
    assert done.returncode == 7, done.stderr
    assert done.stdout.splitlines() == [
        f"{token} {org.sf.url}", "same-token", "same-url", "stdin:hello",
    ]  # fmt: skip
    assert done.stderr == "to-stderr\n"
    assert org.sf.token_requests == 1  # served from the cache the first get filled


def test_exec_uses_the_default_profile_and_reports_a_missing_command(run_sfcred, org) -> None:
    ok = run_sfcred("exec", "--", "sh", "-c", 'test -n "$SF_ACCESS_TOKEN"')
    assert ok.returncode == 0, ok.stderr
    missing = run_sfcred("exec", "-p", "acme", "--", "no-such-command-sfcred-test")
    assert missing.returncode == 127
    assert "no-such-command-sfcred-test" in missing.stderr
    assert missing.stdout == ""
