"""The test keyring backends of sfcred.testing.keyrings behave like the keyrings they stand for.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_keyrings.py).
"""

from __future__ import annotations

import subprocess
import sys

from sfcred.testing.keyrings import (
    LimitedKeyring,
)


def test_backends_load_by_name_in_a_child(sfcred_env: dict[str, str]) -> None:
    """PYTHON_KEYRING_BACKEND from the test environment reaches a child process."""
    code = "import keyring; print(type(keyring.get_keyring()).__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=sfcred_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "MemoryKeyring"


def test_limited_keyring_by_name_in_a_child(
    limited_keyring: LimitedKeyring, sfcred_env: dict[str, str]
) -> None:
    code = "import keyring; print(type(keyring.get_keyring()).__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=sfcred_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "LimitedKeyring"
