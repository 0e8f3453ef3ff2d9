"""store/keystore.py: chunked key material, single-item profile records, keyring errors → exit 5."""

from __future__ import annotations

import json

import pytest
from _support import make_keypair
from keyring.errors import PasswordSetError

from sfcred import keys
from sfcred.errors import ConfigError, KeyringUnavailable
from sfcred.profiles.record import KeySlots, Profile
from sfcred.store.keystore import CHUNK, KeyStore
from sfcred.testing.keyrings import FailKeyring, LimitedKeyring, MemoryKeyring


def _material(bits: int = 2048) -> keys.KeyMaterial:
    return make_keypair(bits, "t").material


@pytest.fixture(scope="module")
def big() -> keys.KeyMaterial:
    return _material(4096)


def test_key_material_round_trips_on_a_backend_that_refuses_long_secrets(
    big: keys.KeyMaterial,
) -> None:
    backend = LimitedKeyring()
    with pytest.raises(PasswordSetError):  # the backend really refuses what sfcred avoids
        backend.set_password("s", "x", "y" * 1281)
    store = KeyStore(backend, "svc")
    kid = store.put_key("p", big)
    got = store.get_key("p", kid)
    assert got.key_pem == big.key_pem
    assert got.cert_pem == big.cert_pem
    items = [v for (svc, _), v in backend.store.items() if svc == "svc"]
    assert len(items) > 4  # 4096-bit key + certificate: several chunks
    assert max(map(len, items)) <= CHUNK


def test_rewriting_a_key_keeps_the_old_chunks_until_the_manifest_moves(
    big: keys.KeyMaterial,
) -> None:
    backend = MemoryKeyring()
    store = KeyStore(backend, "svc2")
    kid = store.put_key("p", big)
    before = {k for k in backend.store if k[0] == "svc2"}
    store.put_key("p", big)
    after = {k for k in backend.store if k[0] == "svc2"}
    assert len(after) == len(before)  # old chunks removed once the new manifest was written
    assert after != before
    assert store.get_key("p", kid).key_pem == big.key_pem


def test_a_damaged_chunk_is_detected(big: keys.KeyMaterial) -> None:
    backend = MemoryKeyring()
    store = KeyStore(backend, "svc3")
    kid = store.put_key("p", big)
    manifest = json.loads(backend.store[("svc3", f"key:p:{kid}")])
    backend.store[("svc3", f"key:p:{kid}:{manifest['tag']}:0")] = "tampered"
    with pytest.raises(ConfigError, match="damaged"):
        store.get_key("p", kid)


def test_delete_key_removes_every_item(big: keys.KeyMaterial) -> None:
    backend = MemoryKeyring()
    store = KeyStore(backend, "svc4")
    kid = store.put_key("p", big)
    store.delete_key("p", kid)
    store.delete_key("p", kid)  # idempotent
    assert not [k for k in backend.store if k[0] == "svc4"]


def test_profile_record_is_one_item() -> None:
    backend = MemoryKeyring()
    store = KeyStore(backend, "svc5")
    p = Profile("p", "cid", "u@x", "https://login.salesforce.com",
                "https://login.salesforce.com", KeySlots("k1"))
    store.put_profile(p)
    assert store.get_profile("p") == p
    assert [k for k in backend.store if k[0] == "svc5"] == [("svc5", "profile:p")]
    with pytest.raises(ConfigError, match="no profile named"):
        store.require_profile("other")


def test_a_locked_keyring_is_exit_5_with_ways_out() -> None:
    store = KeyStore(FailKeyring(), "svc6")
    with pytest.raises(KeyringUnavailable) as info:
        store.get_profile("p")
    assert info.value.exit_code == 5
    assert "locked" in info.value.message
    assert "PYTHON_KEYRING_BACKEND" in (info.value.hint or "")


def test_no_backend_at_all_is_exit_5() -> None:
    from keyring.backends.fail import Keyring as Fail

    with pytest.raises(KeyringUnavailable, match="no usable keyring"):
        KeyStore(Fail(), "svc7").probe()


def test_cache_key_is_written_once() -> None:
    backend = MemoryKeyring()
    store = KeyStore(backend, "svc8")
    first = store.cache_key()
    assert len(first) == 32
    assert store.cache_key() == first


def test_a_transient_backend_failure_is_tried_again() -> None:
    from keyring.errors import InitError

    class Flaky(MemoryKeyring):
        failures = 2

        def get_password(self, service: str, username: str) -> str | None:
            if Flaky.failures:
                Flaky.failures -= 1
                raise InitError("Failed to create the collection: Prompt dismissed..")
            return super().get_password(service, username)

    pauses: list[float] = []
    store = KeyStore(Flaky(), "svc9", sleep=pauses.append)
    assert store.get_profile("p") is None
    assert len(pauses) == 2


def test_a_persistent_failure_is_exit_5_after_the_tries_and_locked_is_final_at_once() -> None:
    from keyring.errors import InitError

    class Broken(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise InitError("Failed to create the collection: Prompt dismissed..")

    pauses: list[float] = []
    with pytest.raises(KeyringUnavailable, match="Prompt dismissed"):
        KeyStore(Broken(), "svc10", sleep=pauses.append).get_profile("p")
    assert len(pauses) == 2
    pauses.clear()
    with pytest.raises(KeyringUnavailable, match="locked"):
        KeyStore(FailKeyring(), "svc11", sleep=pauses.append).get_profile("p")
    assert pauses == []


def test_backends_known_to_take_long_secrets_get_one_chunk(big: keys.KeyMaterial) -> None:
    class LikeSecretService(MemoryKeyring):
        pass

    LikeSecretService.__module__ = "keyring.backends.SecretService"
    backend = LikeSecretService()
    store = KeyStore(backend, "svc12")
    kid = store.put_key("p", big)
    assert len([k for k in backend.store if k[0] == "svc12"]) == 2  # manifest + one chunk
    assert store.get_key("p", kid).key_pem == big.key_pem
