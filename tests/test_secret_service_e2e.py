"""The real Secret Service works in the test setup, and CI never skips the tests that need it.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_secret_service.py).
"""

from __future__ import annotations

from typing import Any

import keyring
import pytest
from _support import purge_secret_service

LONG = 3300  # longer than any PEM key sfcred stores in one item


@pytest.mark.secret_service
def test_round_trip_of_a_long_secret(secret_service: Any, keyring_service: str) -> None:
    backend = keyring.get_keyring()
    assert backend is secret_service
    assert type(backend).__module__ == "keyring.backends.SecretService"
    value = "".join(chr(0x21 + i % 94) for i in range(LONG))

    keyring.set_password(keyring_service, "round-trip", value)
    assert keyring.get_password(keyring_service, "round-trip") == value
    keyring.delete_password(keyring_service, "round-trip")
    assert keyring.get_password(keyring_service, "round-trip") is None


@pytest.mark.secret_service
def test_purge_removes_the_tests_items_only(keyring_service: str) -> None:
    """What the fixture's teardown does: every item under the test's service goes, others stay."""
    other = f"{keyring_service}-not-a-prefix"[::-1]
    keyring.set_password(keyring_service, "a", "value")
    keyring.set_password(f"{keyring_service}/sub", "b", "value")
    keyring.set_password(other, "c", "value")
    try:
        assert purge_secret_service(keyring_service) == 2
        assert keyring.get_password(keyring_service, "a") is None
        assert keyring.get_password(f"{keyring_service}/sub", "b") is None
        assert keyring.get_password(other, "c") == "value"
    finally:
        assert purge_secret_service(other) == 1


@pytest.mark.secret_service
def test_reads_share_one_connection_and_answer_as_get_password(
    secret_service: Any, keyring_service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mint reads three items; keyring's backend opens a D-Bus connection and an encrypted
    session for each. sfcred's reads (store.secretservice.Reads) open one of each, and
    answer exactly what get_password answers."""
    import secretstorage
    import secretstorage.item

    from sfcred.store.keystore import KeyStore

    for name, value in (("profile:a", "{}"), ("key:a:1", "x" * LONG), ("odd", "é\n\t")):
        keyring.set_password(keyring_service, name, value)
    opened: list[object] = []
    real = secretstorage.dbus_init

    def counting() -> object:
        opened.append(1)
        return real()

    sessions: list[object] = []
    real_session = secretstorage.item.open_session  # type: ignore[attr-defined]

    def counting_session(connection: object) -> object:
        sessions.append(1)
        return real_session(connection)

    monkeypatch.setattr(secretstorage, "dbus_init", counting)
    monkeypatch.setattr(secretstorage.item, "open_session", counting_session)
    store = KeyStore(service=keyring_service)
    got = [store._get(n) for n in ("profile:a", "key:a:1", "odd", "missing")]
    assert len(opened) == 1
    assert len(sessions) == 1
    monkeypatch.setattr(secretstorage, "dbus_init", real)
    assert got == [keyring.get_password(keyring_service, n)
                   for n in ("profile:a", "key:a:1", "odd", "missing")]
    assert got[3] is None
    keyring.delete_password(keyring_service, "odd")  # deleted meanwhile: a miss, not an error
    assert store._get("odd") is None
