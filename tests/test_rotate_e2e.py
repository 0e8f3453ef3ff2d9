"""`sfcred rotate` end to end: the installed sfcred, the real Secret Service, the stand-in.

Run inside the throwaway keyring (``bash .ci/test.sh tests/test_rotate_e2e.py``). Every test
here uses the ``secret_service`` fixture, so a plain ``pytest`` skips them.

The fault tests run the rotation steps with ``PYTHON_KEYRING_BACKEND`` set to
``FaultyKeyring`` in front of the Secret Service: first once in ``count`` mode (how many
keyring writes the step does, and in which order), then once per write N with the process
SIGKILLed just before write N. After each kill, with no repair, ``sfcred get`` must mint
against the stand-in holding the certificate the admin has uploaded at that point:

    step                        stand-in holds          a get after the kill mints with
    rotate (start)              old cert                the old key (still active)
    rotate --force              old cert                the old key (still active)
    get (the promotion)         new (pending) cert      the new key: pending → promoted by
    rotate --activate           new (pending) cert        this get, or already active
    rotate --abort              old cert                the old key (still active)
    rotate --rollback           old cert, re-uploaded   the old key: previous (fallback) or
                                                          active again
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _e2e import Org, get_loops_across, setup_org

from sfcred.errors import SalesforceRefused
from sfcred.profiles.record import KeySlots, Profile
from sfcred.salesforce.oauth import TokenClient
from sfcred.store.keystore import KeyStore
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache, runtime_dir

pytestmark = pytest.mark.secret_service

FAULTY = "sfcred.testing.keyrings.FaultyKeyring"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
PROMOTED = "accepted the pending key"
Run = Callable[..., Any]


def show(run: Run, name: str = "acme") -> dict[str, str]:
    """slot -> fingerprint, from `sfcred profile show --json`."""
    done = run("profile", "show", name, "--json")
    assert done.returncode == 0, done.stderr
    keys = json.loads(done.stdout)["keys"]
    for k in keys:
        assert k["certificate_expires"].endswith("Z")
        assert k["fingerprint"].startswith("SHA256:")
    return {k["slot"]: k["fingerprint"] for k in keys}


def get_token(run: Run, name: str = "acme", env: dict[str, str] | None = None) -> Any:
    """`sfcred erase` then `sfcred get`: a get that really mints."""
    assert run("erase", "-p", name).returncode == 0
    return run("get", "-p", name, "--format", "token", env=env)


def assert_mints(run: Run, sf: FakeSalesforce, name: str = "acme") -> str:
    done = get_token(run, name)
    assert done.returncode == 0, done.stderr
    assert sf.valid_token(done.stdout.strip()), "the printed token is not one the org issued"
    return str(done.stderr)


def record(name: str = "acme") -> Profile:
    return KeyStore().require_profile(name)


def cert_of(kid: str, name: str = "acme") -> str:
    return KeyStore().get_key(name, kid).cert_pem


def rotate_to_file(run: Run, tmp_path: Path, *extra: str) -> str:
    out = tmp_path / f"pending-{time.monotonic_ns()}.crt"
    done = run("rotate", "acme", "--cert-out", str(out), *extra)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return out.read_text(encoding="ascii")


@pytest.fixture
def org(secret_service: Any, run_sfcred: Run, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path)


# ---------------------------------------------------------------- the sequence


def test_rotate_prints_the_certificate_and_refuses_a_second_start(
    org: Org, run_sfcred: Run, tmp_path: Path
) -> None:
    old = show(run_sfcred)
    done = run_sfcred("rotate", "acme")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in done.stdout + done.stderr
    for step in ("Setup", "App Manager", "Edit", "Use digital signatures", "External Client"):
        assert step in done.stderr
    again = run_sfcred("cert", "acme", "--pending")
    assert again.returncode == 0
    assert again.stdout == done.stdout
    assert run_sfcred("cert", "acme").stdout == org.cert_pem, "`cert` is still the active one"
    slots = show(run_sfcred)
    assert slots["active"] == old["active"]
    assert set(slots) == {"active", "pending"}

    refused = run_sfcred("rotate", "acme")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "already has a pending key" in refused.stderr
    assert "--force" in refused.stderr
    assert show(run_sfcred) == slots

    forced = rotate_to_file(run_sfcred, tmp_path, "--force", "--key-size", "3072")
    assert forced != done.stdout
    assert run_sfcred("cert", "acme", "--pending").stdout == forced
    replaced = show(run_sfcred)
    assert replaced["active"] == old["active"]
    assert replaced["pending"] != slots["pending"]
    data = json.loads(run_sfcred("profile", "show", "acme", "--json").stdout)
    assert {k["slot"]: k["bits"] for k in data["keys"]} == {"active": 2048, "pending": 3072}


def test_activate_refuses_before_the_upload_and_promotes_after(
    org: Org, run_sfcred: Run, standin: FakeSalesforce, tmp_path: Path
) -> None:
    old = show(run_sfcred)["active"]
    pending_cert = rotate_to_file(run_sfcred, tmp_path)
    new = show(run_sfcred)["pending"]

    early = run_sfcred("rotate", "acme", "--activate")
    assert early.returncode == 3, early.stderr
    assert "upload the pending certificate first" in early.stderr
    assert "sfcred cert acme --pending" in early.stderr
    assert show(run_sfcred) == {"active": old, "pending": new}
    assert PROMOTED not in assert_mints(run_sfcred, standin), "the old key still works"

    standin.upload_certificate(org.client_id, pending_cert)
    done = run_sfcred("rotate", "acme", "--activate")
    assert done.returncode == 0, done.stderr
    assert "now active" in done.stderr
    assert show(run_sfcred) == {"active": new, "previous": old}
    text = run_sfcred("profile", "show", "acme").stdout
    assert f"active key:      {new}" in text
    assert f"previous key:    {old}" in text
    assert text.count("certificate expires") == 2
    assert PROMOTED not in assert_mints(run_sfcred, standin)
    again = run_sfcred("rotate", "acme", "--activate")
    assert again.returncode == 1
    assert "no pending key" in again.stderr


def test_abort_discards_the_pending_key(
    org: Org, run_sfcred: Run, standin: FakeSalesforce, tmp_path: Path
) -> None:
    old = show(run_sfcred)["active"]
    items_before = set(snapshot_items(KeyStore().service))
    rotate_to_file(run_sfcred, tmp_path)
    pending_kid = record().keys.pending
    assert pending_kid is not None
    assert any(u.startswith(f"key:acme:{pending_kid}") for u in snapshot_items(KeyStore().service))
    done = run_sfcred("rotate", "acme", "--abort")
    assert done.returncode == 0, done.stderr
    assert "discarded" in done.stderr
    assert show(run_sfcred) == {"active": old}
    assert set(snapshot_items(KeyStore().service)) == items_before, "pending key items left"
    nothing = run_sfcred("cert", "acme", "--pending")
    assert nothing.returncode == 1
    assert "no pending key" in nothing.stderr
    assert_mints(run_sfcred, standin)
    again = run_sfcred("rotate", "acme", "--abort")
    assert again.returncode == 1
    assert "no pending key" in again.stderr


def test_rollback_after_the_admin_reuploads_the_old_certificate(
    org: Org, run_sfcred: Run, standin: FakeSalesforce, tmp_path: Path
) -> None:
    old = show(run_sfcred)["active"]
    standin.upload_certificate(org.client_id, rotate_to_file(run_sfcred, tmp_path))
    assert PROMOTED in assert_mints(run_sfcred, standin)
    new = show(run_sfcred)["active"]
    assert new != old

    standin.upload_certificate(org.client_id, org.cert_pem)  # the admin goes back
    note = assert_mints(run_sfcred, standin)
    assert "accepted the previous one" in note
    assert "--rollback" in note
    assert show(run_sfcred) == {"active": new, "previous": old}, "the fallback writes nothing"

    done = run_sfcred("rotate", "acme", "--rollback")
    assert done.returncode == 0, done.stderr
    assert show(run_sfcred) == {"active": old, "previous": new}
    standin.reset_counts()
    assert assert_mints(run_sfcred, standin) == "", "the old key is active: no fallback"
    assert standin.token_requests == 1
    again = run_sfcred("rotate", "acme", "--rollback")  # and back again: it is a swap
    assert again.returncode == 0
    assert show(run_sfcred) == {"active": new, "previous": old}


# ---------------------------------------------------------------- 16 loops across the upload


def test_rotation_under_load_has_no_failed_get(
    org: Org,
    run_sfcred: Run,
    standin: FakeSalesforce,
    tmp_path: Path,
    sfcred_bin: list[str],
    sfcred_env: dict[str, str],
) -> None:
    """16 loops of "erase; get" while the admin uploads the new certificate: zero failed
    gets, the new key active afterwards, the old one refused.

    Loops sharing one token cache mostly get each other's fresh token (single flight), so an
    `erase; get` loop alone does not make gets mint. Hence 8 loops share the user's cache
    (the lock, single flight, one promotion among them) and 8 have a cache of their own
    (XDG_RUNTIME_DIR), so each of their gets mints: they hit the token endpoint across the
    upload with no lock between them, and may race each other to promote."""
    old = show(run_sfcred)["active"]
    pending_cert = rotate_to_file(run_sfcred, tmp_path)
    new = show(run_sfcred)["pending"]
    before_kids = record().keys
    counted: list[int] = []

    def upload() -> None:
        counted.append(standin.token_requests)
        standin.upload_certificate(org.client_id, pending_cert)

    loops, swap = get_loops_across(upload, loops=16, profile="acme", sfcred_bin=sfcred_bin,
                                   env=sfcred_env, tmp_path=tmp_path, wait=60)
    requests_before = counted[0]
    gets = [g for lp in loops for g in lp.gets]
    failed = [(rc, err) for (_, _, rc, _, err) in gets if rc != 0]
    assert failed == [], f"{len(failed)} of {len(gets)} gets failed: {failed[:3]}"
    for _, _, _, out, _ in gets:
        assert standin.valid_token(out.strip()), "a get printed a token the org never issued"
    minting = [g for lp in loops if lp.private for g in lp.gets]
    straddling = [g for g in minting if g[0] < swap < g[1]]
    assert len(straddling) >= 4, "too few mints were under way at the upload"
    after = [g for g in minting if g[0] > swap]
    assert standin.token_requests - requests_before >= len(after), "gets did not mint"
    promotions = [err for (*_, err) in gets if PROMOTED in err]
    assert len(promotions) >= 1
    shared = [err for lp in loops if not lp.private for (*_, err) in lp.gets]
    assert sum(PROMOTED in err for err in shared) <= 1, "the lock lets one shared get promote"
    assert all(err == "" for (*_, err) in gets if PROMOTED not in err)

    assert show(run_sfcred) == {"active": new, "previous": old}
    assert before_kids.pending is not None
    assert record().keys == KeySlots(before_kids.pending, None, before_kids.active)
    assert cert_of(record().keys.active) == pending_cert
    with closing(TokenClient(attempts=1)) as client:
        with pytest.raises(SalesforceRefused, match="invalid assertion"):
            client.mint(record(), KeyStore().get_key("acme", before_kids.active))
        token = client.mint(record(), KeyStore().get_key("acme", before_kids.pending))
        assert standin.valid_token(token.access_token.reveal())
    print(
        f"{len(gets)} gets, {standin.token_requests} token requests, "
        f"{len(straddling)} mints across the upload, {len(promotions)} promotion(s)"
    )


# ---------------------------------------------------------------- SIGKILL at every write


def snapshot_items(service: str) -> dict[str, str]:
    """Every keyring item of the test's service: username -> secret."""
    import secretstorage

    items: dict[str, str] = {}
    with closing(secretstorage.dbus_init()) as conn:
        for item in secretstorage.get_default_collection(conn).search_items({"service": service}):
            items[item.get_attributes()["username"]] = item.get_secret().decode()
    return items


