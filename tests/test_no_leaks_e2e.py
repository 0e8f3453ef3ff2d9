"""After a full session of use, secrets are only where docs/security.md allows them: private
keys only in the keyring, access tokens only on stdout of `get` and in the token cache, a
passphrase nowhere.

Every file under the test's HOME and XDG folders (and its tmp_path) is searched, byte for byte,
for every encoding of the keys and for every token handed out; so is every stdout and stderr.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from pathlib import Path

import pytest
from _e2e import USERNAME, Org, add_profile, get_json, parse_git, setup_org
from _support import files_under
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfcred.store.keystore import KeyStore

pytestmark = pytest.mark.secret_service


def key_needles(key: rsa.RSAPrivateKey) -> list[bytes]:
    """Byte strings that betray ``key``: its DER forms and every full base64 line of its PEMs."""
    der = [
        key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        for fmt in (
            serialization.PrivateFormat.PKCS8,
            serialization.PrivateFormat.TraditionalOpenSSL,
        )
    ]
    needles = list(der)
    for blob in der:
        body = base64.b64encode(blob)
        needles += [body[i : i + 64] for i in range(0, len(body) - 64, 64)]
    numbers = key.private_numbers()
    needles.append(f"{numbers.d:x}".encode())  # the private exponent in hex
    return needles




def _find(needles: list[bytes], data: bytes) -> bytes | None:
    return next((n for n in needles if n in data), None)


def test_no_secret_outside_the_keyring_and_the_token_cache(
    run_sfcred, standin, tmp_path, tmp_path_factory, rsa_keypair, sfcred_env, sentinel_secret
) -> None:
    runs: list[subprocess.CompletedProcess[str]] = []

    def run(*args: str, **kw) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, **kw)
        runs.append(done)
        return done

    # -- a generated key and an imported, passphrase-protected one (the file lives elsewhere)
    org: Org = setup_org(run, standin, tmp_path, "acme")
    runs.append(org.added)
    outside = tmp_path_factory.mktemp("outside-the-scanned-folders")
    mine = rsa_keypair(name="leak-check")
    key_file = outside / "mine.pem"
    key_file.write_text(mine.key_pem_encrypted(sentinel_secret))
    imported, _ = add_profile(
        run, standin, tmp_path, "mine", username="mine@example.com", key_file=key_file,
        extra=["--key-passphrase-stdin"], input=sentinel_secret + "\n",
    )  # fmt: skip
    runs.append(imported)
    standin.add_app("mine-app", mine.cert_pem)

    # -- every format, the cache, erase, clients, show and list
    tokens: set[str] = set()
    tokens.add(
        parse_git(run("get", input=f"host={org.host}\nusername={USERNAME}\n\n").stdout)["password"]
    )
    tokens.add(run("get", "-p", "acme", "--format", "token").stdout.strip())
    tokens.add(get_json(run, "-p", "acme")["access_token"])
    run("get", "-p", "acme", "--format", "env")
    run("get", input=f"capability[]=authtype\nhost={org.host}\nusername={USERNAME}\n\n")
    run("store", input=f"host={org.host}\npassword={sentinel_secret}\n\n")
    run("erase", "-p", "acme")
    tokens.add(run("get", "-p", "acme", "--format", "token").stdout.strip())
    argv_seen = run("exec", "-p", "acme", "--", "sh", "-c", "tr '\\0' ' ' </proc/$$/cmdline")
    assert argv_seen.returncode == 0, argv_seen.stderr
    for action in ("show", "list"):
        run("profile", action, *(["acme"] if action == "show" else []))
        run("profile", action, *(["acme"] if action == "show" else []), "--json")
    run("profile", "show", "mine")
    run("cert", "acme")
    assert len(tokens) == 2
    assert standin.token_requests == 2

    # -- errors of every kind
    run("get", input="host=github.com\n\n")
    run("get", input="host=x\nno-equals\n\n")
    run("get", "--format", "xml")
    run("get", "-p", "mine")  # Salesforce refuses: the user is not pre-authorized
    standin.fail_next("crlf")
    run("erase", "-p", "acme")
    run("get", "-p", "acme")
    standin.fail_next("huge")
    run("get", "-p", "acme")
    run("profile", "add", "acme", "--client-id", "x", "--username", "y", "--generate-key")
    run("profile", "add", "mine", "--client-id", "x", "--username", "y", "--key-file",
        str(key_file), "--force")  # fmt: skip  # no passphrase: refused
    run("profile", "remove", "nosuch")

    # -- the keys, fetched from the keyring where they belong
    store = KeyStore()
    acme_pem = store.get_key("acme", store.require_profile("acme").keys.active).key_pem.reveal()
    acme_key = serialization.load_pem_private_key(acme_pem.encode(), password=None)
    assert isinstance(acme_key, rsa.RSAPrivateKey)
    needles = key_needles(acme_key) + key_needles(mine.key) + [sentinel_secret.encode()]
    token_needles = [t.encode() for t in tokens]
    assert all(token_needles)

    # -- what the processes printed
    for done in runs:
        for text in (done.stdout, done.stderr):
            found = _find(needles, text.encode())
            assert found is None, f"key material or passphrase printed by {done.args[1:3]}"
        assert _find(token_needles, done.stderr.encode()) is None, done.args
        assert "Traceback" not in done.stderr
    assert "profile" in " ".join(r.args[1] for r in runs)
    assert _find(token_needles, argv_seen.stdout.encode()) is None  # not in a child's argv

    # -- what is on disk
    home = Path(os.environ["HOME"])
    env_root = home.parent
    cache_dir = Path(os.environ["XDG_RUNTIME_DIR"]) / "sfcred"
    scanned = files_under(env_root, tmp_path)
    assert any(p.name.endswith(".crt") for p in scanned)  # the scan does see our files
    assert any(p.name == "profiles.json" for p in scanned)
    for path in scanned:
        data = path.read_bytes()
        assert _find(needles, data) is None, f"key material or passphrase in {path}"
        if cache_dir not in path.parents:
            assert _find(token_needles, data) is None, f"access token in {path}"

    # -- the cache itself: private folder, private files
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    for path in files_under(cache_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_profile_show_has_the_fingerprint_and_no_key(run_sfcred, standin, tmp_path) -> None:
    org = setup_org(run_sfcred, standin, tmp_path, "acme")
    store = KeyStore()
    pem = store.get_key("acme", store.require_profile("acme").keys.active).key_pem.reveal()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    from sfcred.keys import fingerprint

    expected = fingerprint(key.public_key())
    assert expected in org.added.stderr
    for args in (("profile", "show", "acme"), ("profile", "show", "acme", "--json")):
        done = run_sfcred(*args)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
        assert _find(key_needles(key), (done.stdout + done.stderr).encode()) is None
        assert "PRIVATE KEY" not in done.stdout


def test_the_consumer_secret_is_in_no_output_file_argv_or_child_environment(
    run_sfcred, standin, tmp_path, rsa_keypair, sentinel_secret
) -> None:
    """A client credentials session: add from a pipe, every format, exec (its child's argv
    and environment read from /proc), show, doctor, a staged rotation promoted by get, a
    refusal, CI mode. The sentinel consumer secrets are nowhere but the keyring."""
    from _cc import RUN_AS

    from sfcred.keys import CLIENT_SECRET

    second = sentinel_secret[::-1]  # the rotated secret: a second sentinel
    needles = [sentinel_secret.encode(), second.encode()]
    runs: list[subprocess.CompletedProcess[str]] = []

    def run(*args: str, **kw) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, **kw)
        runs.append(done)
        return done

    standin.add_app("cc-app", rsa_keypair.cert_pem, client_secret=sentinel_secret)
    standin.add_user(RUN_AS)
    standin.enable_client_credentials("cc-app", RUN_AS)
    assert run("profile", "add", "cc", "--grant", "client-credentials", "--client-id",
               "cc-app", "--client-secret-stdin", "--login-url", standin.url,
               input=sentinel_secret + "\n").returncode == 0
    for fmt in ("git", "token", "json", "env"):
        assert run("get", "-p", "cc", "--format", fmt).returncode == 0
    child = run("exec", "-p", "cc", "--", "sh", "-c",
                "tr '\\0' '\\n' </proc/$$/cmdline; tr '\\0' '\\n' </proc/$$/environ",
                env={"SFCRED_CLIENT_SECRET": sentinel_secret})
    assert child.returncode == 0, child.stderr
    assert "SF_ACCESS_TOKEN=" in child.stdout  # the scan does read the child's environment
    run("profile", "show", "cc")
    run("profile", "show", "cc", "--json")
    run("doctor", "cc")
    run("doctor", "cc", "--json")
    assert run("rotate", "cc", "--secret-stdin", input=second + "\n").returncode == 0
    standin.set_client_secret("cc-app", second)
    run("erase", "-p", "cc")
    promoted = run("get", "-p", "cc", "--format", "token")
    assert promoted.returncode == 0, promoted.stderr
    assert "accepted the pending secret" in promoted.stderr
    standin.set_client_secret("cc-app", "something-else")
    run("erase", "-p", "cc")
    assert run("get", "-p", "cc").returncode == 3  # invalid client credentials, explained
    ci = {"SFCRED_CLIENT_ID": "cc-app", "SFCRED_CLIENT_SECRET": second,
          "SFCRED_LOGIN_URL": standin.url}
    standin.set_client_secret("cc-app", second)
    ci_child = run("exec", "--", "sh", "-c", "tr '\\0' '\\n' </proc/$$/environ", env=ci)
    assert ci_child.returncode == 0, ci_child.stderr
    assert "SF_ACCESS_TOKEN=" in ci_child.stdout

    # The secrets are where they belong: the keyring (so the scan below can fail).
    store = KeyStore()
    profile = store.require_profile("cc")
    active = store.get_key("cc", profile.keys.active)
    assert active.kind == CLIENT_SECRET
    assert active.key_pem.reveal() == second

    for done in runs:
        for text in (done.stdout, done.stderr):
            assert _find(needles, text.encode()) is None, f"consumer secret printed by {done.args}"
        assert _find(needles, " ".join(map(str, done.args)).encode()) is None  # sfcred's argv
        assert "Traceback" not in done.stderr
    env_root = Path(os.environ["HOME"]).parent
    scanned = files_under(env_root, tmp_path)
    assert any(p.name == "profiles.json" for p in scanned)
    for path in scanned:
        assert _find(needles, path.read_bytes()) is None, f"consumer secret in {path}"
