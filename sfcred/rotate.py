"""Key rotation as a narrated sequence in which every step leaves a working key.

A profile names its keys by id in three slots (active, pending, previous) inside ONE keyring
item, the profile record. Key material is written before the record points at it and deleted
only after the record stops pointing at it, so a crash or a keyring error between any two
writes leaves the profile minting with the key that worked before, or with the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sfcred.errors import SalesforceRefused
from sfcred.profiles import KeySlots, Profile

if TYPE_CHECKING:
    from sfcred.jwt_bearer import Token, TokenClient
    from sfcred.keystore import KeyStore


def _is_key_mismatch(e: SalesforceRefused) -> bool:
    return "invalid assertion" in e.description.lower()


def mint_with_rotation(
    store: KeyStore, client: TokenClient, profile: Profile, note: Callable[[str], None]
) -> tuple[Token, Profile]:
    """Mint with the active key; while a key is pending, a key mismatch tries the pending key
    and promotes it when Salesforce takes it: the admin's upload is the cut-over."""
    active = store.get_key(profile.name, profile.keys.active)
    try:
        return client.mint(profile, active.key_pem), profile
    except SalesforceRefused as e:
        if profile.keys.pending is None or not _is_key_mismatch(e):
            raise
        pending = store.get_key(profile.name, profile.keys.pending)
        try:
            token = client.mint(profile, pending.key_pem)
        except SalesforceRefused:
            raise e from None  # the active key's refusal is the one that explains the state
    promoted = promote(store, profile)
    note(
        f"profile {profile.name}: Salesforce accepted the pending key, which is now active "
        "(the old key is kept as previous for `sfcred rotate --rollback`)"
    )
    return token, promoted


def promote(store: KeyStore, profile: Profile) -> Profile:
    assert profile.keys.pending is not None
    stale = profile.keys.previous
    new = profile.changed(
        keys=KeySlots(active=profile.keys.pending, pending=None, previous=profile.keys.active)
    )
    store.put_profile(new)  # the single write that switches keys
    if stale and stale not in (new.keys.active, new.keys.previous):
        store.delete_key(profile.name, stale)
    return new
