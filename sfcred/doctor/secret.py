"""doctor's checks for a client credentials profile where a JWT profile has key, certificate
and audience checks: the stored consumer secret (never shown: its id only), and the login
host, which must be the org's My Domain (Salesforce serves the grant nowhere else)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sfcred.doctor.model import CONFIG, Check, make
from sfcred.errors import InputError, SfcredError
from sfcred.profiles.record import require_my_domain

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial
    from sfcred.profiles.record import Profile
    from sfcred.store.base import Store


def _titled(check: Check, title: str) -> Check:
    """The check under this profile's own title (the key check is its secret check)."""
    return replace(check, title=title)


def secret_check(store: Store, profile: Profile) -> tuple[Check, KeyMaterial | None]:
    check, material = _secret(store, profile)
    return _titled(check, "consumer secret"), material


def _secret(store: Store, profile: Profile) -> tuple[Check, KeyMaterial | None]:
    add = (f"store it again: `sfcred profile add {profile.name} --grant client-credentials "
           "... --client-secret-stdin --force`")
    try:
        material = store.get_key(profile.name, profile.keys.active)
    except SfcredError as e:
        return make("key", "fail", e.message, e.hint or add, e.exit_code), None
    if not material.is_secret:
        return make("key", "fail", "the profile holds a key where its consumer secret belongs",
                    add, CONFIG), None
    detail = f"consumer secret {profile.keys.active} (the secret itself is never shown)"
    if profile.keys.pending:
        detail += (f"; a pending secret {profile.keys.pending} waits (used once Salesforce "
                   f"refuses the active one; `sfcred rotate {profile.name} --activate`)")
    return make("key", "ok", detail), material


def domain_check(profile: Profile) -> Check:
    return _titled(_domain(profile), "My Domain")


def _domain(profile: Profile) -> Check:
    try:
        require_my_domain(profile.login_url, "the login URL")
    except InputError as e:
        return make("audience", "fail", e.message,
                    f"{e.hint}: `sfcred profile add {profile.name} --grant client-credentials "
                    "--login-url URL ... --force`", CONFIG)
    return make("audience", "ok", f"client credentials at {profile.login_url} (a My Domain; "
                "no JWT audience applies)")