def restore_items(backend: Any, service: str, items: dict[str, str]) -> None:
    from _support import purge_secret_service

    purge_secret_service(service)
    for user, secret in items.items():
        backend.set_password(service, user, secret)
    assert snapshot_items(service) == items


@dataclass(frozen=True)
class Step:
    name: str
    argv: tuple[str, ...]
    stand_in: str  # which certificate the admin has uploaded: "old" or "new"
    writes: int


# Writes per step. FaultyKeyring is not a backend sfcred knows to take long secrets, so the
# key a step makes goes in 1,000-character chunks (3 + a manifest); the keys prepared before
# the step through the plain Secret Service are one chunk + a manifest (2 deletes each).
STEPS = [
    Step("rotate", ("rotate", "acme", "--cert-out", "{tmp}/c.crt"), "old", 5),
    Step("rotate --force", ("rotate", "acme", "--force", "--cert-out", "{tmp}/c.crt"), "old", 7),
    Step("get promotes", ("get", "-p", "acme", "--format", "token"), "new", 3),
    Step("rotate --activate", ("rotate", "acme", "--activate"), "new", 3),
    Step("rotate --abort", ("rotate", "acme", "--abort"), "old", 3),
    Step("rotate --rollback", ("rotate", "acme", "--rollback"), "old", 1),
]


