"""Where keys and profiles are written (``keywrite``): keyring's own choice now, never the
remembered one, and never a plaintext file keyring fell back to unless the user named it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.backends.chainer import ChainerBackend
from keyrings.alt.file import PlaintextKeyring

from sfcred import keyfind
from sfcred.errors import KeyringUnavailable
from sfcred.keystore import KeyStore
from sfcred.profiles import KeySlots, Profile
from sfcred.testing.keyrings import MemoryKeyring

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
PROFILE = Profile("p", "cid", "u@x", "https://login.salesforce.com",
                  "https://login.salesforce.com", KeySlots("k1"))


def plaintext_file() -> Path:
    """Where keyrings.alt's PlaintextKeyring keeps its items under this test's XDG folders."""
    return Path(os.environ["XDG_DATA_HOME"], "python_keyring", "keyring_pass.cfg")


@pytest.fixture
def nobody_named(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """No PYTHON_KEYRING_BACKEND, no keyringrc.cfg, nothing set in this process: keyring's
    discovery decides, and finds the backends the test puts in the returned list."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    found: list[Any] = []
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: found)
    return found


def test_a_file_backend_keyring_fell_back_to_is_refused(nobody_named: list[Any]) -> None:
    nobody_named.append(PlaintextKeyring())
    notes: list[str] = []
    store = KeyStore(note=notes.append)
    with pytest.raises(KeyringUnavailable) as info:
        store.put_profile(PROFILE)
    message = info.value.message
    assert str(plaintext_file()) in message  # where the key would have gone
    assert "Secret Service" in message
    assert f"PYTHON_KEYRING_BACKEND={PLAINTEXT}" in message  # the ways out
    assert info.value.exit_code == 5
    assert "\n" not in message
    assert not plaintext_file().exists()
    assert notes == []


