"""Stateless CI mode through the INSTALLED program: a profile made from environment variables,
with a keyring that fails every call, so nothing can come from (or go to) a keyring. The key
is written nowhere: a scan of every folder the runs could touch finds none of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _e2e import parse_git
from _support import files_under

from sfcred.testing.server import FakeSalesforce

CID, USER = "3MVG9cimode", "ci@example.com"


@pytest.fixture
def app(standin: FakeSalesforce, rsa_keypair) -> FakeSalesforce:
    standin.add_app(CID, rsa_keypair.cert_pem)
    standin.add_user(USER)
    standin.preauthorize(CID, USER)
    return standin


@pytest.fixture
def ci_env(app: FakeSalesforce, rsa_keypair, fail_keyring) -> dict[str, str]:
    return {"SFCRED_CLIENT_ID": CID, "SFCRED_USERNAME": USER, "SFCRED_LOGIN_URL": app.url,
            "SFCRED_AUDIENCE": "https://login.salesforce.com",
            "SFCRED_PRIVATE_KEY": rsa_keypair.key_pem}


def key_lines(pem: str) -> list[bytes]:
    """Distinctive pieces of the key: its base64 lines (none of them is in a certificate)."""
    return [line.encode() for line in pem.splitlines()[1:-1] if len(line) >= 40]


def scan(roots: list[Path], pem: str, skip: Path | None = None) -> list[str]:
    needles = key_lines(pem)
    found = []
    for path in files_under(*roots):
        if skip is not None and path == skip:
            continue
        data = path.read_bytes()
        if any(n in data for n in needles):
            found.append(str(path))
    return found


def roots(tmp_path: Path) -> list[Path]:
    return [Path(os.environ[v]) for v in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                                          "XDG_DATA_HOME", "XDG_STATE_HOME",
                                          "XDG_RUNTIME_DIR")] + [tmp_path]


def test_get_exec_and_the_api_mint_from_the_environment_alone(
    run_sfcred, sfcred_env, app: FakeSalesforce, ci_env: dict[str, str], rsa_keypair,
    tmp_path: Path,
) -> None:
    first = run_sfcred("get", "--format", "json", env=ci_env)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert app.valid_token(data["access_token"])
    assert data["username"] == USER
    assert data["profile"].startswith("env-")
    again = run_sfcred("get", "--format", "token", env=ci_env)
    assert again.stdout.strip() == data["access_token"]  # from the runtime cache
    assert app.token_requests == 1
    # git's way, by host: the CI profile owns its login host (here also its instance).
    host = app.url.split("://", 1)[1]
    routed = run_sfcred("get", input=f"protocol=http\nhost={host}\n\n", env=ci_env)
    assert parse_git(routed.stdout)["password"] == data["access_token"]
    foreign = run_sfcred("get", input="protocol=https\nhost=github.com\n\n", env=ci_env)
    assert (foreign.returncode, foreign.stdout) == (1, "")
    ran = run_sfcred("exec", "--", "sh", "-c", 'printf %s "$SF_ACCESS_TOKEN"', env=ci_env)
    assert ran.stdout == data["access_token"]
    api = subprocess.run([sys.executable, "-c",
                          "import sfcred; t = sfcred.get_token(); print(t.access_token)"],
                         env={**sfcred_env, **ci_env}, capture_output=True, text=True,
                         timeout=60, check=False)
    assert api.returncode == 0, api.stderr
    assert api.stdout.strip() == data["access_token"]
    assert app.token_requests == 1
    assert scan(roots(tmp_path), rsa_keypair.key_pem) == []  # the key was written nowhere


def test_the_key_from_a_file_and_no_runtime_dir(
    run_sfcred, app: FakeSalesforce, ci_env: dict[str, str], rsa_keypair, tmp_path: Path
) -> None:
    key_file = tmp_path / "ci.key"
    key_file.write_text(rsa_keypair.key_pem_pkcs1)
    key_file.chmod(0o600)
    env = {**ci_env, "SFCRED_PRIVATE_KEY": None, "SFCRED_PRIVATE_KEY_FILE": str(key_file),
           "XDG_RUNTIME_DIR": None}
    tokens = []
    for _ in range(2):
        done = run_sfcred("get", "--format", "token", env=env)
        assert done.returncode == 0, done.stderr
        tokens.append(done.stdout.strip())
    assert all(app.valid_token(t) for t in tokens)
    assert app.token_requests == 2  # no plain cache without a runtime dir, and no sealed one
    cache_home = Path(os.environ["XDG_CACHE_HOME"])
    assert list(files_under(cache_home)) == []
    assert scan(roots(tmp_path), rsa_keypair.key_pem, skip=key_file) == []
    assert scan(roots(tmp_path), rsa_keypair.key_pem_pkcs1, skip=key_file) == []


def test_a_one_line_key_from_a_ci_variable_works(
    run_sfcred, app: FakeSalesforce, ci_env: dict[str, str], rsa_keypair
) -> None:
    one_line = rsa_keypair.key_pem.strip().replace("\n", "\\n")
    done = run_sfcred("get", "--format", "token", env={**ci_env, "SFCRED_PRIVATE_KEY": one_line})
    assert done.returncode == 0, done.stderr
    assert app.valid_token(done.stdout.strip())


@pytest.mark.parametrize(
    ("change", "words"),
    [({"SFCRED_USERNAME": None}, "SFCRED_USERNAME"),
     ({"SFCRED_PRIVATE_KEY": None}, "SFCRED_PRIVATE_KEY"),
     ({"SFCRED_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nnot a key\n"}, "key in the env"),
     ({"SFCRED_LOGIN_URL": "http://evil.example.com"}, "plain http")],
    ids=["no username", "no key", "a broken key", "plain http"],
)  # fmt: skip
def test_bad_ci_settings_are_exit_1_with_the_variable_named(
    run_sfcred, app: FakeSalesforce, ci_env: dict[str, str], change: dict[str, str | None],
    words: str,
) -> None:
    done = run_sfcred("get", env={**ci_env, **change})
    assert done.returncode == 1
    assert done.stdout == ""
    assert words in done.stderr
    assert "not a key" not in done.stderr
    assert app.token_requests == 0


def test_a_named_profile_still_wins_over_ci_mode(
    run_sfcred, app: FakeSalesforce, ci_env: dict[str, str]
) -> None:
    done = run_sfcred("get", "-p", "stored", env=ci_env)
    assert done.returncode == 1
    assert "no profile named 'stored'" in done.stderr  # not the CI profile's token
