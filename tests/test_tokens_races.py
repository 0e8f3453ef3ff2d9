"""Tokens.get against rotation steps run by processes outside its lock (another runtime dir,
a cron job with the sealed cache): keys named by the record it read may vanish mid-mint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from sfcred.errors import ConfigError
from sfcred.keys import KeyMaterial
from sfcred.profiles import manage
from sfcred.profiles.index import IndexFile
from sfcred.rotation import lifecycle
from sfcred.salesforce.oauth import TokenClient
from sfcred.store.keystore import KeyStore
from sfcred.testing.keyrings import MemoryKeyring
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.flight import Tokens

USER = "race@example.com"


class ConcurrentRotation(KeyStore):
    """Runs ``other`` (another process's rotation step) right before the first key read."""

    def __init__(self, other: Any) -> None:
        super().__init__(MemoryKeyring(), "race")
        self.other = other

    def get_key(self, name: str, kid: str) -> KeyMaterial:
        other, self.other = self.other, None
        if other is not None:
            other(KeyStore(self.backend, self.service))
        return super().get_key(name, kid)


def _helper(store: KeyStore, tmp_path: Path, sf: FakeSalesforce) -> Tokens:
    index = IndexFile(str(tmp_path / "profiles.json"))
    manage.add(manage.NewProfile("p", "cid", USER, sf.url, generate_bits=2048), store, index,
               None)
    sf.add_app("cid", store.get_key("p", store.require_profile("p").keys.active).cert_pem)
    sf.add_user(USER)
    sf.preauthorize("cid", USER)
    return Tokens(index=index, store=lambda: store, cache=lambda: TokenCache(tmp_path / "c"),
                  client=lambda: TokenClient(httpx.Client(timeout=5)))


def test_a_key_deleted_by_a_concurrent_rotation_is_read_again(tmp_path: Path) -> None:
    def rotate_and_activate(other: KeyStore) -> None:
        # Another process: start a rotation, the admin uploads, it activates, and a second
        # rotation cycle drops the key our record still names as active.
        for _ in range(2):
            new, cert = lifecycle.start(other, other.require_profile("p"), None, 30, force=False)
            sf.upload_certificate("cid", cert)
            lifecycle.promote(other, new)

    with FakeSalesforce() as sf:
        store = ConcurrentRotation(None)
        helper = _helper(store, tmp_path, sf)
        first = store.require_profile("p").keys.active
        store.other = rotate_and_activate
        entry = helper.get("p")
        assert sf.valid_token(entry.access_token.reveal())
        assert store.require_profile("p").keys.active != first
        with pytest.raises(ConfigError, match="missing"):
            store.get_key("p", first)  # it really was gone when the get read it


def test_a_missing_key_with_an_unchanged_record_is_still_an_error(tmp_path: Path) -> None:
    def delete_active(other: KeyStore) -> None:
        other.delete_key("p", other.require_profile("p").keys.active)

    with FakeSalesforce() as sf:
        store = ConcurrentRotation(None)
        helper = _helper(store, tmp_path, sf)
        store.other = delete_active
        with pytest.raises(ConfigError, match="missing from the keyring"):
            helper.get("p")


def test_an_item_deleted_between_search_and_read_is_not_there() -> None:
    class ItemNotFoundException(Exception):  # secretstorage's name
        pass

    class Vanishing(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise ItemNotFoundException("Item does not exist!")

    assert KeyStore(Vanishing(), "race").get_profile("p") is None


def test_a_stale_token_is_served_while_the_keyring_is_locked(tmp_path: Path) -> None:
    from sfcred.errors import KeyringUnavailable
    from sfcred.secret import Secret
    from sfcred.testing.keyrings import FailKeyring
    from sfcred.tokens.entry import Entry, State

    notes: list[str] = []
    index = IndexFile(str(tmp_path / "profiles.json"))
    with index.edit() as idx:
        from sfcred.profiles.index import IndexEntry

        idx.profiles["p"] = IndexEntry("login.salesforce.com", USER)
    cache = TokenCache(tmp_path / "c")
    now = 10_000.0
    stale = Entry("p", USER, Secret("00Dstale!tok"), "https://a.my.salesforce.com",
                  now - 880, now + 20, 60)
    assert stale.state(now) == State.STALE
    cache.write(stale)
    helper = Tokens(index=index, store=lambda: KeyStore(FailKeyring(), "locked"),
                    cache=lambda: cache, client=lambda: TokenClient(), clock=lambda: now,
                    note=notes.append)
    assert helper.get("p") == stale
    assert notes == ["the keyring is unavailable; serving the cached token until it expires"]
    cache.write(Entry("p", USER, Secret("00Dold!tok"), "https://a.my.salesforce.com",
                      now - 1000, now - 1, 60))  # EXPIRED: never served
    with pytest.raises(KeyringUnavailable):
        helper.get("p")
