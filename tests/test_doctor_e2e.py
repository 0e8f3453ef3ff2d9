"""`sfcred doctor`: each misconfiguration found by a check of its own, with the fix named.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_doctor.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from _e2e import Org, add_profile, setup_org
from _support import make_keypair
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from sfcred.profiles.record import PRODUCTION, SANDBOX
from sfcred.testing.server import FakeSalesforce

ORDER = ["keyring", "profile", "key", "certificate", "audience", "clock", "token", "userinfo",
         "app"]


def hosts(sf: FakeSalesforce) -> dict[str, str]:
    return {"SFCRED_PRODUCTION_URL": sf.login_url, "SFCRED_SANDBOX_URL": sf.test_url}


def run_doctor(run: Any, sf: FakeSalesforce, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """`sfcred doctor ARGS --json`, checks by name; the text form is checked elsewhere."""
    done = run("doctor", *args, "--json", env=hosts(sf))
    assert done.stderr == ""
    checks = json.loads(done.stdout)
    assert [c["name"] for c in checks] == ORDER
    return done.returncode, {c["name"]: c for c in checks}


def line(text: str, title: str) -> list[str]:
    """The check's line and its fix line, from the text output."""
    lines = text.splitlines()
    i = next(i for i, x in enumerate(lines) if x[2:].startswith(title + ":"))
    return lines[i : i + 2]


@pytest.fixture
def sandbox() -> Any:
    with FakeSalesforce(org="sandbox") as sf:
        yield sf


