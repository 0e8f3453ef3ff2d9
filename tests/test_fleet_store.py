"""Fleet mode's store: profiles and keys live in a real OpenBao (KV v2), not in an OS keyring.
Simulated machines (separate HOME / XDG folders, a keyring that fails every call): a profile
added on one is listed and used on another, never configured; docs/fleet.md's least-privilege
policy is enough for a profile's whole life; doctor checks the store (reachable, token,
policy, clock); ``profile import-keyring`` moves a keyring profile in.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_fleet_store_e2e.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _e2e import new_client_id

from sfcred.errors import ConfigError
from sfcred.profiles.index import IndexFile
from sfcred.store.vault import Location, VaultKV

USER = "fleet@example.com"


class StubKV:
    """The three answers doctor's store check reads, with a server clock of our choosing."""

    location = Location("secret", "sfcred")
    address = "http://127.0.0.1:8200"

    def __init__(self, server_time: float) -> None:
        self.server_time = server_time

    def status(self) -> dict[str, object]:
        return {"version": "2.7.2", "server_time_utc": int(self.server_time)}

    def token_info(self) -> dict[str, object]:
        return {"ttl": 3600, "policies": ["sfcred"]}

    def capabilities(self, names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        return {n: ("create", "read", "update", "list", "delete") for n in names}


@pytest.mark.unit
@pytest.mark.parametrize(("skew", "status"), [(0.0, "ok"), (8.0, "warn"), (-8.0, "warn"),
                                               (40.0, "fail"), (-40.0, "fail")])
def test_doctor_compares_the_clock_with_the_stores(skew: float, status: str) -> None:
    from sfcred.doctor.store import store_check

    now = 1_800_000_000.0
    check = store_check(StubKV(now - skew), clock=lambda: now)  # type: ignore[arg-type]
    assert check.status == status, check.detail
    if status != "ok":
        assert ("ahead of" if skew > 0 else "behind") in check.detail
        assert "NTP" in (check.fix or "")
    assert "expires in 60 min" in check.detail


@pytest.mark.unit
def test_import_keyring_copies_every_key_and_writes_the_record_last(
    rsa_keypair, fleet: dict[str, str], tmp_path: Path
) -> None:
    from sfcred.fleet import copy as fleetcopy
    from sfcred.profiles import manage
    from sfcred.rotation import lifecycle
    from sfcred.store.keystore import KeyStore
    from sfcred.store.vault import VaultBackend
    from sfcred.testing.keyrings import MemoryKeyring

    source = KeyStore(backend=MemoryKeyring())
    req = manage.NewProfile(name="acme", client_id=new_client_id(), username=USER,
                            login_url="https://login.salesforce.com",
                            key_data=rsa_keypair().key_pem.encode())
    manage.add(req, source, IndexFile(str(tmp_path / "profiles.json")), None)
    lifecycle.start(source, source.require_profile("acme"), None, 30, False)  # a pending key too
    writes: list[str] = []
    target = KeyStore(backend=VaultBackend(VaultKV(Location.parse(fleet["SFCRED_STORE"]),
                                                   fleet)))
    real_set = target.backend.set_password

    def spy(service: str, item: str, value: str) -> None:
        writes.append(item)
        real_set(service, item, value)

    target.backend.set_password = spy
    copied = fleetcopy.copy_profile("acme", source, target)
    assert copied.keys.pending is not None
    assert writes[-1] == "profile:acme"  # the record after every key
    assert target.require_profile("acme") == source.require_profile("acme")
    for kid in (copied.keys.active, copied.keys.pending):
        assert target.get_key("acme", kid).key_id == source.get_key("acme", kid).key_id
    with pytest.raises(ConfigError, match="already has a profile"):
        fleetcopy.copy_profile("acme", source, target)
    fleetcopy.copy_profile("acme", source, target, force=True)
    with pytest.raises(ConfigError, match="no profile named"):
        fleetcopy.copy_profile("other", source, target)
