"""The test keyring backends of sfcred.testing.keyrings behave like the keyrings they stand for.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_keyrings_e2e.py.
"""

from __future__ import annotations

import keyring
import pytest
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError
from keyring.testing.backend import BackendBasicTests

from sfcred.testing.keyrings import (
    WINDOWS_LIMIT,
    FailKeyring,
    FaultyKeyring,
    LimitedKeyring,
    MemoryKeyring,
)


def test_memory_round_trip() -> None:
    backend = MemoryKeyring()
    backend.set_password("svc", "user", "value")
    assert backend.get_password("svc", "user") == "value"
    assert backend.get_password("svc", "other") is None
    backend.delete_password("svc", "user")
    assert backend.get_password("svc", "user") is None


def test_memory_is_shared_by_instances_and_cleared() -> None:
    MemoryKeyring().set_password("svc", "user", "value")
    assert MemoryKeyring().get_password("svc", "user") == "value"
    MemoryKeyring.clear()
    assert MemoryKeyring().get_password("svc", "user") is None


def test_memory_delete_missing_raises() -> None:
    with pytest.raises(PasswordDeleteError):
        MemoryKeyring().delete_password("svc", "nobody")


def test_limited_accepts_up_to_the_windows_limit() -> None:
    assert WINDOWS_LIMIT == 1280
    backend = LimitedKeyring()
    backend.set_password("svc", "user", "x" * 1280)
    assert backend.get_password("svc", "user") == "x" * 1280


def test_limited_refuses_one_more() -> None:
    backend = LimitedKeyring()
    with pytest.raises(PasswordSetError):
        backend.set_password("svc", "user", "x" * 1281)
    assert backend.get_password("svc", "user") is None


def test_fail_keyring_is_locked() -> None:
    backend = FailKeyring()
    with pytest.raises(KeyringLocked):
        backend.get_password("svc", "user")
    with pytest.raises(KeyringLocked):
        backend.set_password("svc", "user", "value")
    with pytest.raises(KeyringLocked):
        backend.delete_password("svc", "user")


def test_fail_keyring_fixture(fail_keyring: FailKeyring) -> None:
    assert keyring.get_keyring() is fail_keyring
    with pytest.raises(KeyringLocked):
        keyring.get_password("svc", "user")


def test_isolation_selects_memory_keyring(keyring_service: str) -> None:
    assert isinstance(keyring.get_keyring(), MemoryKeyring)
    assert keyring_service.startswith("sfcred-test-")


def test_limited_keyring_fixture(limited_keyring: LimitedKeyring) -> None:
    assert keyring.get_keyring() is limited_keyring
    with pytest.raises(PasswordSetError):
        keyring.set_password("svc", "user", "x" * 1281)


class TestMemoryKeyringPassesKeyringsBattery(BackendBasicTests):
    """keyring's test class, the one every real backend subclasses."""

    def init_keyring(self) -> MemoryKeyring:
        return MemoryKeyring()


class TestLimitedKeyringPassesKeyringsBattery(BackendBasicTests):
    """Within its limit, the Windows-like backend is an ordinary keyring."""

    def init_keyring(self) -> LimitedKeyring:
        return LimitedKeyring()


class TestFaultyKeyringWithoutFaultsPassesKeyringsBattery(BackendBasicTests):
    """Until its planned fault, the faulty backend is an ordinary keyring."""

    def init_keyring(self) -> FaultyKeyring:
        return FaultyKeyring(MemoryKeyring())
