"""``sfcred exec`` hands the command the token, never what sfcred mints it with: through the
INSTALLED program, a child of ``exec`` in CI mode and in fleet mode holds none of
``SFCRED_PRIVATE_KEY``, ``SFCRED_CLIENT_SECRET``, ``VAULT_TOKEN``, ``BAO_TOKEN`` (and does
hold ``SF_ACCESS_TOKEN``), unless ``--keep-secrets`` asks for them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _e2e import fleet_machine, setup_org

from sfcred.testing.server import FakeSalesforce

CID, USER = "3MVG9execsecrets", "exec@example.com"
# The child prints the names of its variables, never a value: no secret reaches the test log.
CHILD = [sys.executable, "-c", "import json, os; print(json.dumps(sorted(os.environ)))"]
TOKEN_VARS = {"SF_ACCESS_TOKEN", "SF_INSTANCE_URL", "SFDX_ACCESS_TOKEN", "SF_TARGET_ORG"}
OWN = {"SFCRED_PRIVATE_KEY", "SFCRED_CLIENT_SECRET"}
STORE = {"VAULT_TOKEN", "BAO_TOKEN"}


def child_names(done: subprocess.CompletedProcess[str]) -> set[str]:
    assert done.returncode == 0, done.stderr
    names: list[str] = json.loads(done.stdout)
    return set(names)


@pytest.fixture
def ci_env(standin: FakeSalesforce, rsa_keypair: Any, fail_keyring: Any) -> dict[str, str]:
    standin.add_app(CID, rsa_keypair.cert_pem)
    standin.add_user(USER)
    standin.preauthorize(CID, USER)
    return {"SFCRED_CLIENT_ID": CID, "SFCRED_USERNAME": USER, "SFCRED_LOGIN_URL": standin.url,
            "SFCRED_AUDIENCE": "https://login.salesforce.com",
            "SFCRED_PRIVATE_KEY": rsa_keypair.key_pem,
            "SFCRED_CLIENT_SECRET": "a-client-secret-for-the-test"}


def test_a_child_of_exec_in_ci_mode_gets_the_token_and_not_the_key(
    run_sfcred: Any, ci_env: dict[str, str]
) -> None:
    names = child_names(run_sfcred("exec", "--", *CHILD, env=ci_env))
    assert names >= TOKEN_VARS
    assert not names & OWN
    assert {"SFCRED_CLIENT_ID", "SFCRED_USERNAME"} <= names  # not secrets: left alone
    # the key itself reaches nothing the child can read: not even under another name
    shown = run_sfcred("exec", "--", sys.executable, "-c",
                       "import os, sys; k = sys.argv[1]; "
                       "print(any(k in v for v in os.environ.values()))",
                       ci_env["SFCRED_PRIVATE_KEY"].splitlines()[1], env=ci_env)
    assert shown.stdout.strip() == "False", shown.stderr
    kept = child_names(run_sfcred("exec", "--keep-secrets", "--", *CHILD, env=ci_env))
    assert kept >= OWN | TOKEN_VARS
    # outside fleet mode a VAULT_TOKEN is not sfcred's: the job's own, left to it
    own = child_names(run_sfcred("exec", "--", *CHILD, env={**ci_env, "VAULT_TOKEN": "job"}))
    assert "VAULT_TOKEN" in own


@pytest.mark.slow
def test_a_child_of_exec_in_fleet_mode_gets_the_token_and_not_the_store_token(
    run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str]
) -> None:
    env = {**fleet_machine(tmp_path, "m0", fleet), "BAO_TOKEN": fleet["VAULT_TOKEN"],
           "SFCRED_CLIENT_SECRET": "a-client-secret-for-the-test"}

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, env=env, **kw)
        return done

    setup_org(run, standin, tmp_path, "acme", username=USER)
    names = child_names(run("exec", "-p", "acme", "--", *CHILD))
    assert names >= TOKEN_VARS
    assert not names & (STORE | OWN)
    assert {"SFCRED_STORE", "VAULT_ADDR"} <= names  # where the store is: not a secret
    kept = child_names(run("exec", "-p", "acme", "--keep-secrets", "--", *CHILD))
    assert STORE | TOKEN_VARS | {"SFCRED_CLIENT_SECRET"} <= kept
