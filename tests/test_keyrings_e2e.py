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


def backend_in_a_child(env: dict[str, str]) -> str:
    """The class name of the backend keyring chooses in a child process with ``env``."""
    code = "import keyring; print(type(keyring.get_keyring()).__name__)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=True)
    return done.stdout.strip()


def test_backends_load_by_name_in_a_child(sfcred_env: dict[str, str]) -> None:
    """PYTHON_KEYRING_BACKEND from the test environment reaches a child process."""
    assert backend_in_a_child(sfcred_env) == "MemoryKeyring"


def test_limited_keyring_by_name_in_a_child(
    limited_keyring: LimitedKeyring, sfcred_env: dict[str, str]
) -> None:
    assert backend_in_a_child(sfcred_env) == "LimitedKeyring"
