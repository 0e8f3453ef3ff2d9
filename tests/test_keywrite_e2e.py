"""Where keys and profiles are written (``store.writes``): keyring's own choice now, never the
remembered one, and never a plaintext file keyring fell back to unless the user named it.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_keywrite.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sfcred.store import keyfind, keyrecord

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


def _add(run: Any, standin: Any, tmp_path: Path, name: str,
         env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    from _e2e import add_profile

    def run_env(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run(*args, env=env, **kw)
        return done

    done, _cert = add_profile(run_env, standin, tmp_path, name, check=False)
    return done


def _record(sfcred_env: dict[str, str]) -> Path:
    records = list(Path(sfcred_env["XDG_RUNTIME_DIR"], "sfcred").glob(f"{keyrecord.RECORD}*"))
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


PROGRAM = """
import sys

import keyring

if sys.argv[1] == "sets":
    from keyrings.alt.file import PlaintextKeyring

    keyring.set_keyring(PlaintextKeyring())  # the program names its backend
else:
    keyring.get_keyring()  # the program uses keyring, and leaves the choice to keyring
from sfcred.cli import main

sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("program", ["uses", "sets"])
def test_a_program_that_uses_keyring_names_a_file_backend_only_by_setting_it(
    sfcred_env: dict[str, str], standin: Any, tmp_path: Path, program: str
) -> None:
    """A Python program that loaded keyring itself: a plaintext file keyring's discovery
    chose for it is refused as for the command (nobody named it), while the same backend set
    with ``keyring.set_keyring`` is the program's choice, written with a warning. Told apart
    with keyring's public names only (``keyfind``)."""
    import sys

    env = {k: v for k, v in sfcred_env.items()
           if k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")}

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", PROGRAM, program, *args],
                              env=env, cwd=env["HOME"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60, check=False)

    done = _add(lambda *a, env=None, **kw: run(*a), standin, tmp_path, "acme", {})
    where = Path(sfcred_env["XDG_DATA_HOME"], "python_keyring", "keyring_pass.cfg")
    if program == "uses":
        assert done.returncode == 5, done.stderr
        assert "named by nobody" in done.stderr.splitlines()[0]
        assert not where.exists()
    else:
        assert done.returncode == 0, done.stderr
        warnings = [line for line in done.stderr.splitlines() if "warning" in line]
        assert len(warnings) == 1
        assert "keyring.set_keyring" in warnings[0]
        assert where.exists()