def test_a_backend_keyring_rates_not_secure_is_refused_unless_named(
    nobody_named: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody_named.append(MemoryKeyring())  # priority 0.1: below keyring's "recommended"
    with pytest.raises(KeyringUnavailable, match="rates not secure"):
        KeyStore().put_profile(PROFILE)
    keyring.set_keyring(MemoryKeyring())  # a program's own choice, in its process: named
    notes: list[str] = []
    store = KeyStore(note=notes.append)
    store.put_profile(PROFILE)
    assert store.get_profile("p") == PROFILE
    assert notes == []  # not a file: nothing to warn about


@pytest.mark.parametrize("how", ["env", "config", "in process"])
def test_a_file_backend_the_user_named_is_written_with_a_warning(
    nobody_named: list[Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "env":
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", PLAINTEXT)
    elif how == "config":
        config = Path(os.environ["XDG_CONFIG_HOME"], "python_keyring", "keyringrc.cfg")
        config.parent.mkdir(parents=True)
        config.write_text(f"[backend]\ndefault-keyring={PLAINTEXT}\n")
    else:
        keyring.set_keyring(PlaintextKeyring())
    notes: list[str] = []
    store = KeyStore(note=notes.append)
    store.put_profile(PROFILE)
    assert len(notes) == 1
    assert notes[0].startswith("warning:")
    assert str(plaintext_file()) in notes[0]
    assert plaintext_file().exists()
    assert store.get_profile("p") == PROFILE
    store.put_profile(PROFILE)
    assert len(notes) == 1  # once per store


def test_writes_ask_keyring_again_whatever_the_record_says(
    nobody_named: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record chose the backend the reads use; a write asks keyring's discovery again and
    goes where keyring would put it now (a chain: its secure head, not the file behind it)."""
    monkeypatch.setattr(keyfind, "SECURE", keyfind.SECURE | {"sfcred.testing.keyrings."
                                                             "MemoryKeyring"})
    head = MemoryKeyring()
    monkeypatch.setattr(ChainerBackend, "backends", [head, PlaintextKeyring()])
    nobody_named.append(ChainerBackend())
    remembered = MemoryKeyring()

    def recall(path: str, basis: str) -> Any:
        keyfind._adopt(remembered)
        return remembered

    monkeypatch.setattr(keyfind, "_recall", recall)
    store = KeyStore(service="svc-w")
    assert store.backend is remembered
    store.put_profile(PROFILE)
    assert store.backend is head
    assert not plaintext_file().exists()


def test_a_given_backend_is_never_second_guessed(nobody_named: list[Any]) -> None:
    """The fleet store (or any backend handed to KeyStore) is the caller's choice."""
    nobody_named.append(PlaintextKeyring())
    store = KeyStore(backend=MemoryKeyring(), service="svc-g")
    store.put_profile(PROFILE)
    assert store.get_profile("p") == PROFILE


# ------------------------------------------------------------ through the installed program

def _add(run: Any, standin: Any, tmp_path: Path, name: str,
         env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    from _e2e import add_profile

    def run_env(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run(*args, env=env, **kw)
        return done

    done, _cert = add_profile(run_env, standin, tmp_path, name, check=False)
    return done


def _record(sfcred_env: dict[str, str]) -> Path:
    records = list(Path(sfcred_env["XDG_RUNTIME_DIR"], "sfcred").glob(f"{keyfind.RECORD}*"))
    assert len(records) == 1
    return records[0]


def _plant(record: Path, backend: str) -> None:
    record.write_text(json.dumps({**json.loads(record.read_text()), "backend": backend}))
    record.chmod(0o600)


def test_a_stale_plaintext_record_never_takes_a_key_beside_the_secret_service(
    secret_service: Any, run_sfcred: Any, sfcred_env: dict[str, str], standin: Any,
    tmp_path: Path, keyring_service: str
) -> None:
    """The finding: one run while the Secret Service was absent remembered PlaintextKeyring;
    with the service back, `profile add --generate-key` must store the key in the Secret
    Service, and no keyring_pass.cfg may appear."""
    no_choice: dict[str, str | None] = {"PYTHON_KEYRING_BACKEND": None}
    first = _add(run_sfcred, standin, tmp_path, "first", no_choice)
    assert first.returncode == 0, first.stderr
    record = _record(sfcred_env)
    assert json.loads(record.read_text())["backend"] == keyfind.SECRET_SERVICE
    _plant(record, PLAINTEXT)
    second = _add(run_sfcred, standin, tmp_path, "second", no_choice)
    assert second.returncode == 0, second.stderr
    assert "warning" not in second.stderr
    assert secret_service.get_password(keyring_service, "profile:second") is not None
    assert not list(Path(sfcred_env["HOME"]).rglob("keyring_pass.cfg"))
    assert not list(Path(sfcred_env["XDG_DATA_HOME"]).rglob("keyring_pass.cfg"))
    assert json.loads(record.read_text())["backend"] == keyfind.SECRET_SERVICE  # replaced


@pytest.mark.parametrize("planted", ["keyring.backends.fail.Keyring", "evilmod.Backend"])
def test_a_planted_record_is_not_imported_and_the_get_stays_clean(
    secret_service: Any, run_sfcred: Any, sfcred_env: dict[str, str], standin: Any,
    tmp_path: Path, planted: str
) -> None:
    from _e2e import setup_org

    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "evilmod.py").write_text(
        "import sys\nsys.stdout.write('planted output\\n')\n"
        "from keyring.backends.fail import Keyring as Backend\n")
    env: dict[str, str | None] = {"PYTHON_KEYRING_BACKEND": None, "PYTHONPATH": str(plant)}

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, env=env, **kw)
        return done

    setup_org(run, standin, tmp_path)
    _plant(_record(sfcred_env), planted)
    got = run("get", "-p", "acme", "--format", "token")
    assert got.returncode == 0, got.stderr
    assert len(got.stdout.splitlines()) == 1  # the token, and nothing ahead of it
    assert "planted" not in got.stdout + got.stderr
    assert json.loads(_record(sfcred_env).read_text())["backend"] == keyfind.SECRET_SERVICE


NO_SECRET_SERVICE: dict[str, str | None] = {"PYTHON_KEYRING_BACKEND": None,
                                            "DBUS_SESSION_BUS_ADDRESS": None}


def test_a_plaintext_file_keyring_chose_by_itself_refuses_the_write(
    run_sfcred: Any, sfcred_env: dict[str, str], standin: Any, tmp_path: Path
) -> None:
    """No session bus: keyrings.alt's PlaintextKeyring is keyring's only viable backend."""
    done = _add(run_sfcred, standin, tmp_path, "acme", NO_SECRET_SERVICE)
    assert done.returncode == 5, done.stderr
    where = Path(sfcred_env["XDG_DATA_HOME"], "python_keyring", "keyring_pass.cfg")
    first = done.stderr.splitlines()[0]
    assert str(where) in first
    assert "PYTHON_KEYRING_BACKEND" in first
    assert "Secret Service" in first
    assert not where.exists()


def test_a_plaintext_backend_named_on_purpose_is_written_with_a_warning(
    run_sfcred: Any, sfcred_env: dict[str, str], standin: Any, tmp_path: Path
) -> None:
    named = {**NO_SECRET_SERVICE, "PYTHON_KEYRING_BACKEND": PLAINTEXT}
    done = _add(run_sfcred, standin, tmp_path, "acme", named)
    assert done.returncode == 0, done.stderr
    where = Path(sfcred_env["XDG_DATA_HOME"], "python_keyring", "keyring_pass.cfg")
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert str(where) in warnings[0]
    assert where.exists()
    shown = run_sfcred("profile", "show", "acme", env=named)
    assert shown.returncode == 0, shown.stderr
