"""Client credentials in fleet mode, through the installed program: the consumer secret lives
in the fleet's store (OpenBao), and 4 machines x 8 processes on an empty cache make one token
request; the secret is in no file of any machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _cc import RUN_AS, add_cc_profile, cc_app
from test_fleet_e2e import MACHINES, PROCESSES, gets_at_once, machine_files, machines, revokes

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.slow


def test_32_processes_on_4_machines_make_one_client_credentials_request(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path,
    fleet: dict[str, str], rsa_keypair,
) -> None:
    envs = machines(tmp_path, fleet)
    client_id, secret = cc_app(standin, rsa_keypair.cert_pem)

    def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, env=envs[0], **kw)
        return done

    add_cc_profile(run, standin, client_id, secret, "acme")
    standin.reset_counts()

    tokens = gets_at_once(sfcred_bin, sfcred_env, envs)
    assert standin.token_requests == 1
    assert len(tokens) == MACHINES * PROCESSES
    assert len(set(tokens)) == 1
    assert standin.valid_token(tokens[0])
    assert revokes(standin) == []

    # JWT-based access tokens living longer than the default TTL: the fleet's record holds
    # one, and fresh machines take it (its exp is trusted as far as jwtexp allows): one mint.
    standin.jwt_access_tokens(client_id, 5000)
    assert run("erase", "-p", "acme").returncode == 0
    fresh = machines(tmp_path, fleet, 2, first=MACHINES)
    jwts = gets_at_once(sfcred_bin, sfcred_env, fresh, per_machine=4)
    assert standin.token_requests == 2
    assert len(set(jwts)) == 1
    assert jwts[0].count(".") == 2

    # Another machine sees the profile, with the Run As user the first mint learned.
    shown = run_sfcred("profile", "show", "acme", "--json", env=envs[3])
    assert shown.returncode == 0, shown.stderr
    assert '"run_as": "' + RUN_AS + '"' in shown.stdout
    # The secret is in the store (under the prefix), in no file of any machine.
    for path in machine_files(envs, runtime=True):
        assert secret.encode() not in path.read_bytes(), path
