"""``sfcred profile import-keyring NAME``: a profile and its keys, from the OS keyring into the
fleet store (``SFCRED_STORE=vault://MOUNT/PREFIX``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfcred.errors import ConfigError
from sfcred.profiles.index import check_name

if TYPE_CHECKING:
    from sfcred.profiles.record import Profile
    from sfcred.store.keystore import KeyStore


def copy_profile(name: str, source: KeyStore, target: KeyStore, *, force: bool = False) -> Profile:
    """Copy profile ``name`` and every key it names (active, pending, previous) from
    ``source`` (the OS keyring) into ``target`` (the fleet store), checked by reading back.
    Keys first, the record last: an interrupted copy leaves no record naming a missing key.
    The source is left as it was (the user removes it once the fleet works)."""
    check_name(name)
    profile = source.require_profile(name)
    if not force and target.get_profile(name) is not None:
        raise ConfigError(f"the fleet store already has a profile {name!r}",
                          hint="pass --force to replace it with this machine's")
    kids = [k for k in (profile.keys.active, profile.keys.pending, profile.keys.previous) if k]
    for kid in dict.fromkeys(kids):
        material = source.get_key(name, kid)
        target.put_key(name, material)
        if target.get_key(name, kid).key_id != material.key_id:
            raise ConfigError(f"the fleet store did not keep key {kid} of {name}")
    target.put_profile(profile)
    if target.require_profile(name) != profile:
        raise ConfigError(f"the fleet store did not keep the profile {name}")
    return profile
