"""profiles/manage.py in process (memory keyring): re-adding without a key keeps its keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfcred.errors import InputError
from sfcred.profiles import manage
from sfcred.profiles.index import IndexFile
from sfcred.rotation import lifecycle as rotate
from sfcred.store.keystore import KeyStore
from sfcred.tokens.cache import TokenCache


def _new(**kw: object) -> manage.NewProfile:
    base: dict[str, object] = {"name": "p", "client_id": "cid", "username": "u@x.com",
                               "login_url": "https://acme.my.salesforce.com"}
    base.update(kw)
    return manage.NewProfile(**base)  # type: ignore[arg-type]


def test_force_without_a_key_changes_settings_and_keeps_every_key(tmp_path: Path) -> None:
    store = KeyStore()
    index = IndexFile(str(tmp_path / "profiles.json"))
    cache = TokenCache(tmp_path / "cache")
    first = manage.add(_new(generate_bits=2048), store, index, cache)
    with index.edit() as idx:
        idx.profiles["p"].instance_host = "acme.my.salesforce.com"
    pending, _ = rotate.start(store, first.profile, None, 30, force=False)
    again = manage.add(_new(audience="https://test.salesforce.com", force=True),
                       store, index, cache)
    assert again.fingerprint == first.fingerprint
    assert again.profile.keys == pending.keys
    assert again.profile.audience == "https://test.salesforce.com"
    assert again.profile.revision > pending.revision
    assert store.get_key("p", pending.keys.pending or "").cert_pem  # the pending key survived
    assert index.load().profiles["p"].instance_host == "acme.my.salesforce.com"


def test_a_new_profile_needs_a_key(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--key-file PATH or --generate-key"):
        manage.add(_new(force=True), KeyStore(), IndexFile(str(tmp_path / "i.json")), None)
