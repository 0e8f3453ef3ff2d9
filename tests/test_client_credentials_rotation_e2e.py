"""Consumer secret rotation without an outage, through the installed program: a pending secret
from stdin; `get` tries it once Salesforce refuses the active one and promotes it; --activate,
--abort, --rollback as for keys; 8 loops of gets across the change at Salesforce, 0 failures."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _cc import CcOrg, new_secret, setup_cc
from _e2e import get_loops_across

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

PROMOTED = "accepted the pending secret"
Run = Callable[..., Any]


@pytest.fixture
def cc(run_sfcred: Run, standin: FakeSalesforce, rsa_keypair: Any) -> CcOrg:
    return setup_cc(run_sfcred, standin, rsa_keypair.cert_pem)


def slots(run: Run) -> dict[str, str]:
    done = run("profile", "show", "cc", "--json")
    assert done.returncode == 0, done.stderr
    keys = json.loads(done.stdout)["keys"]
    assert all(k["kind"] == "client-secret" for k in keys)
    return {k["slot"]: k["key_id"] for k in keys}


def mint(run: Run, sf: FakeSalesforce) -> subprocess.CompletedProcess[str]:
    assert run("erase", "-p", "cc").returncode == 0
    done: subprocess.CompletedProcess[str] = run("get", "-p", "cc", "--format", "token")
    assert done.returncode == 0, done.stderr
    assert sf.valid_token(done.stdout.strip())
    return done


def stage(run: Run, secret: str, *extra: str) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = run("rotate", "cc", "--secret-stdin", *extra,
                                                 input=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return done


def test_activate_abort_and_rollback(run_sfcred: Run, cc: CcOrg) -> None:
    old = slots(run_sfcred)["active"]
    new_value = new_secret()
    stage(run_sfcred, new_value)
    new = slots(run_sfcred)["pending"]
    again = run_sfcred("rotate", "cc", "--secret-stdin", input=new_secret() + "\n")
    assert again.returncode == 1
    assert "already has a pending secret" in again.stderr
    # Not yet the app's secret at Salesforce: --activate refuses and keeps both.
    early = run_sfcred("rotate", "cc", "--activate")
    assert early.returncode == 3
    assert "pending secret" in early.stderr
    assert slots(run_sfcred) == {"active": old, "pending": new}
    assert run_sfcred("rotate", "cc", "--abort").returncode == 0
    assert slots(run_sfcred) == {"active": old}
    mint(run_sfcred, cc.sf)  # the active secret still works
    stage(run_sfcred, new_value)
    cc.sf.set_client_secret(cc.client_id, new_value)
    done = run_sfcred("rotate", "cc", "--activate")
    assert done.returncode == 0, done.stderr
    assert slots(run_sfcred) == {"active": new, "previous": old}
    mint(run_sfcred, cc.sf)
    assert run_sfcred("rotate", "cc", "--rollback").returncode == 0
    assert slots(run_sfcred) == {"active": old, "previous": new}
    # The old secret is refused at Salesforce now: get falls back to the previous one.
    done = mint(run_sfcred, cc.sf)
    assert "accepted the previous one" in done.stderr
    for out in (done.stdout, done.stderr):
        assert cc.secret not in out
        assert new_value not in out


def test_a_key_rotation_is_refused_for_a_secret(run_sfcred: Run, cc: CcOrg) -> None:
    done = run_sfcred("rotate", "cc")
    assert done.returncode == 1
    assert "--secret-stdin" in done.stderr
    assert run_sfcred("cert", "cc").returncode == 1


def test_secret_rotation_under_8_get_loops_has_no_failed_get(
    run_sfcred: Run, cc: CcOrg, tmp_path: Path, sfcred_bin: list[str],
    sfcred_env: dict[str, str],
) -> None:
    """8 loops of "erase; get" while the admin changes the app's secret at Salesforce: 4
    share the user's cache (single flight: one promotion among them), 4 have their own so
    every get mints across the change. Zero failed gets; the new secret active after."""
    old = slots(run_sfcred)["active"]
    new_value = new_secret()
    stage(run_sfcred, new_value)
    new = slots(run_sfcred)["pending"]

    def change_secret() -> None:
        cc.sf.set_client_secret(cc.client_id, new_value)  # the old one is refused from now

    loops, _ = get_loops_across(change_secret, loops=8, profile="cc", sfcred_bin=sfcred_bin,
                                env=sfcred_env, tmp_path=tmp_path, wait=90)
    gets = [g for lp in loops for g in lp.gets]
    failed = [(rc, err) for (_, _, rc, _, err) in gets if rc != 0]
    assert failed == [], f"{len(failed)} of {len(gets)} gets failed: {failed[:3]}"
    for _, _, _, out, err in gets:
        assert cc.sf.valid_token(out.strip())
        assert cc.secret not in out + err
        assert new_value not in out + err
    assert any(PROMOTED in err for (*_, err) in gets)
    shared = [err for lp in loops if not lp.private for (*_, err) in lp.gets]
    assert sum(PROMOTED in err for err in shared) <= 1
    assert slots(run_sfcred) == {"active": new, "previous": old}
    print(f"{len(gets)} gets, 0 failed, {cc.sf.token_requests} token requests")
