"""Fleet mode's store: profiles and keys live in a real OpenBao (KV v2), not in an OS keyring.
Simulated machines (separate HOME / XDG folders, a keyring that fails every call): a profile
added on one is listed and used on another, never configured; the README's least-privilege
policy is enough for a profile's whole life; doctor checks the store (reachable, token,
policy, clock); ``profile import-keyring`` moves a keyring profile in."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from _e2e import fleet_machine as machine
from _e2e import new_client_id, parse_git, setup_org

from sfcred.errors import ConfigError
from sfcred.index import IndexFile
from sfcred.store.vault import Location, VaultKV
from sfcred.testing.server import FakeSalesforce

USER = "fleet@example.com"


def test_a_profile_added_on_one_machine_serves_another(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str]
) -> None:
    one, two = machine(tmp_path, "one", fleet), machine(tmp_path, "two", fleet)
    client_id, cert = new_client_id(), tmp_path / "fleet.crt"
    added = run_sfcred("profile", "add", "acme", "--client-id", client_id, "--username", USER,
                       "--login-url", standin.url, "--generate-key", "--cert-out", str(cert),
                       env=one)
    assert added.returncode == 0, added.stderr
    standin.add_app(client_id, cert.read_text())
    standin.add_user(USER)
    standin.preauthorize(client_id, USER)

    listed = run_sfcred("profile", "list", "--names", env=two)  # never configured
    assert (listed.returncode, listed.stdout) == (0, "acme\n"), listed.stderr
    got = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert got.returncode == 0, got.stderr
    assert standin.valid_token(got.stdout.strip())
    routed = run_sfcred("get", input=f"protocol=http\nhost={standin.url.split('://')[1]}\n\n",
                        env=machine(tmp_path, "three", fleet))
    assert routed.returncode == 0, routed.stderr
    assert standin.valid_token(parse_git(routed.stdout)["password"])
    shown = run_sfcred("profile", "show", "acme", env=two)
    assert "fleet store" not in shown.stderr
    doctor = run_sfcred("doctor", "acme", "--offline", env=two)
    assert "✓ fleet store: vault://secret/sfcred-fleet-" in doctor.stdout
    # Nothing of the key on either machine's disk: it lives in the store only.
    pem_lines = [line for line in cert.read_text().splitlines() if len(line) > 40]
    assert pem_lines  # (the certificate is public; the check below is about the key)
    for env in (one, two):
        for folder in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
            for path in Path(str(env[folder])).rglob("*"):
                if path.is_file():
                    assert b"PRIVATE KEY" not in path.read_bytes(), path


def readme_policy(prefix: str) -> str:
    """The README's Vault policy (its first hcl block), for ``prefix`` instead of sfcred."""
    text = (Path(__file__).parents[1] / "README.md").read_text()
    block = text.split("```hcl\n", 1)[1].split("```", 1)[0]
    assert 'path "secret/data/sfcred/*"' in block
    return block.replace("secret/data/sfcred/", f"secret/data/{prefix}/").replace(
        "secret/metadata/sfcred/", f"secret/metadata/{prefix}/")


def token_with(fleet: dict[str, str], name: str, policy: str) -> str:
    kv = VaultKV(Location.parse(fleet["SFCRED_STORE"]), fleet)
    kv.client.sys.create_or_update_policy(name=name, policy=policy)
    token: str = kv.client.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]
    return token