def _prepare(step: Step, org: Org, run: Run, tmp_path: Path) -> None:
    """Reach the state before the step with the CLI. For the promotion steps the profile has
    rotated once already, so the promotion also drops a key (every write is exercised)."""
    sf = org.sf
    if step.name in ("rotate --force", "rotate --abort"):
        rotate_to_file(run, tmp_path)
    if step.name in ("get promotes", "rotate --activate", "rotate --rollback"):
        sf.upload_certificate(org.client_id, rotate_to_file(run, tmp_path))
        assert PROMOTED in assert_mints(run, sf)
    if step.name in ("get promotes", "rotate --activate"):
        sf.upload_certificate(org.client_id, rotate_to_file(run, tmp_path))
    if step.stand_in == "old":
        sf.upload_certificate(org.client_id, org.cert_pem)


def _expected_after(step: Step, k: KeySlots) -> set[KeySlots] | None:
    if step.name in ("get promotes", "rotate --activate"):
        assert k.pending is not None
        return {k, KeySlots(k.pending, None, k.active)}
    if step.name == "rotate --abort":
        return {k, KeySlots(k.active, None, k.previous)}
    if step.name == "rotate --rollback":
        assert k.previous is not None
        return {k, KeySlots(k.previous, k.pending, k.active)}
    return None  # a start: active and previous unchanged, pending old or new


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_sigkill_at_every_keyring_write_leaves_a_working_key(
    step: Step,
    org: Org,
    run_sfcred: Run,
    standin: FakeSalesforce,
    tmp_path: Path,
    secret_service: Any,
    keyring_service: str,
) -> None:
    _prepare(step, org, run_sfcred, tmp_path)
    before = record()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in step.argv]
    snapshot = snapshot_items(keyring_service)
    cache = TokenCache(runtime_dir() or "")
    log = tmp_path / "writes.log"

    def faulted(mode: str, at: int = 0) -> Any:
        log.unlink(missing_ok=True)
        cache.drop("acme")  # so that a get really mints
        env = {
            "PYTHON_KEYRING_BACKEND": FAULTY,
            "SFCRED_FAULT_DELEGATE": SECRET_SERVICE,
            "SFCRED_FAULT_MODE": mode,
            "SFCRED_FAULT_AT": str(at),
            "SFCRED_FAULT_LOG": str(log),
        }
        return run_sfcred(*argv, env=env)

    counted = faulted("count")
    assert counted.returncode == 0, counted.stderr
    writes = log.read_text(encoding="utf-8").splitlines()
    assert len(writes) == step.writes, writes
    commit = writes.index("set profile:acme")
    assert all(w.startswith("set key:acme:") for w in writes[:commit]), writes
    assert all(w.startswith("delete key:acme:") for w in writes[commit + 1 :]), writes

    for at in range(1, step.writes + 1):
        restore_items(secret_service, keyring_service, snapshot)
        killed = faulted("kill", at)
        assert killed.returncode == -9, (at, killed.returncode, killed.stderr)
        assert len(log.read_text(encoding="utf-8").splitlines()) == at
        after = record()
        for kid in (after.keys.active, after.keys.pending, after.keys.previous):
            if kid:
                KeyStore().get_key("acme", kid)  # every key the record names is whole
        expected = _expected_after(step, before.keys)
        if expected is None:
            assert (after.keys.active, after.keys.previous) == (
                before.keys.active,
                before.keys.previous,
            )
        else:
            assert after.keys in expected, (at, after.keys)
        cache.drop("acme")
        done = run_sfcred("get", "-p", "acme", "--format", "token")
        assert done.returncode == 0, (step.name, at, done.stderr)
        assert standin.valid_token(done.stdout.strip())
        final = record()
        uploaded = org.cert_pem if step.stand_in == "old" else cert_of(before.keys.pending or "")
        # the key that minted: the active one, unless the note says the previous one did
        fallback = "accepted the previous one" in done.stderr
        used = final.keys.previous if fallback else final.keys.active
        assert used is not None
        assert cert_of(used) == uploaded, (step.name, at)
        if step.stand_in == "new":
            assert final.keys.active == before.keys.pending, "the uploaded key ends up active"
            assert (PROMOTED in done.stderr) == (after.keys == before.keys)


def test_get_mints_when_the_keyring_refuses_to_record_the_promotion(
    org: Org, run_sfcred: Run, standin: FakeSalesforce, tmp_path: Path
) -> None:
    standin.upload_certificate(org.client_id, rotate_to_file(run_sfcred, tmp_path))
    before = record()
    env = {
        "PYTHON_KEYRING_BACKEND": FAULTY,
        "SFCRED_FAULT_DELEGATE": SECRET_SERVICE,
        "SFCRED_FAULT_MODE": "error",
        "SFCRED_FAULT_AT": "1",
    }
    done = get_token(run_sfcred, env=env)
    assert done.returncode == 0, done.stderr
    assert standin.valid_token(done.stdout.strip())
    assert "did not record its promotion" in done.stderr
    assert record() == before
    assert PROMOTED in assert_mints(run_sfcred, standin), "the next get promotes"
    assert record().keys.active == before.keys.pending