@pytest.fixture
def org(secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def test_all_green_exits_0_and_names_the_user(run_sfcred: Any, org: Org) -> None:
    done = run_sfcred("doctor", "acme", env=hosts(org.sf))
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert len(lines) == 9
    assert all(x.startswith("✓ ") for x in lines[:8]), done.stdout
    assert lines[8].startswith("- app certificate: no app recorded yet")
    userinfo = line(done.stdout, "token works")[0]
    assert org.username in userinfo
    assert org.sf.org_id in userinfo
    assert done.stderr == ""


def test_default_profile_is_used_without_a_name(run_sfcred: Any, org: Org) -> None:
    code, checks = run_doctor(run_sfcred, org.sf)
    assert code == 0
    assert checks["profile"]["detail"].startswith("acme:")


def test_json_shape(run_sfcred: Any, org: Org) -> None:
    done = run_sfcred("doctor", "acme", "--json", env=hosts(org.sf))
    data = json.loads(done.stdout)
    assert isinstance(data, list)
    for c in data:
        assert set(c) == {"name", "title", "status", "detail", "fix", "exit_code"}
        assert c["status"] in ("ok", "fail", "warn", "skip")
        assert "\n" not in c["detail"]
        assert isinstance(c["exit_code"], int)


def test_offline_sends_nothing(run_sfcred: Any, org: Org) -> None:
    org.sf.reset_counts()
    code, checks = run_doctor(run_sfcred, org.sf, "acme", "--offline")
    assert code == 0
    assert [checks[n]["status"] for n in ORDER[:5]] == ["ok"] * 5
    assert {checks[n]["status"] for n in ("clock", "token", "userinfo")} == {"skip"}
    assert org.sf.token_requests == 0
    assert org.sf.requests == []


def test_no_profile_at_all(run_sfcred: Any) -> None:
    done = run_sfcred("doctor", "--offline")
    assert done.returncode == 1
    assert "✗ profile: no profile named and no default profile" in done.stdout
    assert "sfcred profile default NAME" in done.stdout


def test_no_secret_in_any_output(
    run_sfcred: Any, org: Org, rsa_keypair: Any, tmp_path: Path
) -> None:
    green = run_sfcred("doctor", "acme", env=hosts(org.sf))
    as_json = run_sfcred("doctor", "acme", "--json", env=hosts(org.sf))
    org.sf.upload_certificate(org.client_id, rsa_keypair(name="other").cert_pem)
    red = run_sfcred("doctor", "acme", env=hosts(org.sf))
    text = green.stdout + green.stderr + as_json.stdout + red.stdout + red.stderr
    assert "PRIVATE KEY" not in text
    assert f"{org.sf.org_id[:15]}!" not in text  # how every access token starts
    assert "eyJ" not in text  # a JWT (the assertion)
    for session_token in org.sf.session_tokens():
        assert session_token not in text


def test_wrong_audience_for_a_sandbox_probe_finds_the_pair(
    secret_service: Any, run_sfcred: Any, sandbox: FakeSalesforce, tmp_path: Path
) -> None:
    setup_org(run_sfcred, sandbox, tmp_path, "uat", extra=["--audience", PRODUCTION])
    code, checks = run_doctor(run_sfcred, sandbox, "uat")
    assert code == 3
    token = checks["token"]
    assert token["status"] == "fail"
    assert "audience is invalid" in token["detail"]
    assert f"host {sandbox.url} with audience {SANDBOX} works" in token["fix"]
    assert f"--login-url {sandbox.url} --audience {SANDBOX} " in token["fix"]
    assert "sfcred profile add uat " in token["fix"]
    assert token["fix"].endswith("--force")


def test_a_pair_that_gets_further_is_named_with_the_next_fix(
    secret_service: Any, run_sfcred: Any, sandbox: FakeSalesforce, tmp_path: Path
) -> None:
    """Two problems at once: the wrong audience hides the missing approval. Doctor names the
    pair that gets past the audience check, then the fix for what Salesforce says next."""
    setup_org(run_sfcred, sandbox, tmp_path, "uat", preauthorize=False,
              extra=["--audience", PRODUCTION])
    code, checks = run_doctor(run_sfcred, sandbox, "uat")
    assert code == 3
    token = checks["token"]
    assert "audience is invalid" in token["detail"]
    assert f"with audience {SANDBOX} gets past this error" in token["fix"]
    assert "user hasn't approved this consumer" in token["fix"]
    assert f"--audience {SANDBOX} " in token["fix"]
    assert "`sfcred authorize uat`" in token["fix"]


def test_sandbox_host_with_production_audience_is_found_offline(
    secret_service: Any, run_sfcred: Any, sandbox: FakeSalesforce, tmp_path: Path
) -> None:
    setup_org(run_sfcred, sandbox, tmp_path, "uat", login_url=sandbox.test_url,
              extra=["--audience", PRODUCTION])
    code, checks = run_doctor(run_sfcred, sandbox, "uat")
    assert code == 1  # the offline check fails first
    assert checks["audience"]["status"] == "fail"
    assert "a sandbox host with a production audience" in checks["audience"]["detail"]
    assert f"--audience {SANDBOX}" in checks["audience"]["fix"]
    assert f"--login-url {sandbox.test_url} --audience {SANDBOX}" in checks["token"]["fix"]


def test_sandbox_username_on_production_is_a_warning(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme", username="dev@example.com.uat",
              login_url=standin.login_url, extra=["--audience", PRODUCTION])
    code, checks = run_doctor(run_sfcred, standin, "acme")
    assert code == 0  # a warning only: it works
    assert checks["audience"]["status"] == "warn"
    assert ".uat" in checks["audience"]["detail"]
    assert f"--login-url {standin.test_url} --audience {SANDBOX}" in checks["audience"]["fix"]


def test_key_not_matching_the_uploaded_certificate(
    run_sfcred: Any, org: Org, rsa_keypair: Any
) -> None:
    org.sf.upload_certificate(org.client_id, rsa_keypair(name="other").cert_pem)
    done = run_sfcred("doctor", "acme", env=hosts(org.sf))
    assert done.returncode == 3
    failed, fix = line(done.stdout, "token request")
    assert failed.startswith("✗ ")
    assert "invalid assertion" in failed
    assert "`sfcred cert acme`" in fix
    assert org.sf.token_requests == 1  # no probing for a key mismatch


def test_unknown_consumer_key(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    add_profile(run_sfcred, standin, tmp_path, "acme", client_id="3MVG9unknown")
    code, checks = run_doctor(run_sfcred, standin, "acme")
    assert code == 3
    assert "client identifier invalid" in checks["token"]["detail"]
    assert "--client-id" in checks["token"]["fix"]
    assert standin.token_requests == 1


def _expired_pair(tmp_path: Path) -> tuple[Path, Path]:
    pair = make_keypair(2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "expired")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(pair.key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now - dt.timedelta(days=35))
        .sign(pair.key, hashes.SHA256())
    )  # fmt: skip
    key_file, cert_file = tmp_path / "old.key", tmp_path / "old.crt"
    key_file.write_text(pair.key_pem)
    cert_file.write_text(cert.public_bytes(serialization.Encoding.PEM).decode())
    return key_file, cert_file


def test_expired_certificate(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    key_file, cert_file = _expired_pair(tmp_path)
    add_profile(run_sfcred, standin, tmp_path, "acme", key_file=key_file,
                           extra=["--cert-file", str(cert_file)])
    done = run_sfcred("doctor", "acme", "--offline", env=hosts(standin))
    assert done.returncode == 1
    failed, fix = line(done.stdout, "certificate")
    assert failed.startswith("✗ certificate: expired on ")
    assert "`sfcred rotate acme`" in fix
    assert "--activate" in fix


def test_skewed_clock_fails_and_shows_both_times(run_sfcred: Any, org: Org) -> None:
    org.sf.clock_offset = 300  # the server is 5 minutes ahead: every assertion looks expired
    code, checks = run_doctor(run_sfcred, org.sf, "acme")
    assert code == 1  # the clock is the first failure
    clock = checks["clock"]
    assert clock["status"] == "fail"
    assert "s behind" in clock["detail"]
    assert "local " in clock["detail"]
    assert "NTP" in clock["fix"]
    assert "expired authorization code" in checks["token"]["detail"]
    assert "fix the clock" in checks["token"]["fix"]


def test_slightly_skewed_clock_is_a_warning(run_sfcred: Any, org: Org) -> None:
    org.sf.clock_offset = -90  # this machine is 90 s ahead: tokens still work
    code, checks = run_doctor(run_sfcred, org.sf, "acme")
    assert code == 0
    assert checks["clock"]["status"] == "warn"
    assert "ahead of" in checks["clock"]["detail"]
    assert checks["token"]["status"] == "ok"


def test_unapproved_user_fix_names_authorize(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme", preauthorize=False)
    done = run_sfcred("doctor", "acme", env=hosts(standin))
    assert done.returncode == 3
    failed, fix = line(done.stdout, "token request")
    assert "user hasn't approved this consumer" in failed
    assert "`sfcred authorize acme`" in fix
    assert "pre-authorized" in fix
    assert "none got further" in fix
    assert 1 < standin.token_requests <= 1 + 6  # the probes stay few


def test_external_app_via_login_host_probe_finds_my_domain(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    org = setup_org(run_sfcred, standin, tmp_path, "acme", login_url=standin.login_url,
                    extra=["--audience", PRODUCTION])
    # It worked as a connected app, so sfcred has seen the org's instance (its My Domain);
    # then the admin moved the integration to an External Client App.
    assert run_sfcred("get", "-p", "acme").returncode == 0
    standin.add_app(org.client_id, org.cert_pem, kind="external")
    standin.preauthorize(org.client_id, org.username)
    standin.reset_counts()
    code, checks = run_doctor(run_sfcred, standin, "acme")
    assert code == 3
    token = checks["token"]
    assert "External client app is not installed" in token["detail"]
    assert f"--login-url {standin.url} --audience {standin.url} " in token["fix"]
    assert standin.token_requests == 2  # the My Domain pair is tried first


def test_doctor_names_the_backend_and_its_persistence(run_sfcred) -> None:
    done = run_sfcred("doctor", "--offline", "--json")
    keyring = next(c for c in json.loads(done.stdout) if c["name"] == "keyring")
    assert keyring["status"] == "ok"
    assert "sfcred.testing.keyrings.MemoryKeyring" in keyring["detail"]
    assert "lost when the process ends" in keyring["detail"]
