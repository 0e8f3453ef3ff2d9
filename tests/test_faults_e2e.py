"""Faults end to end, through the INSTALLED program: a keyring daemon that stops answering, a
token endpoint that hangs while a STALE token is cached, stdout closed, an unwritable
--cert-out. Each ends in a bounded time with the documented answer; nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from _e2e import Org, setup_org
from _support import require

from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry


@pytest.fixture
def org(run_sfcred, secret_service, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def test_a_keyring_backend_that_never_answers_is_exit_5(run_sfcred) -> None:
    shown = run_sfcred("profile", "show", "acme", timeout=30, env={
        "PYTHON_KEYRING_BACKEND": "sfcred.testing.keyrings.StoppedKeyring",
        "SFCRED_KEYRING_TIMEOUT": "1", "SFCRED_STOPPED_SECONDS": "60",
    })
    assert shown.returncode == 5, shown.stderr
    assert "did not answer within 1 s" in shown.stderr
    assert shown.stdout == ""


@pytest.mark.secret_service
def test_a_stopped_gnome_keyring_daemon_is_exit_5_within_seconds(run_sfcred, org: Org) -> None:
    """The real thing: SIGSTOP the Secret Service daemon (then SIGCONT, whatever happens)."""
    pid = int(os.environ.get("SFCRED_TEST_KEYRING_PID") or 0)
    require(pid, "SFCRED_TEST_KEYRING_PID (the daemon's pid) is not set",
            ".ci/keyring-session.sh sets it")
    os.kill(pid, signal.SIGSTOP)
    try:
        done = run_sfcred("profile", "show", "acme", timeout=60,
                          env={"SFCRED_KEYRING_TIMEOUT": "2"})
        got = run_sfcred("get", "-p", "acme", timeout=60, env={"SFCRED_KEYRING_TIMEOUT": "2"})
    finally:
        os.kill(pid, signal.SIGCONT)
    assert done.returncode == 5, done.stderr
    assert "did not answer within 2 s" in done.stderr
    assert got.returncode == 5, got.stderr  # nothing cached yet: a mint needs the keyring
    assert got.stdout == ""
    after = run_sfcred("get", "-p", "acme", "--format", "token")  # and it recovers
    assert after.returncode == 0, after.stderr
    assert org.sf.valid_token(after.stdout.strip())


def _stale(org: Org) -> str:
    """A STALE token for acme in the runtime cache: still live at Salesforce."""
    fresh = TokenCache(Path(os.environ["XDG_RUNTIME_DIR"], "sfcred"))
    token = str(org.sf.session_tokens()[-1])
    now = time.time()
    fresh.write(Entry("acme", org.username, Secret(token), org.sf.url, now - 880, now + 20, 60))
    return token


@pytest.mark.secret_service
def test_a_hanging_endpoint_serves_the_stale_token_to_every_waiter(
    run_sfcred, sfcred_bin, sfcred_env, org: Org
) -> None:
    """0.1: with a STALE token cached and the endpoint hanging, 2 of 3 concurrent gets exited
    1 after 20 s; the third served it after 43 s."""
    assert run_sfcred("get", "-p", "acme").returncode == 0  # one real session to reuse
    token = _stale(org)
    org.sf.fail_next("timeout", count=10, delay=60)
    env = {**sfcred_env, "SFCRED_TIMEOUT": "2"}
    procs = [subprocess.Popen([*sfcred_bin, "get", "-p", "acme", "--format", "token"],
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert [o.decode().strip() for o, _ in outs] == [token] * 3
    assert all(b"serving the cached" in e for _, e in outs)


@pytest.mark.secret_service
def test_stdout_closed_is_a_clear_error(sfcred_env, org: Org) -> None:
    def get_into(redirect: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", "-c", f"sfcred get -p acme --format token {redirect}"],
                              env=sfcred_env, capture_output=True, text=True, timeout=60,
                              check=False, stdin=subprocess.DEVNULL)

    done = get_into(">&-")
    assert done.returncode == 1
    assert "stdout is closed" in done.stderr
    assert "internal error" not in done.stderr
    full = get_into(">/dev/full")
    assert full.returncode == 1
    assert "cannot write the answer" in full.stderr
    assert "Traceback" not in full.stderr


@pytest.mark.secret_service
@pytest.mark.parametrize("where", ["missing/folder/acme.crt", "."], ids=["no folder", "a folder"])
def test_an_unwritable_cert_out_leaves_no_half_made_profile(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, where: str
) -> None:
    done = run_sfcred("profile", "add", "acme", "--client-id", "c", "--username", "u@x.com",
                      "--login-url", standin.url, "--generate-key", "--cert-out",
                      str(tmp_path / where))
    assert done.returncode == 1
    assert "--cert-out" in done.stderr
    listed = run_sfcred("profile", "list", "--names")
    assert listed.stdout == ""  # nothing was stored
    shown = run_sfcred("profile", "show", "acme")
    assert shown.returncode == 1
