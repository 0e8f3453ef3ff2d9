"""Where keys and profiles are written (``store.writes``): keyring's own choice now, never the
remembered one, and never a plaintext file keyring fell back to unless the user named it.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_keywrite_e2e.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest
from keyring.backends.chainer import ChainerBackend
from keyrings.alt.file import PlaintextKeyring

from sfcred.errors import KeyringUnavailable
from sfcred.profiles.record import KeySlots, Profile
from sfcred.store import keyfind
from sfcred.store.keystore import KeyStore
from sfcred.testing.keyrings import MemoryKeyring

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
PROFILE = Profile("p", "cid", "u@x", "https://login.salesforce.com",
                  "https://login.salesforce.com", KeySlots("k1"))


def plaintext_file() -> Path:
    """Where keyrings.alt's PlaintextKeyring keeps its items under this test's XDG folders."""
    return Path(os.environ["XDG_DATA_HOME"], "python_keyring", "keyring_pass.cfg")


@pytest.fixture
def nobody_named(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """No PYTHON_KEYRING_BACKEND, no keyringrc.cfg, keyring not loaded by the program (as in
    the sfcred command): keyring's discovery decides, and finds the backends the test puts in
    the returned list."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyfind, "_loaded", lambda: False)
    found: list[Any] = []
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: found)
    return found


def program_sets(monkeypatch: pytest.MonkeyPatch, backend: Any) -> None:
    """A program that uses keyring itself names ``backend`` with ``keyring.set_keyring``."""
    keyring.set_keyring(backend)
    monkeypatch.setattr(keyfind, "_loaded", lambda: True)


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
    program_sets(monkeypatch, MemoryKeyring())  # a program's own choice: named
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
        program_sets(monkeypatch, PlaintextKeyring())
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


def test_a_file_backend_keyring_chose_for_a_program_is_not_named_by_it(
    nobody_named: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that uses keyring itself but names no backend: keyring's discovery made the
    choice (the very instance ``get_all_keyring`` made), so a plaintext fallback is refused
    as it is for the sfcred command; the same class set by the program is its choice."""
    fallback = PlaintextKeyring()
    nobody_named.append(fallback)
    program_sets(monkeypatch, fallback)  # what keyring's init_backend does for the program
    with pytest.raises(KeyringUnavailable, match="named by nobody"):
        KeyStore(service="svc-d").put_profile(PROFILE)
    assert not plaintext_file().exists()
    program_sets(monkeypatch, PlaintextKeyring())
    notes: list[str] = []
    KeyStore(service="svc-d", note=notes.append).put_profile(PROFILE)
    assert "keyring.set_keyring" in notes[0]
    assert plaintext_file().exists()
