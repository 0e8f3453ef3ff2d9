"""Fleet mode's store: profiles and keys live in a real OpenBao (KV v2), not in an OS keyring.
Simulated machines (separate HOME / XDG folders, a keyring that fails every call): a profile
added on one is listed and used on another, never configured; docs/fleet.md's least-privilege
policy is enough for a profile's whole life; doctor checks the store (reachable, token,
policy, clock); ``profile import-keyring`` moves a keyring profile in.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_fleet_store.py).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from _e2e import fleet_machine as machine
from _e2e import new_client_id, parse_git, setup_org

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
    """docs/fleet.md's Vault policy (its first hcl block), for ``prefix`` instead of sfcred."""
    text = (Path(__file__).parents[1] / "docs" / "fleet.md").read_text()
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
    removed = run_sfcred("profile", "remove", "acme", "--yes", env=two)
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
