"""``sfcred rotate NAME --deploy`` end to end, through the INSTALLED program, against the
stand-in's Metadata API (SOAP), with a propagation delay during which Salesforce's servers
take turns knowing the old and the new certificate.

What issue 14 must show: 8 get loops through a deploy rotation, none failing; the app's
certificate then the new key's (bare base64 DER), no consumer key sent, no other field
dropped; the same for an External Client App; a user without the permissions gets exit 3
naming them, the app unchanged; SIGKILL at each step and the same command again ends with
the new key active; ``--if-older-than`` skips a young key.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from _e2e import DEPLOY_APP, USERNAME, Org, setup_deploy_org, setup_org
from _support import make_keypair

from sfcred import keys
from sfcred.testing.server import FakeSalesforce

pytestmark = [pytest.mark.slow, pytest.mark.secret_service]
APP = DEPLOY_APP


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_deploy_org(run_sfcred, standin, tmp_path)


def shown_keys(run_sfcred) -> dict[str, str]:
    shown = run_sfcred("profile", "show", "acme", "--json")
    assert shown.returncode == 0, shown.stderr
    import json

    return {k["slot"]: k["fingerprint"] for k in json.loads(shown.stdout)["keys"]}


def active_cert_b64(run_sfcred) -> str:
    cert = run_sfcred("cert", "acme")
    assert cert.returncode == 0, cert.stderr
    return keys.cert_der_b64(cert.stdout)


class GetLoops:
    """``n`` threads looping ``sfcred get`` until stopped; every result kept."""

    def __init__(self, sfcred_bin: list[str], sfcred_env: dict[str, str], n: int = 8) -> None:
        self.stop = threading.Event()
        self.results: list[tuple[int, str]] = []
        self.threads = [threading.Thread(target=self._loop, args=(sfcred_bin, sfcred_env))
                        for _ in range(n)]

    def _loop(self, sfcred_bin: list[str], env: dict[str, str]) -> None:
        while not self.stop.is_set():
            done = subprocess.run([*sfcred_bin, "get", "-p", "acme", "--format", "token"],
                                  env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=120, check=False)
            self.results.append((done.returncode, done.stderr))

    def __enter__(self) -> GetLoops:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(120)


def test_a_deploy_rotation_under_8_get_loops_with_propagation(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, org: Org
) -> None:
    before = standin.app_record(org.client_id)
    old_keys = shown_keys(run_sfcred)
    standin.propagation_delay = 6.0
    with GetLoops(sfcred_bin, sfcred_env) as loops:
        time.sleep(1.0)
        deployed = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--wait", "120",
                              timeout=180)
        time.sleep(1.0)  # gets after the cut-over too
    assert deployed.returncode == 0, deployed.stderr
    for step in ("step 1/4", "step 2/4", "step 3/4", "step 4/4"):
        assert step in deployed.stderr
    failed = [r for r in loops.results if r[0] != 0]
    assert len(loops.results) > 16
    assert failed == []

    after = standin.app_record(org.client_id)
    assert after["certificate"] == active_cert_b64(run_sfcred)  # the new key's, bare DER
    assert after["certificate"] != before["certificate"]
    assert "BEGIN" not in str(after["certificate"])
    assert after["fields"] == before["fields"]  # every other field written back as read
    assert [c[0] for c in standin.metadata_calls] == ["readMetadata", "updateMetadata"]
    now = shown_keys(run_sfcred)
    assert now["active"] != old_keys["active"]
    assert now["previous"] == old_keys["active"]
    assert "pending" not in now
    # The app is remembered: the next rotation needs no --app.
    standin.propagation_delay = 0.0
    again = run_sfcred("rotate", "acme", "--deploy", "--wait", "60", timeout=120)
    assert again.returncode == 0, again.stderr
    assert standin.app_record(org.client_id)["certificate"] == active_cert_b64(run_sfcred)
    got = run_sfcred("get", "-p", "acme", "--format", "token")
    assert got.returncode == 0, got.stderr


def test_an_external_client_app_under_8_get_loops(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path
) -> None:
    eca = setup_org(run_sfcred, standin, tmp_path, "acme",
                    app={"full_name": "Acme_Eca", "kind": "external"})
    standin.grant_metadata(USERNAME)
    before = standin.app_record(eca.client_id)
    assert before["full_name"] == "Acme_Eca_glbloauth"
    standin.propagation_delay = 4.0
    with GetLoops(sfcred_bin, sfcred_env) as loops:
        done = run_sfcred("rotate", "acme", "--deploy", "--app", "Acme_Eca", "--eca",
                          "--wait", "60", timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(loops.results) > 8
    assert [r for r in loops.results if r[0] != 0] == []
    after = standin.app_record(eca.client_id)
    assert after["certificate"] == active_cert_b64(run_sfcred)
    assert after["fields"] == before["fields"]
    assert standin.metadata_calls[0][1:] == ("ExtlClntAppGlobalOauthSettings",
                                             "Acme_Eca_glbloauth")
    assert run_sfcred("get", "-p", "acme").returncode == 0


@pytest.mark.parametrize(("eca", "granted", "named"), [
    (False, (), ["Modify Metadata Through Metadata API Functions", "Customize Application"]),
    (True, ("modify_metadata", "customize_application"),
     ["View External Client Apps Consumer Secrets in Metadata",
      "Allow Access to OAuth Consumer Secrets via Metadata API"]),
])
def test_a_user_without_the_permissions_gets_exit_3_and_the_app_is_unchanged(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, eca: bool,
    granted: tuple[str, ...], named: list[str],
) -> None:
    app = {"full_name": "Acme_Eca", "kind": "external"} if eca else {"full_name": APP}
    made = setup_org(run_sfcred, standin, tmp_path, "acme", app=app)
    standin.grant_metadata(USERNAME, *(granted or ("none",)))
    before = standin.app_record(made.client_id)
    args = ["--app", "Acme_Eca", "--eca"] if eca else ["--app", APP]
    refused = run_sfcred("rotate", "acme", "--deploy", *args, "--wait", "30")
    assert refused.returncode == 3, refused.stderr
    assert "INSUFFICIENT_ACCESS" in refused.stderr
    for words in named:
        assert words in refused.stderr
    assert "--deploy-profile" in refused.stderr
    assert standin.app_record(made.client_id) == before  # nothing changed at Salesforce
    assert "pending" in shown_keys(run_sfcred)  # kept, for a manual upload or a rerun
    assert run_sfcred("get", "-p", "acme").returncode == 0


def test_a_deployer_profile_lends_its_session(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path
) -> None:
    made = setup_org(run_sfcred, standin, tmp_path, "acme", app={"full_name": APP})
    setup_org(run_sfcred, standin, tmp_path, "deployer", username="deployer@example.com")
    standin.grant_metadata(USERNAME, "none")  # the integration user holds nothing
    standin.grant_metadata("deployer@example.com")
    done = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--deploy-profile",
                      "deployer", "--wait", "60", timeout=120)
    assert done.returncode == 0, done.stderr
    assert standin.app_record(made.client_id)["certificate"] == active_cert_b64(run_sfcred)


def test_an_unknown_app_is_named(run_sfcred, standin: FakeSalesforce, org: Org) -> None:
    done = run_sfcred("rotate", "acme", "--deploy", "--app", "No_Such_App", "--wait", "30")
    assert done.returncode == 3, done.stderr
    assert "No_Such_App" in done.stderr
    assert [c[0] for c in standin.metadata_calls] == ["readMetadata"]


def test_wait_running_out_keeps_the_pending_key_and_a_rerun_finishes(
    run_sfcred, standin: FakeSalesforce, org: Org
) -> None:
    standin.propagation_delay = 8.0
    short = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--wait", "1", timeout=60)
    assert short.returncode == 3, short.stderr
    assert "rerun to keep waiting" in short.stderr
    assert "pending" in shown_keys(run_sfcred)
    assert run_sfcred("get", "-p", "acme").returncode == 0  # gets keep working meanwhile
    rerun = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--wait", "60", timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "already has the new certificate" in rerun.stderr
    assert [c[0] for c in standin.metadata_calls].count("updateMetadata") == 1
    assert standin.app_record(org.client_id)["certificate"] == active_cert_b64(run_sfcred)


@pytest.mark.parametrize("step", ["read", "update", "poll"])
def test_sigkill_at_each_step_then_the_same_command_finishes(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, org: Org, step: str
) -> None:
    old = shown_keys(run_sfcred)["active"]
    if step == "read":
        standin.metadata_hold = {"readMetadata": 30.0}
    elif step == "update":
        standin.metadata_hold = {"updateMetadata": 30.0}
    else:
        standin.propagation_delay = 30.0
    argv = [*sfcred_bin, "rotate", "acme", "--deploy", "--app", APP, "--wait", "120"]
    proc = subprocess.Popen(argv, env=sfcred_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    soap_calls = 1 if step == "read" else 2
    while True:
        calls = [r for r in standin.requests if r[2].startswith("/services/Soap/m/")]
        if len(calls) >= soap_calls and (step != "poll" or standin.metadata_calls):
            break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the deploy never reached that step"
        time.sleep(0.05)
    time.sleep(0.3 if step != "poll" else 2.5)  # mid-call, or polling the new key
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert run_sfcred("get", "-p", "acme").returncode == 0  # the profile still mints
    standin.metadata_hold = {}
    standin.propagation_delay = 0.0
    pending = shown_keys(run_sfcred).get("pending")
    assert pending is not None
    rerun = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--wait", "60", timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming the deploy" in rerun.stderr
    now = shown_keys(run_sfcred)
    assert now["active"] == pending  # the key the killed run made, not yet another one
    assert now["previous"] == old
    assert standin.app_record(org.client_id)["certificate"] == active_cert_b64(run_sfcred)


def old_key_files(tmp_path: Path, days: int) -> tuple[Path, Path]:
    pair = make_keypair(common_name="old key", age_days=days, days=730)
    key_file, cert_file = tmp_path / "old.key", tmp_path / "old.crt"
    key_file.write_text(pair.key_pem)
    key_file.chmod(0o600)
    cert_file.write_text(pair.cert_pem)
    return key_file, cert_file


def test_if_older_than_skips_a_young_key_and_rotates_an_old_one(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path
) -> None:
    young = setup_org(run_sfcred, standin, tmp_path, "acme", app={"full_name": APP})
    standin.grant_metadata(USERNAME)
    skipped = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--if-older-than", "90d")
    assert skipped.returncode == 0, skipped.stderr
    assert "nothing to do" in skipped.stderr
    assert standin.metadata_calls == []
    assert "pending" not in shown_keys(run_sfcred)
    bad = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--if-older-than", "90")
    assert bad.returncode == 2

    key_file, cert_file = old_key_files(tmp_path, 120)
    readd = run_sfcred("profile", "add", "acme", "--client-id", young.client_id, "--username",
                       USERNAME, "--login-url", standin.url, "--key-file", str(key_file),
                       "--cert-file", str(cert_file), "--force")
    assert readd.returncode == 0, readd.stderr
    standin.upload_certificate(young.client_id, cert_file.read_text())
    rotated = run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--if-older-than", "90d",
                         "--wait", "60", timeout=120)
    assert rotated.returncode == 0, rotated.stderr
    assert standin.app_record(young.client_id)["certificate"] == active_cert_b64(run_sfcred)


def test_doctor_tells_which_key_the_app_trusts(
    run_sfcred, standin: FakeSalesforce, org: Org, rsa_keypair
) -> None:
    """The app check reads the app with the token the token check minted."""
    import json

    def app_check() -> dict[str, str]:
        done = run_sfcred("doctor", "acme", "--json")
        return next(c for c in json.loads(done.stdout) if c["name"] == "app")

    assert app_check()["status"] == "skip"  # no app recorded yet
    assert run_sfcred("rotate", "acme", "--deploy", "--app", APP, "--wait", "60",
                      timeout=120).returncode == 0
    ok = app_check()
    assert ok["status"] == "ok", ok
    assert "holds the active key's certificate; it expires 20" in ok["detail"]
    standin.grant_metadata(USERNAME, "none")
    assert app_check()["status"] == "skip"
    standin.grant_metadata(USERNAME)
    standin.upload_certificate(org.client_id, rsa_keypair(name="stranger").cert_pem)
    assert app_check()["detail"] == "needs a token"  # no key of ours mints: nothing to read