def test_the_readme_policy_is_enough_for_the_whole_life_of_a_profile(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str]
) -> None:
    prefix = Location.parse(fleet["SFCRED_STORE"]).prefix
    worker = {**fleet, "VAULT_TOKEN": token_with(fleet, f"p-{prefix}", readme_policy(prefix))}
    one, two = machine(tmp_path, "one", worker), machine(tmp_path, "two", worker)
    org = setup_org(lambda *a, **k: run_sfcred(*a, env=one, **k), standin, tmp_path, "acme",
                    username=USER)
    doctor = run_sfcred("doctor", "acme", env=two)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "✓ fleet store: vault://secret/" in doctor.stdout
    assert "may read, write, list and delete under the prefix" in doctor.stdout
    got = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert got.returncode == 0, got.stderr
    token = got.stdout.strip()
    erased = run_sfcred("erase", "-p", "acme", input=f"password={token}\n\n", env=two)
    assert erased.returncode == 0, erased.stderr
    rotated = run_sfcred("rotate", "acme", "--cert-out", str(tmp_path / "next.crt"), env=one)
    assert rotated.returncode == 0, rotated.stderr
    standin.upload_certificate(org.client_id, (tmp_path / "next.crt").read_text())
    assert run_sfcred("rotate", "acme", "--activate", env=two).returncode == 0
    again = run_sfcred("get", "-p", "acme", "--format", "token", env=one)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() != token
    kv = VaultKV(Location.parse(fleet["SFCRED_STORE"]), fleet)
    assert kv.read("tokens/acme") is not None
    readded = run_sfcred("profile", "add", "acme", "--client-id", org.client_id, "--username",
                         USER, "--login-url", standin.url, "--token-ttl", "600", "--force",
                         env=two)
    assert readded.returncode == 0, readded.stderr
    assert kv.read("tokens/acme") is None  # the old settings' token is not the fleet's now
    assert run_sfcred("get", "-p", "acme", env=one).returncode == 0
    removed = run_sfcred("profile", "remove", "acme", env=two)
    assert removed.returncode == 0, removed.stderr
    assert (kv.read("tokens/acme"), kv.read("leases/acme")) == (None, None)
    listed = run_sfcred("profile", "list", "--names", env=machine(tmp_path, "three", worker))
    assert (listed.returncode, listed.stdout) == (0, "")


def test_doctor_names_what_the_policy_lacks_and_a_store_that_is_down(
    run_sfcred, tmp_path: Path, fleet: dict[str, str]
) -> None:
    prefix = Location.parse(fleet["SFCRED_STORE"]).prefix
    read_only = (f'path "secret/data/{prefix}/*" {{ capabilities = ["read"] }}\n'
                 f'path "secret/metadata/{prefix}/*" {{ capabilities = ["list"] }}\n')
    limited = {**fleet, "VAULT_TOKEN": token_with(fleet, f"ro-{prefix}", read_only)}
    doctor = run_sfcred("doctor", "--offline", env=machine(tmp_path, "one", limited))
    assert doctor.returncode == 5, doctor.stdout
    first = doctor.stdout.splitlines()[0]
    assert first.startswith("✗ fleet store:")
    for lacking in ("create on secret/data/", "update on secret/data/",
                    "delete on secret/metadata/"):
        assert lacking in first
    assert "read on" not in first
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = run_sfcred("doctor", "--json", env=machine(tmp_path, "two", {**fleet,
                                                                     "VAULT_ADDR": closed}))
    assert down.returncode == 5
    checks = json.loads(down.stdout)
    assert checks[0]["name"] == "keyring"
    assert checks[0]["title"] == "fleet store"
    assert "cannot reach the store" in checks[0]["detail"]
    assert [c["name"] for c in checks] == ["keyring", "profile", "key", "certificate",
                                          "audience", "clock", "token", "userinfo", "app"]


