"""Key rotation as a narrated sequence in which every step leaves a working key.

A profile names its keys by id in three slots (active, pending, previous) inside ONE keyring
item, the profile record. Key material is written before the record points at it and deleted
only after the record stops pointing at it, so a crash or a keyring error between any two
writes leaves the profile minting with the key that worked before, or with the new one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from sfcred.errors import SalesforceRefused
from sfcred.profiles.record import KeySlots, Profile
from sfcred.salesforce.refusals import Refusal

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial
    from sfcred.salesforce.oauth import Token, TokenClient
    from sfcred.store.base import Store


def _is_key_mismatch(e: SalesforceRefused) -> bool:
    """Salesforce does not know this key (JWT) or this consumer secret (client credentials):
    the refusal another slot may cure."""
    return e.refusal in (Refusal.KEY_MISMATCH, Refusal.CLIENT_SECRET)


def mint_with_rotation(
    store: Store, client: TokenClient, profile: Profile, note: Callable[[str], None]
) -> tuple[Token, Profile]:
    """Mint with the active key. When Salesforce says it does not know that key ("invalid
    assertion"), try the other keys the profile holds, in this order:

    - the pending key: Salesforce taking it means the admin uploaded its certificate, which
      is the cut-over; it is promoted at once (one record write). If the keyring refuses that
      write the token is still returned and the next mint promotes again.
    - the previous key: the admin re-uploaded the old certificate (a rollback under way, in
      either order with ``--rollback``); it is used and nothing is written.

    When neither works the active key's refusal is raised: it is the one that explains."""
    active = store.get_key(profile.name, profile.keys.active)
    try:
        return client.mint(profile, active), profile
    except SalesforceRefused as e:
        if not _is_key_mismatch(e):
            raise
        refusal = e
    for slot, kid in (("pending", profile.keys.pending), ("previous", profile.keys.previous)):
        if kid is None:
            continue
        material = store.get_key(profile.name, kid)
        try:
            token = client.mint(profile, material)
        except SalesforceRefused:
            continue
        if slot == "pending":
            return token, _promote_after_mint(store, profile, note)
        what = "secret" if profile.client_credentials else "key"
        note(
            f"profile {profile.name}: Salesforce refused the active {what} but accepted the "
            f"previous one; finish the rollback with `sfcred rotate {profile.name} --rollback`"
            + ("" if profile.client_credentials else
               f", or upload the active key's certificate (`sfcred cert {profile.name}`)")
        )
        return token, profile
    raise refusal


def _promote_after_mint(store: Store, profile: Profile, note: Callable[[str], None]) -> Profile:
    from sfcred.errors import KeyringUnavailable

    try:
        promoted = promote(store, profile)
    except KeyringUnavailable as e:  # the token is good; the record still names both keys
        note(
            f"profile {profile.name}: Salesforce accepted the pending key but the keyring did "
            f"not record its promotion ({e.message}); the next mint tries again"
        )
        return profile
    what = "secret" if profile.client_credentials else "key"
    note(
        f"profile {profile.name}: Salesforce accepted the pending {what}, which is now active "
        f"(the old {what} is kept as previous for `sfcred rotate --rollback`)"
    )
    return promoted


def promote(store: Store, profile: Profile) -> Profile:
    """pending → active → previous in ONE record write; the key that falls off goes after."""
    assert profile.keys.pending is not None
    stale = profile.keys.previous
    new = profile.changed(
        keys=KeySlots(active=profile.keys.pending, pending=None, previous=profile.keys.active)
    )
    store.put_profile(new)  # the single write that switches keys
    if stale and stale not in (new.keys.active, new.keys.previous):
        _forget(store, profile.name, stale)
    return new


def _forget(store: Store, name: str, kid: str) -> None:
    """Delete a key the record no longer names. The step is done once the record is written,
    so a keyring error here only leaves an unreferenced item behind, as a crash here would."""
    from sfcred.errors import KeyringUnavailable

    with contextlib.suppress(KeyringUnavailable):
        store.delete_key(name, kid)


UPLOAD_STEPS = (
    "Setup → App Manager → the app → Edit → Use digital signatures → choose the file → Save "
    "(External Client App: its OAuth settings). Until then tools keep minting with the active "
    "key; the first get after the upload switches to the new key by itself."
)


def _stage(store: Store, profile: Profile, material: KeyMaterial) -> Profile:
    """``material`` (a key or a consumer secret) as the profile's pending one, in the order
    that never leaves the record naming a missing item."""
    kid = store.put_key(profile.name, material)  # 1. the new one, not yet referenced
    old_pending = profile.keys.pending
    new = profile.changed(keys=KeySlots(profile.keys.active, kid, profile.keys.previous))
    store.put_profile(new)  # 2. the record names it as pending
    if old_pending and old_pending != kid:
        _forget(store, profile.name, old_pending)  # 3. a replaced pending one goes last
    return new


def start(
    store: Store, profile: Profile, bits: int | None, days: int, force: bool
) -> tuple[Profile, str]:
    """A pending key and its certificate; the active key keeps working until the upload."""
    from sfcred import keys
    from sfcred.errors import ConfigError

    if profile.client_credentials:
        raise ConfigError(f"profile {profile.name!r} has a consumer secret, not a key",
                          hint=f"stage the app's new secret: `sfcred rotate {profile.name} "
                          "--secret-stdin`")
    if profile.keys.pending and not force:
        raise ConfigError(
            f"profile {profile.name!r} already has a pending key",
            hint=f"finish it (`sfcred rotate {profile.name} --activate`), drop it (--abort), "
            "or replace it (--force)",
        )
    if bits is None:
        bits = keys.public_key(store.get_key(profile.name, profile.keys.active)).key_size
    key = keys.generate_key(bits)
    material = keys.material(key, keys.self_signed_cert(key, f"sfcred {profile.name}", days))
    return _stage(store, profile, material), material.cert_pem


def activate(store: Store, client: TokenClient, profile: Profile) -> tuple[Token, Profile]:
    from sfcred.errors import ConfigError

    if profile.keys.pending is None:
        raise ConfigError(f"profile {profile.name!r} has no pending key to activate")
    pending = store.get_key(profile.name, profile.keys.pending)
    secret = profile.client_credentials
    try:
        token = client.mint(profile, pending)
    except SalesforceRefused as e:
        if not _is_key_mismatch(e):
            raise
        raise SalesforceRefused(
            e.error,
            e.description,
            cause=f"Salesforce does not know the pending {'secret' if secret else 'key'} yet",
            fix=("make it the app's consumer secret at Salesforce first (App Manager, the app, "
                 "Manage Consumer Details), then run this again" if secret else
                 f"upload the pending certificate first: `sfcred cert {profile.name} "
                 "--pending`; " + UPLOAD_STEPS.split(". Until")[0]),
            status=e.status,
            server_date=e.server_date,
            refusal=e.refusal,
        ) from e
    return token, promote(store, profile)


def abort(store: Store, profile: Profile) -> Profile:
    from sfcred.errors import ConfigError

    pending = profile.keys.pending
    if pending is None:
        raise ConfigError(f"profile {profile.name!r} has no pending key to abort")
    new = profile.changed(keys=KeySlots(profile.keys.active, None, profile.keys.previous))
    store.put_profile(new)  # the record stops naming it, then the material goes
    _forget(store, profile.name, pending)
    return new


def rollback(store: Store, profile: Profile) -> Profile:
    """Swap the previous key back in: one record write. Either order with the admin's re-upload
    of its certificate keeps gets working, since a mint falls back to the previous key."""
    from sfcred.errors import ConfigError

    previous = profile.keys.previous
    if previous is None:
        raise ConfigError(f"profile {profile.name!r} has no previous key to roll back to")
    new = profile.changed(keys=KeySlots(previous, profile.keys.pending, profile.keys.active))
    store.put_profile(new)
    return new


def stage_secret(store: Store, profile: Profile, value: str, force: bool) -> Profile:
    """The app's new consumer secret as the pending one; the active secret keeps working
    until Salesforce refuses it, when ``mint_with_rotation`` tries and promotes this one."""
    from sfcred import keys
    from sfcred.errors import ConfigError

    if not profile.client_credentials:
        raise ConfigError(f"profile {profile.name!r} signs with a key, not a secret",
                          hint=f"rotate its key: `sfcred rotate {profile.name}`")
    if profile.keys.pending and not force:
        raise ConfigError(
            f"profile {profile.name!r} already has a pending secret",
            hint=f"finish it (`sfcred rotate {profile.name} --activate`), drop it (--abort), "
            "or replace it (--force)")
    material = keys.client_secret(value)
    if material.key_id in (profile.keys.active, profile.keys.previous):
        slot = "active" if material.key_id == profile.keys.active else "previous"
        raise ConfigError(f"that secret is already the {slot} one of profile {profile.name!r}")
    return _stage(store, profile, material)
