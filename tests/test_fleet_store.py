"""Fleet mode, first part: profiles and keys live in a real OpenBao (KV v2), not in an OS
keyring. Two simulated machines (separate HOME / XDG folders, a keyring that fails every
call): a profile added on one is listed and used on the other, which was never configured."""

from __future__ import annotations

from pathlib import Path

from _e2e import fleet_machine as machine
from _e2e import new_client_id, parse_git

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
    assert "sfcred.store.vault" in doctor.stdout
    # Nothing of the key on either machine's disk: it lives in the store only.
    pem_lines = [line for line in cert.read_text().splitlines() if len(line) > 40]
    assert pem_lines  # (the certificate is public; the check below is about the key)
    for env in (one, two):
        for folder in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
            for path in Path(str(env[folder])).rglob("*"):
                if path.is_file():
                    assert b"PRIVATE KEY" not in path.read_bytes(), path
