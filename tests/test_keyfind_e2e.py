"""keyring's backend choice, remembered (``keyfind``), and reads that skip keyring itself
(``store.secretservice``): the user's choice always wins, and every answer is keyring's own.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_keyfind.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import keyring
import pytest
from _support import counting_imports

from sfcred.store import keyfind, keyrecord
from sfcred.store.secretservice import Reads

MEMORY = "sfcred.testing.keyrings.MemoryKeyring"


@pytest.mark.secret_service
def test_direct_reads_answer_as_keyring_over_one_connection_without_it(
    secret_service: Any, keyring_service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With keyring's own choice being the Secret Service, items are read with secretstorage
    directly: the answers are get_password's, over one connection and one session, and the
    backend is never loaded. With KEYRING_PROPERTY_SCHEME set, reads go through keyring."""
    import secretstorage
    import secretstorage.item

    names = ("profile:a", "key:a:1", "odd", "missing")
    for name, value in (("profile:a", "{}"), ("key:a:1", "x" * 3000), ("odd", "é\n\t")):
        keyring.set_password(keyring_service, name, value)
    expected = [keyring.get_password(keyring_service, n) for n in names]
    assert expected[0] == "{}"
    assert expected[3] is None
    monkeypatch.setattr(keyfind, "_loaded", lambda: False)  # as in the sfcred command
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", keyfind.SECRET_SERVICE)
    counts = {"connections": 0, "sessions": 0}
    real_init, real_session = secretstorage.dbus_init, secretstorage.item.open_session  # type: ignore[attr-defined]

    def init() -> Any:
        counts["connections"] += 1
        return real_init()

    def session(connection: Any) -> Any:
        counts["sessions"] += 1
        return real_session(connection)

    monkeypatch.setattr(secretstorage, "dbus_init", init)
    monkeypatch.setattr(secretstorage.item, "open_session", session)
    loads: list[int] = []

    def backend() -> Any:
        loads.append(1)
        return secret_service

    reads = Reads()
    assert [reads.get(backend, keyring_service, n) for n in names] == expected
    assert counts == {"connections": 1, "sessions": 1}
    assert loads == []
    monkeypatch.setenv("KEYRING_PROPERTY_SCHEME", "default")  # any property: keyring's path
    other = Reads()
    assert [other.get(backend, keyring_service, n) for n in names] == expected
    assert loads


@pytest.mark.secret_service
def test_a_cold_get_with_the_remembered_secret_service_imports_no_keyring(
    run_sfcred: Any, sfcred_env: dict[str, str], standin: Any, tmp_path: Path
) -> None:
    """No PYTHON_KEYRING_BACKEND: the first process runs keyring's discovery and remembers
    the Secret Service; a later cold get (mint included) never imports keyring, and never
    the macOS backend that keyring's discovery imports on Linux."""
    from _e2e import setup_org

    no_choice = {"PYTHON_KEYRING_BACKEND": None}

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, env=no_choice, **kw)
        return done

    setup_org(run, standin, tmp_path)
    first = run("get", "-p", "acme", "--format", "token")
    assert first.returncode == 0, first.stderr
    records = list(Path(sfcred_env["XDG_RUNTIME_DIR"], "sfcred").glob(f"{keyrecord.RECORD}*"))
    assert len(records) == 1
    runtime = records[0]
    assert json.loads(runtime.read_text())["backend"] == keyfind.SECRET_SERVICE
    assert run("erase", "-p", "acme").returncode == 0
    env = {k: v for k, v in counting_imports(sfcred_env).items()
           if k != "PYTHON_KEYRING_BACKEND"}
    cold = subprocess.run(
        [sys.executable, "-X", "importtime", str(Path(sys.executable).parent / "sfcred"),
         "get", "-p", "acme", "--format", "token"],
        env=env, capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert cold.returncode == 0, cold.stderr[-2000:]
    assert cold.stdout.strip()
    assert cold.stdout != first.stdout
    imported = {line.split("|")[-1].strip() for line in cold.stderr.splitlines()
                if line.startswith("import time:")}
    assert "secretstorage" in imported
    assert "httpx" in imported
    assert not {m for m in imported if m == "keyring" or m.startswith("keyring.")}

    # doctor forgets the record: it reports keyring's own choice, found afresh, even when the
    # record names another backend (here one that holds nothing)
    runtime.write_text(json.dumps({**json.loads(runtime.read_text()), "backend": MEMORY}))
    runtime.chmod(0o600)
    doctor = run("doctor", "acme", "--offline")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "keyring.backends.SecretService.Keyring: write, read and delete work" in doctor.stdout
    assert json.loads(runtime.read_text())["backend"] == keyfind.SECRET_SERVICE
