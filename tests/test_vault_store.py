"""The fleet store's primitives against a real OpenBao (`bao server -dev` on loopback, started
by .ci/test.sh): KV v2 read / write / check-and-set / list / delete under a prefix, and each
failure named: unreachable, a bad token, a policy that refuses the path."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator

import pytest

from sfcred.errors import InputError
from sfcred.store.vault import CasConflict, Location, StoreUnavailable, VaultKV


@pytest.fixture
def bao(openbao: dict[str, str]) -> dict[str, str]:
    return openbao


@pytest.fixture
def kv(bao: dict[str, str]) -> Iterator[VaultKV]:
    """A store under a prefix of its own, emptied afterwards."""
    store = VaultKV(Location("secret", f"sfcred-test-{secrets.token_hex(4)}"), bao)
    yield store
    for name in store.list():
        store.delete(name)


def test_location_is_parsed_strictly() -> None:
    assert Location.parse("vault://secret/sfcred") == Location("secret", "sfcred")
    assert Location.parse("vault://kv/teams/sfcred/") == Location("kv", "teams/sfcred")
    for bad in ("secret/sfcred", "vault://secret", "vault:///x", "vault://secret/a/../b",
                "https://secret/sfcred", "vault://secret/x?y=1"):
        with pytest.raises(InputError, match="SFCRED_STORE"):
            Location.parse(bad)


def test_write_read_list_delete(kv: VaultKV) -> None:
    assert kv.read("profile-acme") is None
    assert kv.write("profile-acme", {"username": "u@x.com"}) == 1
    entry = kv.read("profile-acme")
    assert entry is not None
    assert (entry.data, entry.version) == ({"username": "u@x.com"}, 1)
    assert kv.write("profile-acme", {"username": "v@x.com"}) == 2
    kv.write("key-acme", {"pem": "not really"})
    assert kv.list() == ["key-acme", "profile-acme"]
    kv.delete("key-acme")
    assert kv.read("key-acme") is None
    assert kv.list() == ["profile-acme"]


def test_check_and_set_lets_exactly_one_writer_win(kv: VaultKV) -> None:
    assert kv.write("lease", {"holder": "a"}, cas=0) == 1
    with pytest.raises(CasConflict):
        kv.write("lease", {"holder": "b"}, cas=0)  # someone holds it already
    assert kv.write("lease", {"holder": "b"}, cas=1) == 2  # took over from version 1
    with pytest.raises(CasConflict):
        kv.write("lease", {"holder": "c"}, cas=1)  # too late: version 2 is current
    entry = kv.read("lease")
    assert entry is not None
    assert entry.data == {"holder": "b"}


def test_an_unreachable_store_is_exit_5_in_bounded_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SFCRED_STORE_TIMEOUT", "1")
    store = VaultKV(Location("secret", "sfcred"),
                    {"VAULT_ADDR": f"http://127.0.0.1:{port}", "VAULT_TOKEN": "t"})
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot reach the store") as e:
        store.read("x")
    assert e.value.exit_code == 5
    assert time.monotonic() - started < 10  # hang guard


def test_a_bad_token_and_a_refusing_policy_are_named(bao: dict[str, str], kv: VaultKV) -> None:
    bad = VaultKV(kv.location, {**bao, "VAULT_TOKEN": "not-a-token"})
    with pytest.raises(StoreUnavailable) as e:
        bad.read("x")
    assert e.value.exit_code == 5
    assert "token" in e.value.message or "permission" in e.value.message
    # A token whose policy allows another prefix only: 403 on ours.
    root = kv.client
    root.sys.create_or_update_policy(name="elsewhere", policy=(
        'path "secret/data/elsewhere/*" { capabilities = ["read", "create", "update"] }'))
    limited = root.auth.token.create(policies=["elsewhere"], ttl="5m")["auth"]["client_token"]
    refused = VaultKV(kv.location, {**bao, "VAULT_TOKEN": limited})
    with pytest.raises(StoreUnavailable, match="permission denied") as denied:
        refused.write("x", {"a": 1})
    assert "policy" in (denied.value.hint or "")


def test_no_address_or_no_client_library_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="VAULT_ADDR"):
        VaultKV(Location("secret", "sfcred"), {}).read("x")
