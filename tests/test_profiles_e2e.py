"""The profile life cycle through the installed program: importing keys in every form people
have them, refusing what cannot work, listing, showing, defaulting and removing, and storage on
the real Secret Service (a backend that refuses long secrets: test_profiles_add.py)."""

from __future__ import annotations

import json
import os
import re
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from _e2e import USERNAME, add_profile, get_json, new_client_id, on_terminal, setup_org, userinfo
from _support import make_keypair
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sfcred.keys import fingerprint

PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def keyring_items(service: str) -> dict[str, str]:
    """Every Secret Service item of this test: item name (keyring 'username') -> secret."""
    import secretstorage

    items: dict[str, str] = {}
    with closing(secretstorage.dbus_init()) as conn:
        for collection in secretstorage.get_all_collections(conn):
            if collection.is_locked():
                continue
            for item in collection.search_items({"service": service}):
                name = item.get_attributes().get("username", "")
                items[name] = item.get_secret().decode()
    return items


def _one_line_refusal(done) -> None:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, lines  # the message, and at most a hint
    assert lines[0].startswith("sfcred: ")
    assert "Traceback" not in done.stderr


def _show(run, name: str) -> dict[str, Any]:
    done = run("profile", "show", name, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.secret_service
@pytest.mark.parametrize("form", ["pkcs1-pem", "pkcs8-pem", "encrypted-pem", "pkcs8-der"])
def test_imported_key_is_the_one_that_signs(
    run_sfcred, standin, tmp_path, rsa_keypair, form: str
) -> None:
    pair = rsa_keypair(name="imported")
    path = tmp_path / "key"
    stdin = None
    extra: list[str] = []
    if form == "pkcs1-pem":
        path.write_text(pair.key_pem_pkcs1)
    elif form == "pkcs8-pem":
        path.write_text(pair.key_pem)
    elif form == "encrypted-pem":
        path.write_text(pair.key_pem_encrypted("correct horse"))
        stdin, extra = "correct horse\n", ["--key-passphrase-stdin"]
    else:
        path.write_bytes(pair.key_der)
    client_id = new_client_id()
    done, cert_out = add_profile(
        run_sfcred, standin, tmp_path, "imp", client_id=client_id, key_file=path,
        extra=extra, input=stdin,
    )  # fmt: skip
    expected = fingerprint(pair.key.public_key())
    assert expected in done.stderr
    shown = _show(run_sfcred, "imp")
    assert [k["fingerprint"] for k in shown["keys"]] == [expected]
    cert = x509.load_pem_x509_certificate(cert_out.read_bytes())
    assert fingerprint(cert.public_key()) == expected  # type: ignore[arg-type]
    # Salesforce holds only the user's own certificate: minting proves sfcred kept the key.
    standin.add_app(client_id, pair.cert_pem)
    standin.add_user(USERNAME)
    standin.preauthorize(client_id, USERNAME)
    data = get_json(run_sfcred, "-p", "imp")
    assert userinfo(standin.url, data["access_token"]).status_code == 200


@pytest.mark.secret_service
def test_wrong_or_missing_passphrase_is_refused(
    run_sfcred, standin, tmp_path, rsa_keypair, keyring_service
) -> None:
    path = tmp_path / "enc.pem"
    path.write_text(rsa_keypair.key_pem_encrypted("correct horse"))
    wrong, _ = add_profile(
        run_sfcred, standin, tmp_path, "enc", key_file=path, check=False,
        extra=["--key-passphrase-stdin"], input="battery staple\n",
    )  # fmt: skip
    _one_line_refusal(wrong)
    assert "passphrase" in wrong.stderr
    missing, _ = add_profile(run_sfcred, standin, tmp_path, "enc", key_file=path, check=False)
    _one_line_refusal(missing)
    assert "--key-passphrase-stdin" in missing.stderr
    assert keyring_items(keyring_service) == {}
    assert run_sfcred("profile", "list", "--names").stdout == ""


@pytest.mark.secret_service
def test_a_passphrase_typed_at_a_terminal_is_not_echoed(
    sfcred_env, standin, tmp_path, rsa_keypair, run_sfcred
) -> None:
    """``--key-passphrase-stdin`` on a terminal asks without echo, as for a consumer secret:
    the passphrase never shows on the screen or in its scrollback."""
    path = tmp_path / "enc.pem"
    phrase = "correct horse " + os.urandom(4).hex()
    path.write_text(rsa_keypair.key_pem_encrypted(phrase))
    argv = ["sfcred", "profile", "add", "enc", "--client-id", new_client_id(), "--username",
            USERNAME, "--login-url", standin.url, "--key-file", str(path),
            "--key-passphrase-stdin"]
    code, seen = on_terminal(argv, sfcred_env, b"key passphrase:", phrase.encode())
    assert code == 0, seen
    assert phrase.encode() not in seen
    assert b"added profile enc" in seen
    shown = _show(run_sfcred, "enc")
    assert [k["fingerprint"] for k in shown["keys"]] == [fingerprint(rsa_keypair.key.public_key())]


@pytest.mark.secret_service
def test_generate_a_3072_bit_key(run_sfcred, standin, tmp_path) -> None:
    org = setup_org(run_sfcred, standin, tmp_path, "big", extra=["--key-size", "3072"])
    shown = _show(run_sfcred, "big")
    assert [k["bits"] for k in shown["keys"]] == [3072]
    cert = x509.load_pem_x509_certificate(org.cert_pem.encode())
    assert cert.public_key().key_size == 3072  # type: ignore[union-attr]
    assert get_json(run_sfcred, "-p", "big")["username"] == org.username


def _ec_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip


def _small_rsa_key() -> str:
    return make_keypair(1024).key_pem_pkcs1  # refused on purpose


@pytest.mark.secret_service
@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("ec", "RSA"),
        ("rsa1024", "2048"),
        ("certificate", "certificate"),
        ("public", "public key"),
        ("junk", "private key"),
        ("missing", "cannot read"),
        ("directory", "cannot read"),
    ],
)
def test_unusable_key_files_are_refused(
    run_sfcred, standin, tmp_path, rsa_keypair, keyring_service, content: str, expect: str
) -> None:
    path = tmp_path / "key.pem"
    if content == "ec":
        path.write_text(_ec_key())
    elif content == "rsa1024":
        path.write_text(_small_rsa_key())
    elif content == "certificate":
        path.write_text(rsa_keypair.cert_pem)
    elif content == "public":
        path.write_text(rsa_keypair.public_pem)
    elif content == "junk":
        path.write_bytes(b"\x00\x01 not a key at all \xff")
    elif content == "directory":
        path.mkdir()
    done, cert_out = add_profile(run_sfcred, standin, tmp_path, "bad", key_file=path, check=False)
    _one_line_refusal(done)
    assert expect.lower() in done.stderr.lower()
    assert not cert_out.exists()
    assert keyring_items(keyring_service) == {}
    assert run_sfcred("profile", "list", "--names").stdout == ""


