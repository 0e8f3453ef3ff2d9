"""Keyring backends for tests and the demo (select with ``PYTHON_KEYRING_BACKEND``).

- ``MemoryKeyring``: a dict, shared by every instance in one process. Fast unit tests and the
  demo when the OS has no usable keyring.
- ``LimitedKeyring``: like ``MemoryKeyring`` but refuses secrets over 1,280 characters, as
  Windows Credential Manager does, so tests prove sfcred stores keys on such a backend.
- ``FailKeyring``: every call raises ``keyring.errors.KeyringLocked``: the locked-keyring path.
"""

from __future__ import annotations

from typing import ClassVar

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError

WINDOWS_LIMIT = 1280


class MemoryKeyring(KeyringBackend):
    priority = 0.1  # never chosen unless asked for by name
    store: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("no such password") from None

    @classmethod
    def clear(cls) -> None:
        cls.store.clear()


class LimitedKeyring(MemoryKeyring):
    limit = WINDOWS_LIMIT

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password) > self.limit:
            raise PasswordSetError(f"secret of {len(password)} characters exceeds {self.limit}")
        super().set_password(service, username, password)


class FailKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the test keyring is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the test keyring is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the test keyring is locked")
