"""profiles/manage.py in process (memory keyring): re-adding without a key keeps its keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfcred.commands import showing
from sfcred.errors import InputError
from sfcred.profiles import manage
from sfcred.profiles.index import IndexFile
from sfcred.rotation import lifecycle
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
    pending, _ = lifecycle.start(store, first.profile, None, 30, force=False)
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


def _made(tmp_path: Path) -> tuple[KeyStore, IndexFile, TokenCache, manage.Added]:
    from sfcred.testing.keyrings import MemoryKeyring

    store = KeyStore(MemoryKeyring(), "manage-unit")
    index = IndexFile(str(tmp_path / "profiles.json"))
    cache = TokenCache(tmp_path / "cache")
    return store, index, cache, manage.add(_new(generate_bits=2048, make_default=True),
                                           store, index, cache)


def test_remove_leaves_no_trace_and_is_refused_for_an_unknown_name(tmp_path: Path) -> None:
    from sfcred.errors import ConfigError

    store, index, cache, added = _made(tmp_path)
    lifecycle.start(store, added.profile, None, 30, force=False)
    kids = [k for k in (store.require_profile("p").keys.active,
                        store.require_profile("p").keys.pending) if k]
    assert len(kids) == 2
    assert manage.remove("p", store, index, cache) is True
    assert store.get_profile("p") is None
    for kid in kids:
        with pytest.raises(ConfigError):
            store.get_key("p", kid)
    assert index.load().profiles == {}
    assert index.load().default is None
    with pytest.raises(ConfigError, match="no profile named 'p'"):
        manage.remove("p", store, index, cache)


def test_show_and_list_say_everything_but_the_key(tmp_path: Path) -> None:
    store, index, _, added = _made(tmp_path)
    shown = showing.show("p", store, index)
    assert shown["default"] is True
    assert [k["slot"] for k in shown["keys"]] == ["active"]
    assert shown["keys"][0]["fingerprint"] == added.fingerprint
    assert added.material.key_pem.reveal() not in repr(shown)
    assert "PRIVATE KEY" not in repr(shown)
    assert manage.listing(index) == [{"name": "p", "default": True, "username": "u@x.com",
                                      "login_host": "acme.my.salesforce.com",
                                      "instance_host": None}]


def test_default_and_cert_refuse_what_is_not_there(tmp_path: Path) -> None:
    from sfcred.errors import ConfigError

    store, index, _, added = _made(tmp_path)
    with pytest.raises(ConfigError, match="no profile named 'q'"):
        manage.set_default("q", index)
    with pytest.raises(ConfigError, match="no pending key"):
        manage.cert("p", store, pending=True)
    assert manage.cert("p", store) == added.material.cert_pem