@pytest.mark.parametrize("name", ["", "a b", "a/b", "../x", "x" * 65, ".hidden", "ü"])
def test_bad_profile_names_are_refused(run_sfcred, standin, tmp_path, name: str) -> None:
    done, _ = add_profile(run_sfcred, standin, tmp_path, name, check=False)
    _one_line_refusal(done)
    assert "profile name" in done.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--login-url", "http://acme.my.salesforce.com"),
        ("--login-url", "ftp://acme.my.salesforce.com"),
        ("--login-url", "https://user:pw@acme.my.salesforce.com"),
        ("--login-url", "https://acme.my.salesforce.com/path"),
        ("--audience", "http://login.salesforce.com"),
    ],
)
def test_unsafe_urls_are_refused(run_sfcred, standin, tmp_path, option: str, value: str) -> None:
    done, _ = add_profile(run_sfcred, standin, tmp_path, "acme", check=False, extra=[option, value])
    _one_line_refusal(done)
    assert option in done.stderr


@pytest.mark.secret_service
def test_duplicate_needs_force_and_force_replaces_key_and_drops_the_token(
    run_sfcred, standin, tmp_path, keyring_service
) -> None:
    org = setup_org(run_sfcred, standin, tmp_path, "acme")
    token = get_json(run_sfcred, "-p", "acme")["access_token"]
    before = _show(run_sfcred, "acme")["keys"][0]["fingerprint"]
    items_before = set(keyring_items(keyring_service))

    again, _ = add_profile(run_sfcred, standin, tmp_path, "acme", client_id=org.client_id,
                           check=False)  # fmt: skip
    _one_line_refusal(again)
    assert "--force" in again.stderr
    assert _show(run_sfcred, "acme")["keys"][0]["fingerprint"] == before

    forced, cert_out = add_profile(run_sfcred, standin, tmp_path, "acme", client_id=org.client_id,
                                   extra=["--force"])  # fmt: skip
    after = _show(run_sfcred, "acme")["keys"][0]["fingerprint"]
    assert after != before
    assert after in forced.stderr
    # The old key is gone from the keyring, not merely unreferenced.
    items_after = set(keyring_items(keyring_service))
    assert not any(before_item.startswith("key:") for before_item in items_before & items_after)
    # The cached token went with the old profile: the next get mints, with the new key.
    standin.upload_certificate(org.client_id, cert_out.read_text())
    fresh = get_json(run_sfcred, "-p", "acme")["access_token"]
    assert fresh != token
    assert standin.token_requests == 2


