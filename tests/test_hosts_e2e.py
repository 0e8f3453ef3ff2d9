"""Salesforce hosts only (docs/reference/commands.md), through the INSTALLED program.

The outside review's finding: any https origin was learned as the instance host, from the
token endpoint and from an sf auth file's ``instanceUrl``; ``instance_url=https://github.com``
once, and ``git credential fill`` for github.com got the Salesforce token. Here each way a host
comes in (``--login-url``, the token endpoint, an sf auth file, CI mode's variable, an index
written before the rule) is tried with github.com, and github.com never gets an answer.
``--allow-host`` is the user's way to name a host outside Salesforce's domains.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from _e2e import Org, setup_org

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

GITHUB = "https://github.com"


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def index_of() -> dict[str, dict[str, object]]:
    path = Path(os.environ["XDG_CONFIG_HOME"], "sfcred", "profiles.json")
    profiles: dict[str, dict[str, object]] = json.loads(path.read_text())["profiles"]
    return profiles


def cached_tokens() -> list[Path]:
    return [p for p in Path(os.environ["XDG_RUNTIME_DIR"], "sfcred").glob("*.token")]


def git_fill(sfcred_env: dict[str, str], host: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``git credential fill`` with sfcred as the only, global helper (docs/reference/protocol.md
    allows it)."""
    env = dict(sfcred_env, GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(
        ["git", "-c", "credential.helper=", "-c", "credential.helper=sfcred", "credential",
         "fill"], input=f"protocol=https\nhost={host}\n\n", capture_output=True, text=True,
        env=env, cwd=cwd, timeout=60, check=False)


def assert_github_gets_nothing(run_sfcred, sfcred_env: dict[str, str], cwd: Path) -> None:
    filled = git_fill(sfcred_env, "github.com", cwd)
    assert "password=" not in filled.stdout
    assert "00D" not in filled.stdout + filled.stderr  # no token (the stand-in's start 00D)
    helper = subprocess.run(["git-credential-sfcred", "get"], input="protocol=https\n"
                            "host=github.com\n\n", capture_output=True, text=True,
                            env=sfcred_env, cwd=cwd, timeout=60, check=False)
    assert (helper.returncode, helper.stdout, helper.stderr) == (0, "", "")
    typed = run_sfcred("get", input="protocol=https\nhost=github.com\n\n")
    assert (typed.returncode, typed.stdout) == (1, "")


def test_an_instance_url_at_github_is_refused_at_mint_cached_nowhere_and_named(
    run_sfcred, org: Org, sfcred_env: dict[str, str], tmp_path: Path
) -> None:
    org.sf.fail_next("instance_url", value=GITHUB)
    done = run_sfcred("get", "-p", "acme", "--format", "json")
    assert (done.returncode, done.stdout) == (4, "")
    assert "instance_url https://github.com, which is not a Salesforce host" in done.stderr
    assert "--allow-host github.com" in done.stderr
    assert "Traceback" not in done.stderr
    assert cached_tokens() == []
    assert index_of()["acme"]["instance_host"] is None
    assert_github_gets_nothing(run_sfcred, sfcred_env, tmp_path)
    # The next mint (an honest answer) works, and is the one learned.
    again = run_sfcred("get", "-p", "acme", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["instance_url"] == org.sf.url


def test_an_index_written_before_the_rule_routes_nothing_to_github(
    run_sfcred, org: Org, sfcred_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_sfcred("get", "-p", "acme").returncode == 0
    path = Path(os.environ["XDG_CONFIG_HOME"], "sfcred", "profiles.json")
    data = json.loads(path.read_text())
    data["profiles"]["acme"].update(instance_host="github.com", instance_scheme="https")
    path.write_text(json.dumps(data))
    assert_github_gets_nothing(run_sfcred, sfcred_env, tmp_path)


def test_a_login_url_outside_salesforce_needs_allow_host(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path
) -> None:
    base = ["profile", "add", "gh", "--client-id", "3MVG9x", "--username", "u@example.com",
            "--login-url", GITHUB, "--generate-key"]
    refused = run_sfcred(*base)
    assert refused.returncode == 1
    assert "github.com is not a Salesforce host" in refused.stderr
    assert "--allow-host github.com" in refused.stderr
    assert run_sfcred("profile", "list", "--names").stdout == ""
    allowed = run_sfcred(*base, "--allow-host", "GitHub.com")
    assert allowed.returncode == 0, allowed.stderr
    shown = json.loads(run_sfcred("profile", "show", "gh", "--json").stdout)
    assert shown["allow_hosts"] == ["github.com"]
    text = run_sfcred("profile", "show", "gh").stdout
    assert "allow_hosts:" in text
    assert "github.com" in text.split("allow_hosts:")[1].splitlines()[0]
    # --force without --allow-host keeps what the user allowed.
    kept = run_sfcred("profile", "add", "gh", "--client-id", "3MVG9y", "--username",
                      "u@example.com", "--login-url", GITHUB, "--force")
    assert kept.returncode == 0, kept.stderr
    shown = json.loads(run_sfcred("profile", "show", "gh", "--json").stdout)
    assert (shown["client_id"], shown["allow_hosts"]) == ("3MVG9y", ["github.com"])


def test_an_allowed_instance_host_is_learned_and_served(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path
) -> None:
    org = setup_org(run_sfcred, standin, tmp_path, "acme",
                    extra=["--allow-host", "acme.example.org"])
    org.sf.fail_next("instance_url", value="https://acme.example.org")
    done = run_sfcred("get", "-p", "acme", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["instance_url"] == "https://acme.example.org"
    assert index_of()["acme"]["instance_host"] == "acme.example.org"
    routed = run_sfcred("get", input="protocol=https\nhost=acme.example.org\n\n")
    assert routed.returncode == 0, routed.stderr
    assert "password=" in routed.stdout


def test_import_sf_refuses_an_instance_or_login_url_outside_salesforce(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, rsa_keypair
) -> None:
    folder = tmp_path / "sfdx"
    folder.mkdir()
    key = tmp_path / "server.key"
    key.write_text(rsa_keypair.key_pem_pkcs1)
    orgs = {"inst@acme.com": (standin.url, GITHUB), "login@acme.com": (GITHUB, standin.url)}
    for user, (login, instance) in orgs.items():
        (folder / f"{user}.json").write_text(json.dumps({
            "username": user, "clientId": "3MVG9sf", "loginUrl": login, "instanceUrl": instance,
            "privateKey": str(key)}))
    for user in orgs:
        done = run_sfcred("profile", "import-sf", user, "--sf-dir", str(folder))
        assert done.returncode == 1, done.stderr
        assert "github.com is not a Salesforce host" in done.stderr
        assert user in done.stderr
    every = run_sfcred("profile", "import-sf", "--all", "--sf-dir", str(folder))
    assert every.returncode == 1
    assert every.stderr.count("github.com is not a Salesforce host") == 2
    assert run_sfcred("profile", "list", "--names").stdout == ""
    allowed = run_sfcred("profile", "import-sf", "inst@acme.com", "--sf-dir", str(folder),
                         "--allow-host", "github.com")
    assert allowed.returncode == 0, allowed.stderr
    assert index_of()["inst-acme.com"]["instance_host"] == "github.com"


def test_ci_mode_refuses_a_login_url_outside_salesforce(run_sfcred, rsa_keypair) -> None:
    env = {"SFCRED_CLIENT_ID": "3MVG9ci", "SFCRED_USERNAME": "ci@example.com",
           "SFCRED_LOGIN_URL": GITHUB, "SFCRED_PRIVATE_KEY": rsa_keypair.key_pem_pkcs1}
    done = run_sfcred("get", "--format", "token", env=env)
    assert (done.returncode, done.stdout) == (1, "")
    assert "SFCRED_LOGIN_URL https://github.com: github.com is not a Salesforce host" in \
        done.stderr
    assert "SFCRED_ALLOW_HOST=github.com" in done.stderr


def test_a_record_from_before_the_rule_is_refused_at_mint_and_named_by_doctor(
    run_sfcred, org: Org, keyring_service: str
) -> None:
    from keyring.backends.SecretService import Keyring

    backend = Keyring()
    record = json.loads(backend.get_password(keyring_service, "profile:acme"))
    record["login_url"] = GITHUB
    backend.set_password(keyring_service, "profile:acme", json.dumps(record))
    done = run_sfcred("get", "-p", "acme")
    assert (done.returncode, done.stdout) == (1, "")
    assert "github.com is not a Salesforce host" in done.stderr
    assert "--allow-host github.com" in done.stderr
    assert org.sf.token_requests == 0
    doctor = run_sfcred("doctor", "acme", "--offline")
    assert doctor.returncode == 1
    assert "github.com is not a Salesforce host" in doctor.stdout
