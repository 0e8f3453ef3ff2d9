"""A Secret Service that is present but locked, with no way to show an unlock prompt (a
headless server, CI): sfcred must fail fast with exit 5 and say the ways out, never hang."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

SCRIPT = r"""
export XDG_DATA_HOME=$(mktemp -d)
eval "$(gnome-keyring-daemon --start --components=secrets </dev/null 2>/dev/null)"
export GNOME_KEYRING_CONTROL
export PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring
exec "$@"
"""


@pytest.mark.secret_service  # needs dbus-run-session and gnome-keyring, as CI has them
def test_a_locked_keyring_without_a_prompt_is_exit_5_at_once(sfcred_bin, sfcred_env) -> None:
    runner = shutil.which("dbus-run-session", path=sfcred_env["PATH"])
    assert runner, "dbus-run-session is installed by .ci/test.sh"
    env = {k: v for k, v in sfcred_env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    start = time.monotonic()
    done = subprocess.run(
        [runner, "--", "bash", "-c", SCRIPT, "locked", *sfcred_bin, "profile", "add", "x",
         "--client-id", "c", "--username", "u@x.com", "--generate-key"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert done.returncode == 5, done.stderr
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.startswith("sfcred:")]
    assert lines[0].startswith("sfcred: the keyring")
    assert "PYTHON_KEYRING_BACKEND" in lines[1]
    assert elapsed < 60  # a hang would hit the timeout instead
