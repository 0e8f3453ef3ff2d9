"""Bounded I/O (issue 20, point 5), through the INSTALLED program: a Metadata answer nested
150,000 deep or holding a DTD in UTF-16, an answer dripped one byte a second, a FIFO where
sfcred reads a file, damaged key material in the keyring, and a 900 KB token. Each ends, in
bounded time, with a named one-line error and its exit code; the big token is cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from _e2e import DEPLOY_APP, USERNAME, Org, setup_deploy_org

from sfcred.testing.server import FakeSalesforce

pytestmark = [pytest.mark.slow, pytest.mark.secret_service]
APP = DEPLOY_APP
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_deploy_org(run_sfcred, standin, tmp_path)


def timed(run_sfcred, *args: str, env: dict[str, str | None] | None = None) -> tuple[Any, float]:
    started = time.monotonic()
    done = run_sfcred(*args, env=env, timeout=60)
    return done, time.monotonic() - started


def error_lines(stderr: str) -> list[str]:
    """The lines of an error: the message, and its hint if any; never a traceback."""
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    return [line for line in stderr.splitlines() if line and "hint:" not in line]


def deep(levels: int) -> bytes:
    return (f'<e:Envelope xmlns:e="{SOAP}"><e:Body>'.encode() + b"<a>" * levels
            + b"</a>" * levels + b"</e:Body></e:Envelope>")


@pytest.mark.parametrize("levels", [150_000, 1_000])
def test_a_deep_metadata_answer_is_refused_at_once(
    run_sfcred, org: Org, standin: FakeSalesforce, levels: int
) -> None:
    """Before: SIGSEGV (exit 139) at 150,000 levels, an internal RecursionError at 1,000."""
    body = deep(levels)
    assert len(body) < 4 << 20  # under the body cap: the depth alone must refuse it
    standin.metadata_answer = {"readMetadata": body}
    done, took = timed(run_sfcred, "rotate", "acme", "--deploy", "--app", APP, "--wait", "5")
    assert done.returncode == 4, done.stderr
    assert "the Metadata API answer is nested deeper than 64 levels; refusing it" in done.stderr
    assert error_lines(done.stderr)[-1].startswith("sfcred: the Metadata API answer")
    assert took < 10


def test_a_dtd_in_utf16_is_refused(run_sfcred, org: Org, standin: FakeSalesforce) -> None:
    """The old guard searched the bytes for ``<!DOCTYPE``, which UTF-16 hides."""
    text = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e:Envelope [<!ENTITY x "y">]>'
            f'<e:Envelope xmlns:e="{SOAP}"><e:Body>&x;</e:Body></e:Envelope>')
    body = text.encode("utf-16")
    assert b"<!DOCTYPE" not in body
    standin.metadata_answer = {"readMetadata": body}
    done, _ = timed(run_sfcred, "rotate", "acme", "--deploy", "--app", APP, "--wait", "5")
    assert done.returncode == 4, done.stderr
    assert "the Metadata API answer holds a DTD; refusing it" in done.stderr
    error_lines(done.stderr)


# ---------------------------------------------------------------- deadlines


def test_a_dripped_metadata_answer_ends_rotate_deploy_at_its_deadline(
    run_sfcred, org: Org, standin: FakeSalesforce
) -> None:
    standin.drip = {"/services/Soap/m/60.0": 1.0}
    done, took = timed(run_sfcred, "rotate", "acme", "--deploy", "--app", APP,
                       env={"SFCRED_TIMEOUT": "2"})
    assert done.returncode == 4, done.stderr
    assert "did not answer readMetadata within 2 s" in done.stderr
    assert len(error_lines(done.stderr)) >= 1
    assert took < 15  # the mint (not dripped) and one 2 s call, plus start-up


def test_a_dripped_userinfo_ends_doctor_at_its_deadline(
    run_sfcred, org: Org, standin: FakeSalesforce
) -> None:
    standin.drip = {"/services/oauth2/userinfo": 1.0}
    done, took = timed(run_sfcred, "doctor", "acme", env={"SFCRED_TIMEOUT": "2"})
    assert done.returncode == 4, done.stdout + done.stderr
    userinfo = next(line for line in done.stdout.splitlines() if "token works" in line)
    assert "no complete answer from" in userinfo
    assert "within 2 s" in userinfo
    assert took < 4 * 2 + 8  # the online part is bounded by 4 x SFCRED_TIMEOUT


# ---------------------------------------------------------------- FIFOs


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def assert_refused_at_once(done: Any, took: float, path: Path) -> None:
    assert done.returncode == 1, done.stderr
    assert f"{path}: it is a FIFO, not a regular file" in done.stderr
    assert len(error_lines(done.stderr)) == 1
    assert took < 5


def test_a_fifo_key_file_or_cert_file_is_refused(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, rsa_keypair
) -> None:
    key = fifo(tmp_path / "key.pem")
    done, took = timed(run_sfcred, "profile", "add", "acme", "--client-id", "3MVG9x",
                       "--username", USERNAME, "--login-url", standin.url, "--key-file", str(key))
    assert_refused_at_once(done, took, key)
    real = tmp_path / "real.pem"
    real.write_text(rsa_keypair.key_pem)
    cert = fifo(tmp_path / "cert.pem")
    done, took = timed(run_sfcred, "profile", "add", "acme", "--client-id", "3MVG9x",
                       "--username", USERNAME, "--login-url", standin.url,
                       "--key-file", str(real), "--cert-file", str(cert))
    assert_refused_at_once(done, took, cert)


def test_a_fifo_private_key_file_in_ci_mode_is_refused(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path
) -> None:
    key = fifo(tmp_path / "ci-key.pem")
    done, took = timed(run_sfcred, "get", "--format", "token", env={
        "SFCRED_CLIENT_ID": "3MVG9x", "SFCRED_USERNAME": USERNAME,
        "SFCRED_LOGIN_URL": standin.url, "SFCRED_PRIVATE_KEY_FILE": str(key)})
    assert_refused_at_once(done, took, key)


@pytest.mark.parametrize("which", ["auth file", "alias.json"])
def test_a_fifo_among_the_sf_files_is_refused(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, which: str
) -> None:
    sf_dir = tmp_path / "sfdx"
    sf_dir.mkdir()
    if which == "auth file":
        path = fifo(sf_dir / f"{USERNAME}.json")
    else:
        (sf_dir / f"{USERNAME}.json").write_text("{}")
        path = fifo(sf_dir / "alias.json")
    done, took = timed(run_sfcred, "profile", "import-sf", USERNAME, "--sf-dir", str(sf_dir))
    assert_refused_at_once(done, took, path)


def test_a_fifo_profile_index_is_refused(run_sfcred) -> None:
    index = fifo(Path(os.environ["XDG_CONFIG_HOME"]) / "sfcred" / "profiles.json")
    for args in (("profile", "list"), ("get", "-p", "acme", "--format", "token")):
        done, took = timed(run_sfcred, *args)
        assert_refused_at_once(done, took, index)


# ---------------------------------------------------------------- damaged key material


def damage_keys(service: str, name: str) -> None:
    """Garbage in every key item of the profile, whole (its digest matches), as a tool that
    writes the keyring by hand could leave it."""
    import keyring

    record = json.loads(keyring.get_password(service, f"profile:{name}") or "{}")
    for kid in (k for k in record["keys"].values() if k):
        manifest = json.loads(keyring.get_password(service, f"key:{name}:{kid}") or "{}")
        blob = json.dumps({"key": "-----BEGIN PRIVATE KEY-----\nbad\n-----END PRIVATE KEY-----\n",
                           "cert": "not a certificate"})
        keyring.set_password(service, f"key:{name}:{kid}:{manifest['tag']}:0", blob)
        keyring.set_password(service, f"key:{name}:{kid}", json.dumps(
            {"n": 1, "tag": manifest["tag"], "sha256": hashlib.sha256(blob.encode()).hexdigest()}))


def test_damaged_key_material_is_a_named_error_in_every_command(
    run_sfcred, org: Org, keyring_service: str, secret_service: Any, tmp_path: Path
) -> None:
    """Before: ``profile show`` and ``rotate`` said "internal error (ValueError)", and
    ``cert`` printed the garbage with exit 0."""
    made = run_sfcred("rotate", "acme", "--cert-out", str(tmp_path / "pending.crt"))
    assert made.returncode == 0, made.stderr
    damage_keys(keyring_service, "acme")
    for args in (("profile", "show", "acme"), ("cert", "acme"), ("cert", "acme", "--pending"),
                 ("get", "-p", "acme", "--format", "token"), ("rotate", "acme", "--force"),
                 ("rotate", "acme", "--activate")):
        done = run_sfcred(*args)
        assert done.returncode == 1, (args, done.stderr)
        assert done.stdout == "", args
        assert len(error_lines(done.stderr)) == 1, (args, done.stderr)
        assert "profile 'acme' is damaged in the keyring" in done.stderr, (args, done.stderr)
        assert "sfcred profile add acme --key-file KEY --force" in done.stderr, args
    # Discarding the damaged pending key reads no key material: it is the way out, and works.
    aborted = run_sfcred("rotate", "acme", "--abort")
    assert aborted.returncode == 0, aborted.stderr


# ---------------------------------------------------------------- a large token


def test_a_900_kb_token_is_read_back_from_the_cache(
    run_sfcred, org: Org, standin: FakeSalesforce
) -> None:
    """Before: the cache read at most 64 KiB, so such a token was minted on every get."""
    standin.token_size = 900_000
    standin.reset_counts()
    first = run_sfcred("get", "-p", "acme", "--format", "token")
    second = run_sfcred("get", "-p", "acme", "--format", "token")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert len(first.stdout.strip()) == 900_000
    assert second.stdout == first.stdout
    assert standin.token_requests == 1
