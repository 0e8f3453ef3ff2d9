"""Every failure reaches the user as docs/troubleshooting.md says: the right exit code,
Salesforce's words and the fix on stderr, and nothing at all on stdout (a client must never
take an error for a token).
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from _e2e import USERNAME, Org, add_profile, get_json, setup_org, userinfo
from _support import FAIL_BACKEND

from sfcred import cli
from sfcred.testing.server import FakeSalesforce

# ---------------------------------------------------------------- Salesforce says no (exit 3)


@dataclass(frozen=True)
class Refusal:
    error: str
    description: str
    fix: tuple[str, ...]  # fragments of the fix sfcred must print
    setup: Callable[..., None]
    org: str = "production"


def _unapproved(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme", preauthorize=False)


def _not_assigned(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme", preauthorize=False, app={"preauthorized_only": True})


def _production_audience_on_sandbox(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme", extra=["--audience", "https://login.salesforce.com"])


def _other_certificate(run, sf, tmp_path, rsa_keypair) -> None:
    org = setup_org(run, sf, tmp_path, "acme")
    sf.upload_certificate(org.client_id, rsa_keypair(name="someone-else").cert_pem)


def _clock_skew(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme")
    sf.clock_offset = 3600.0  # the server is an hour ahead: every exp is already past


def _unknown_client(run, sf, tmp_path, rsa_keypair) -> None:
    add_profile(run, sf, tmp_path, "acme")  # no app at the stand-in
    sf.add_user(USERNAME)


def _external_app_on_login_host(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme", login_url=sf.login_url, app={"kind": "external"})


def _ip_restricted(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme")
    sf.add_user(USERNAME, ip_restricted=True)


def _inactive_user(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme")
    sf.add_user(USERNAME, active=False)


def _inactive_org(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme")
    sf.org_active = False


def _rate_limited(run, sf, tmp_path, rsa_keypair) -> None:
    setup_org(run, sf, tmp_path, "acme")
    sf.login_rate_limit = 0


REFUSALS = {
    "unapproved": Refusal(
        "invalid_grant", "user hasn't approved this consumer",
        ("sfcred authorize acme", "pre-authorized"), _unapproved,
    ),
    "admin-approved-not-assigned": Refusal(
        "invalid_app_access", "user is not admin approved to access this app",
        ("permission set", USERNAME), _not_assigned,
    ),
    "wrong-audience": Refusal(
        "invalid_grant", "audience is invalid",
        ("test.salesforce.com",), _production_audience_on_sandbox, org="sandbox",
    ),
    "key-not-matching-certificate": Refusal(
        "invalid_grant", "invalid assertion", ("sfcred cert acme",), _other_certificate,
    ),
    "expired-exp": Refusal(
        "invalid_grant", "expired authorization code", ("clock", "server time"), _clock_skew,
    ),
    "unknown-consumer-key": Refusal(
        "invalid_client_id", "client identifier invalid", ("--client-id",), _unknown_client,
    ),
    "external-app-via-login-host": Refusal(
        "app_not_found", "External client app is not installed in this org",
        ("My Domain",), _external_app_on_login_host,
    ),
    "ip-restricted": Refusal(
        "invalid_grant", "IP restricted or invalid login hours", ("IP ranges",), _ip_restricted,
    ),
    "inactive-user": Refusal(
        "invalid_grant", "inactive user", ("reactivate",), _inactive_user,
    ),
    "inactive-org": Refusal(
        "invalid_grant", "inactive organization", ("reactivate",), _inactive_org,
    ),
    "rate-limit": Refusal(
        "invalid_grant", "login rate exceeded", ("cache", "--token-ttl"), _rate_limited,
    ),
}  # fmt: skip


@pytest.mark.secret_service
@pytest.mark.parametrize("case", REFUSALS.values(), ids=list(REFUSALS))
def test_salesforce_refusals_say_why_and_how_to_fix(
    run_sfcred, tmp_path, rsa_keypair, case: Refusal
) -> None:
    with FakeSalesforce(org=case.org) as sf:
        case.setup(run_sfcred, sf, tmp_path, rsa_keypair)
        done = run_sfcred("get", "-p", "acme")
        assert done.returncode == 3, done.stderr
        assert done.stdout == ""
        assert case.error in done.stderr
        assert case.description in done.stderr
        for fragment in case.fix:
            assert fragment.lower() in done.stderr.lower(), (fragment, done.stderr)
        assert "Traceback" not in done.stderr
        assert "internal error" not in done.stderr
        assert sf.token_requests == 1  # a 4xx is Salesforce's final word: never retried


# ---------------------------------------------------------------- network trouble (exit 4)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.secret_service
def test_an_unreachable_endpoint_fails_with_4_within_the_retry_budget(
    run_sfcred, standin, tmp_path
) -> None:
    add_profile(
        run_sfcred, standin, tmp_path, "acme", login_url=f"http://127.0.0.1:{_closed_port()}"
    )
    done = run_sfcred("get", "-p", "acme", timeout=60)  # the timeout is the hang guard
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""
    assert "after 4 attempts" in done.stderr  # the retry budget: 4 tries, then exit 4


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


@pytest.mark.secret_service
@pytest.mark.parametrize("fault", ["503", "500", "reset"])
def test_server_trouble_is_retried_and_then_succeeds(run_sfcred, org: Org, fault: str) -> None:
    org.sf.fail_next(fault)
    data = get_json(run_sfcred, "-p", "acme")
    assert org.sf.token_requests == 2
    assert userinfo(org.sf.url, data["access_token"]).status_code == 200


@pytest.mark.secret_service
def test_persistent_503_ends_with_4(run_sfcred, org: Org) -> None:
    org.sf.fail_next("503", count=10)
    done = run_sfcred("get", "-p", "acme")
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""
    assert "503" in done.stderr
    assert 2 <= org.sf.token_requests <= 5


@pytest.mark.secret_service
def test_a_400_is_not_retried(run_sfcred, standin, tmp_path) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme", preauthorize=False)
    done = run_sfcred("get", "-p", "acme")
    assert done.returncode == 3
    assert standin.token_requests == 1


@pytest.mark.secret_service
@pytest.mark.parametrize("fault", ["garbage", "huge", "crlf", "http_instance", "missing_token"])
def test_a_bad_token_answer_is_refused_and_never_printed(run_sfcred, org: Org, fault: str) -> None:
    org.sf.fail_next(fault)
    done = run_sfcred("get", "-p", "acme", input=f"capability[]=authtype\nhost={org.host}\n\n")
    assert done.returncode == 4, done.stderr  # the server is failing, not refusing
    assert "internal error" not in done.stderr
    assert done.stdout == ""
    token_prefix = org.sf.org_id[:15]  # every token the stand-in makes starts with it
    for text in (done.stdout, done.stderr):
        assert token_prefix not in text
        assert "X-Injected" not in text
        assert "evil.example.com" not in text
        assert "xxxxxxxxxx" not in text
    # Nothing bad was cached: the next get mints a good token.
    data = get_json(run_sfcred, "-p", "acme")
    assert userinfo(org.sf.url, data["access_token"]).status_code == 200
    assert data["instance_url"] == org.sf.url


# ---------------------------------------------------------------- bad input (exit 1)


@pytest.mark.secret_service
@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (b"protocol=https\nno-equals-sign\n\n", "line 2"),
        (b"host=127.0.0.1\x00evil\n\n", "line 1"),
        (b"protocol=https\nhost=a\rb\n\n", "line 2"),
        (b"protocol=https\r\nhost=x\r\n\r\n", "line 1"),
        (b"protocol=https\nhost=\n\n", "host"),
        (b"url=https://\n\n", "host"),
        (b"host=caf\xe9\n\n", "line 1"),
    ],
    ids=["no-equals", "nul", "cr", "crlf-lines", "empty-host", "url-without-host", "latin-1"],
)
def test_malformed_input_is_refused(run_sfcred, org: Org, request_bytes: bytes, reason) -> None:
    done = run_sfcred("get", input=request_bytes)  # a default profile exists
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert reason in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2
    assert org.sf.token_requests == 0


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["get", "--format", "xml"],
        ["get", "--bogus"],
        ["get", "-p"],
        ["profile", "add", "acme"],
        ["profile", "add", "acme", "--client-id", "c", "--username", "u",
         "--generate-key", "--key-file", "k.pem"],
        ["profile", "add", "acme", "--client-id", "c", "--username", "u",
         "--generate-key", "--key-size", "1024"],
        ["profile", "add", "acme", "--client-id", "c", "--username", "u",
         "--generate-key", "--token-ttl", "soon"],
        ["profile", "show"],
        ["profile", "frobnicate"],
        ["exec", "-p", "acme"],
        ["exec", "-p", "acme", "--"],
    ],
)  # fmt: skip
def test_usage_errors_exit_2(run_sfcred, argv: list[str]) -> None:
    done = run_sfcred(*argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert done.stderr.strip()
    assert "Traceback" not in done.stderr


def test_usage_errors_of_git_credential_sfcred(sfcred_env) -> None:
    import subprocess

    done = subprocess.run(
        ["git-credential-sfcred", "--bogus"], capture_output=True, text=True, env=sfcred_env,
        timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""


def test_unknown_profile_is_a_configuration_error(run_sfcred) -> None:
    done = run_sfcred("get", "-p", "nosuch")
    assert (done.returncode, done.stdout) == (1, "")
    assert "nosuch" in done.stderr
    none = run_sfcred("get")  # no profile at all, none chosen
    assert (none.returncode, none.stdout) == (1, "")


# ---------------------------------------------------------------- keyring trouble (exit 5)


def test_a_locked_keyring_fails_fast_with_5(run_sfcred, fail_keyring) -> None:
    start = time.monotonic()
    done = run_sfcred(
        "profile", "add", "acme", "--client-id", "c", "--username", "u", "--generate-key",
        timeout=30,
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert done.stdout == ""
    assert "locked" in done.stderr
    assert "PYTHON_KEYRING_BACKEND" in done.stderr  # the ways out
    assert time.monotonic() - start < 20


def test_get_with_a_locked_keyring_exits_5(run_sfcred, standin, capsys) -> None:
    # The profile is made in this process (memory keyring); the index file is on disk, so a
    # child sees the profile but not its keys: its keyring is locked.
    argv = ["profile", "add", "acme", "--client-id", "c", "--username", USERNAME,
            "--login-url", standin.url, "--generate-key"]  # fmt: skip
    assert cli.main(argv, stdin=io.StringIO("")) == 0
    capsys.readouterr()
    locked = {"PYTHON_KEYRING_BACKEND": FAIL_BACKEND}
    host = standin.url.split("://", 1)[1]
    for args, stdin in ((("get", "-p", "acme"), None), (("get",), f"host={host}\n\n")):
        done = run_sfcred(*args, input=stdin, env=locked, timeout=30)
        assert done.returncode == 5, done.stderr
        assert done.stdout == ""
        assert "keyring" in done.stderr
    assert standin.token_requests == 0
    listed = run_sfcred("profile", "list", "--names", env=locked)  # needs no keyring
    assert (listed.returncode, listed.stdout) == (0, "acme\n")


def test_a_new_profile_without_a_key_source_is_exit_1(run_sfcred) -> None:
    """No --key-file / --generate-key: with --force on an existing profile that keeps its
    keys; for a new profile it is an input error naming both options."""
    done = run_sfcred("profile", "add", "acme", "--client-id", "c", "--username", "u")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "--key-file PATH or --generate-key" in done.stderr