class StubKV:
    """The three answers doctor's store check reads, with a server clock of our choosing."""

    location = Location("secret", "sfcred")
    address = "http://127.0.0.1:8200"

    def __init__(self, server_time: float) -> None:
        self.server_time = server_time

    def status(self) -> dict[str, object]:
        return {"version": "2.7.2", "server_time_utc": int(self.server_time)}

    def token_info(self) -> dict[str, object]:
        return {"ttl": 3600, "policies": ["sfcred"]}

    def capabilities(self, names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        return {n: ("create", "read", "update", "list", "delete") for n in names}


@pytest.mark.unit
@pytest.mark.parametrize(("skew", "status"), [(0.0, "ok"), (8.0, "warn"), (-8.0, "warn"),
                                               (40.0, "fail"), (-40.0, "fail")])
def test_doctor_compares_the_clock_with_the_stores(skew: float, status: str) -> None:
    from sfcred.doctor.store import store_check

    now = 1_800_000_000.0
    check = store_check(StubKV(now - skew), clock=lambda: now)  # type: ignore[arg-type]
    assert check.status == status, check.detail
    if status != "ok":
        assert ("ahead of" if skew > 0 else "behind") in check.detail
        assert "NTP" in (check.fix or "")
    assert "expires in 60 min" in check.detail


@pytest.mark.unit
def test_import_keyring_copies_every_key_and_writes_the_record_last(
    rsa_keypair, fleet: dict[str, str], tmp_path: Path
) -> None:
    from sfcred import fleetcopy, manage, rotate
    from sfcred.keystore import KeyStore
    from sfcred.store.vault import VaultBackend
    from sfcred.testing.keyrings import MemoryKeyring

    source = KeyStore(backend=MemoryKeyring())
    req = manage.NewProfile(name="acme", client_id=new_client_id(), username=USER,
                            login_url="https://login.salesforce.com",
                            key_data=rsa_keypair().key_pem.encode())
    manage.add(req, source, IndexFile(str(tmp_path / "profiles.json")), None)
    rotate.start(source, source.require_profile("acme"), None, 30, False)  # a pending key too
    writes: list[str] = []
    target = KeyStore(backend=VaultBackend(VaultKV(Location.parse(fleet["SFCRED_STORE"]),
                                                   fleet)))
    real_set = target.backend.set_password

    def spy(service: str, item: str, value: str) -> None:
        writes.append(item)
        real_set(service, item, value)

    target.backend.set_password = spy
    copied = fleetcopy.copy_profile("acme", source, target)
    assert copied.keys.pending is not None
    assert writes[-1] == "profile:acme"  # the record after every key
    assert target.require_profile("acme") == source.require_profile("acme")
    for kid in (copied.keys.active, copied.keys.pending):
        assert target.get_key("acme", kid).key_id == source.get_key("acme", kid).key_id
    with pytest.raises(ConfigError, match="already has a profile"):
        fleetcopy.copy_profile("acme", source, target)
    fleetcopy.copy_profile("acme", source, target, force=True)
    with pytest.raises(ConfigError, match="no profile named"):
        fleetcopy.copy_profile("other", source, target)


@pytest.mark.secret_service
def test_a_keyring_profile_moves_into_the_store_and_serves_the_fleet(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str]
) -> None:
    """From the real Secret Service into OpenBao with the installed program, then used by a
    machine with no keyring; the keyring's copy stays until removed."""
    setup_org(run_sfcred, standin, tmp_path, "acme", username=USER)  # in the OS keyring
    store_only = {"SFCRED_STORE": fleet["SFCRED_STORE"], "VAULT_ADDR": fleet["VAULT_ADDR"],
                  "VAULT_TOKEN": fleet["VAULT_TOKEN"]}
    moved = run_sfcred("profile", "import-keyring", "acme", env=store_only)
    assert moved.returncode == 0, moved.stderr
    assert "copied profile acme" in moved.stderr
    again = run_sfcred("profile", "import-keyring", "acme", env=store_only)
    assert again.returncode == 1
    assert "already has a profile" in again.stderr
    worker = machine(tmp_path, "worker", fleet)  # FailKeyring: no OS keyring at all
    got = run_sfcred("get", "-p", "acme", "--format", "token", env=worker)
    assert got.returncode == 0, got.stderr
    assert standin.valid_token(got.stdout.strip())
    still = run_sfcred("profile", "show", "acme")  # the keyring's copy, untouched
    assert still.returncode == 0, still.stderr
    plain = run_sfcred("profile", "import-keyring", "acme")
    assert plain.returncode == 1
    assert "SFCRED_STORE" in plain.stderr