@pytest.mark.secret_service
@pytest.mark.parametrize(
    ("args", "login_url", "audience"),
    [
        ([], "https://login.salesforce.com", "https://login.salesforce.com"),
        (["--login-url", "production"], "https://login.salesforce.com",
         "https://login.salesforce.com"),
        (["--login-url", "sandbox"], "https://test.salesforce.com", "https://test.salesforce.com"),
        (["--login-url", "https://acme--dev.sandbox.my.salesforce.com"],
         "https://acme--dev.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        (["--login-url", "https://acme.my.salesforce.com"], "https://acme.my.salesforce.com",
         "https://login.salesforce.com"),
        (["--login-url", "https://acme.my.site.com"], "https://acme.my.site.com",
         "https://acme.my.site.com"),
        (["--login-url", "https://acme.my.salesforce.com", "--audience",
          "https://acme.my.salesforce.com"], "https://acme.my.salesforce.com",
         "https://acme.my.salesforce.com"),
    ],
)  # fmt: skip
def test_login_url_shorthands_and_audience_defaults(
    run_sfcred, args: list[str], login_url: str, audience: str
) -> None:
    done = run_sfcred("profile", "add", "org", "--client-id", "c", "--username", USERNAME,
                      "--generate-key", *args)  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = _show(run_sfcred, "org")
    assert (shown["login_url"], shown["audience"]) == (login_url, audience)


@pytest.mark.secret_service
def test_list_default_and_show(run_sfcred, standin, tmp_path, keyring_service) -> None:
    for name in ("zeta", "alpha"):
        add_profile(run_sfcred, standin, tmp_path, name, username=f"{name}@example.com")
    names = run_sfcred("profile", "list", "--names")
    assert (names.returncode, names.stdout) == (0, "alpha\nzeta\n")

    listed = run_sfcred("profile", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["default"]) for r in rows] == [("alpha", False), ("zeta", True)]
    assert rows[0]["username"] == "alpha@example.com"

    human = run_sfcred("profile", "list").stdout.splitlines()
    assert len(human) == 2
    assert [line.split()[:2] for line in human] == [["alpha", "alpha@example.com"],
                                                     ["*", "zeta"]]  # fmt: skip

    assert run_sfcred("profile", "default", "alpha").returncode == 0
    rows = json.loads(run_sfcred("profile", "list", "--json").stdout)
    assert [r["name"] for r in rows if r["default"]] == ["alpha"]
    nosuch = run_sfcred("profile", "default", "nosuch")
    _one_line_refusal(nosuch)

    show = run_sfcred("profile", "show", "alpha")
    assert show.returncode == 0, show.stderr
    data = _show(run_sfcred, "alpha")
    assert data["name"] == "alpha"
    assert data["default"] is True
    assert data["username"] == "alpha@example.com"
    (key,) = data["keys"]
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", key["fingerprint"])
    assert key["bits"] == 2048
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", key["certificate_expires"])
    assert key["fingerprint"] in show.stdout
    assert key["certificate_expires"] in show.stdout
    # Never the key: not its PEM, not a line of its base64 body.
    pem = next(v for k, v in keyring_items(keyring_service).items() if k.startswith("key:alpha"))
    assert pem  # the key material is in the keyring ...
    for text in (show.stdout, show.stderr, json.dumps(data)):
        assert not PEM_KEY.search(text)  # ... and nowhere in what show prints


@pytest.mark.secret_service
def test_remove_takes_every_keyring_item_and_the_index_entry(
    run_sfcred, standin, tmp_path, keyring_service
) -> None:
    org = setup_org(run_sfcred, standin, tmp_path, "acme")
    setup_org(run_sfcred, standin, tmp_path, "keep", username="keep@example.com")
    token = get_json(run_sfcred, "-p", "acme")["access_token"]
    items = keyring_items(keyring_service)
    assert any(name.startswith("key:acme:") for name in items)
    assert "profile:acme" in items

    done = run_sfcred("profile", "remove", "acme", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""

    left = keyring_items(keyring_service)
    assert not [name for name in left if "acme" in name]
    assert any(name.startswith("key:keep:") for name in left)  # the other profile is intact
    index = Path(os.environ["XDG_CONFIG_HOME"], "sfcred", "profiles.json")
    assert "acme" not in json.loads(index.read_text())["profiles"]
    assert run_sfcred("profile", "list", "--names").stdout == "keep\n"
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    for path in runtime.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path  # the cached token is gone
    gone = run_sfcred("get", "-p", "acme")
    assert (gone.returncode, gone.stdout) == (1, "")
    assert get_json(run_sfcred, "-p", "keep")["username"] == "keep@example.com"

    run_sfcred("profile", "remove", "keep", "--yes")
    assert set(keyring_items(keyring_service)) <= {"cache-key"}  # shared, not a profile's
    assert org.sf.token_requests == 2
    _one_line_refusal(run_sfcred("profile", "remove", "acme"))
