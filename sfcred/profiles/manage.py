"""profile add | list | show | remove | default, and cert: the profile life cycle.

Write order on add: key material, then the profile record, then the index; a replaced
profile's old keys go last. Each step can fail without losing what worked before.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfcred import fsutil, keys
from sfcred.errors import ConfigError, InputError
from sfcred.profiles.index import IndexEntry, IndexFile, check_name
from sfcred.profiles.record import (
    CLIENT_CREDENTIALS,
    DEFAULT_MARGIN,
    DEFAULT_TTL,
    JWT_BEARER,
    KeySlots,
    Profile,
    check_allow_hosts,
    check_budget,
    check_url,
    default_audience,
    require_my_domain,
    require_salesforce_host,
)
from sfcred.secret import Secret

if TYPE_CHECKING:
    from sfcred.store.base import Store
    from sfcred.tokens.cache import TokenCache


@dataclass(frozen=True)
class NewProfile:
    name: str
    client_id: str
    username: str
    login_url: str = "production"
    audience: str | None = None
    token_ttl: int = DEFAULT_TTL
    refresh_margin: int = DEFAULT_MARGIN
    key_data: bytes | None = None
    passphrase: bytes | None = None
    cert_data: bytes | None = None
    generate_bits: int | None = None
    cert_days: int = keys.DEFAULT_CERT_DAYS
    force: bool = False
    make_default: bool = False
    # None: keep a replaced profile's (none for a new one); a tuple replaces them.
    allow_hosts: tuple[str, ...] | None = None
    login_budget: int | None = None
    grant: str = JWT_BEARER
    client_secret: Secret | None = None  # client credentials: the consumer secret


@dataclass(frozen=True)
class Added:
    profile: Profile
    material: keys.KeyMaterial
    generated: bool
    fingerprint: str  # of the key; a client secret's id


def _check_text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise InputError(f"{what} must be 1-{limit} printable characters")
    return value


def build_material(req: NewProfile) -> tuple[keys.KeyMaterial, bool]:
    if req.client_secret is not None:
        return keys.client_secret(req.client_secret.reveal()), False
    if req.generate_bits is not None:
        key = keys.generate_key(req.generate_bits)
        generated = True
    elif req.key_data is not None:
        key = keys.load_private_key(req.key_data, req.passphrase)
        generated = False
    else:
        raise InputError("give --key-file PATH or --generate-key")
    if req.cert_data is not None:
        try:
            cert_pem = keys.cert_to_pem(keys.load_cert(req.cert_data.decode("ascii")))
        except ValueError as e:
            raise InputError("--cert-file is not a PEM certificate") from e
        if not keys.cert_matches(cert_pem, key.public_key()):
            raise InputError("--cert-file does not belong to the key")
    else:
        cert = keys.self_signed_cert(key, f"sfcred {req.name}", req.cert_days)
        cert_pem = keys.cert_to_pem(cert)
    material = keys.KeyMaterial(key_pem=keys.key_to_pem(key), cert_pem=cert_pem, checked=True)
    return material, generated


def _locked(cache: TokenCache | None, name: str) -> AbstractContextManager[object]:
    """The profile's lock, so no concurrent get mints (and caches) while it changes."""
    return cache.lock(name) if cache is not None else nullcontext()


def add(req: NewProfile, store: Store, index: IndexFile, cache: TokenCache | None) -> Added:
    with _locked(cache, check_name(req.name)):
        return _add(req, store, index, cache)


def _add(req: NewProfile, store: Store, index: IndexFile, cache: TokenCache | None) -> Added:
    name = check_name(req.name)
    client_id = _check_text(req.client_id, "--client-id", 255)
    cc = req.grant == CLIENT_CREDENTIALS
    username = _check_text(req.username, "--username", 255) if req.username or not cc else ""
    login_url = check_url(req.login_url, "--login-url")
    if cc:
        require_my_domain(login_url, "--login-url")
    audience = check_url(req.audience, "--audience") if req.audience else None
    if not 60 <= req.token_ttl <= 86400:
        raise InputError("--token-ttl must be between 60 and 86400 seconds")
    if not 0 <= req.refresh_margin < req.token_ttl:
        raise InputError("--refresh-margin must be at least 0 and less than --token-ttl")
    check_budget(req.login_budget)
    if name in index.load().profiles and not req.force:
        raise ConfigError(f"profile {name!r} exists; pass --force to replace it")
    old = store.get_profile(name)
    if old is not None and not req.force:
        raise ConfigError(f"profile {name!r} exists in the keyring; pass --force to replace it")
    allow = (check_allow_hosts(req.allow_hosts) if req.allow_hosts is not None
             else old.allow_hosts if old is not None else ())
    require_salesforce_host(login_url, allow, "--login-url")
    keep_keys = req.key_data is None and req.generate_bits is None and req.client_secret is None
    if keep_keys:
        if old is None or old.grant != req.grant:
            raise InputError("give --client-secret-stdin" if cc else
                             "give --key-file PATH or --generate-key")
        # `--force` without a key source changes settings and keeps the keys (all slots).
        slots = old.keys
        material, generated = store.get_key(name, old.keys.active), False
    else:
        material, generated = build_material(req)
        slots = KeySlots(active=store.put_key(name, material))
    imported = (old.imported_keys if keep_keys and old is not None
                else () if generated else (slots.active,))
    profile = Profile(
        name=name,
        client_id=client_id,
        username=username,
        login_url=login_url,
        audience=audience or default_audience(login_url),
        keys=slots,
        token_ttl=req.token_ttl,
        refresh_margin=req.refresh_margin,
        created_at=int(time.time()),
        revision=(old.revision + 1) if old else 1,
        allow_hosts=allow, imported_keys=imported, grant=req.grant,
        login_budget=req.login_budget,
    )
    store.put_profile(profile)
    if cache is not None:
        cache.drop(name)  # and the failure remembered with it: the new settings are tried
    if old is not None:
        _forget_shared(store, name)  # the old settings' token is no longer the fleet's
    with index.edit() as idx:
        before = idx.profiles.get(name)
        entry = IndexEntry.for_login(login_url, username, allow)
        if before is not None and before.login_host == entry.login_host:
            # Same org: keep the learned instance host.
            entry.instance_host = before.instance_host
            entry.instance_scheme = before.instance_scheme
        idx.profiles[name] = entry
        if req.make_default or idx.default is None:
            idx.default = name
    if old is not None:
        kept = {slots.active, slots.pending, slots.previous}
        for stale in (old.keys.active, old.keys.pending, old.keys.previous):
            if stale and stale not in kept:
                store.delete_key(name, stale)
    fp = material.key_id if material.is_secret else keys.fingerprint(keys.public_key(material))
    return Added(profile=profile, material=material, generated=generated, fingerprint=fp)


def remove(name: str, store: Store, index: IndexFile, cache: TokenCache | None) -> bool:
    """Every trace: cached token, key material, the record, the index entry. Idempotent."""
    with _locked(cache, check_name(name)):
        return _remove(name, store, index, cache)


def _remove(name: str, store: Store, index: IndexFile, cache: TokenCache | None) -> bool:
    profile = store.get_profile(name)
    in_index = name in index.load().profiles
    if profile is None and not in_index:
        from sfcred.profiles.suggest import missing

        raise missing(name, index.load().profiles)
    if cache is not None:
        cache.drop(name)
    _forget_shared(store, name)
    if profile is not None:
        for kid in (profile.keys.pending, profile.keys.previous, profile.keys.active):
            if kid:
                store.delete_key(name, kid)
        store.delete_profile(name)
    with index.edit() as idx:
        idx.profiles.pop(name, None)
        if idx.default == name:
            idx.default = None
    return True


def _forget_shared(store: Store, name: str) -> None:
    """Fleet mode (the store is the fleet's): its shared token and lease of ``name`` go where
    the local cached token goes."""
    kv = store.fleet()
    if kv is not None:
        from sfcred.fleet.shared import SharedTokens

        SharedTokens(kv).forget(name)


def set_default(name: str, index: IndexFile) -> None:
    check_name(name)
    with index.edit() as idx:
        if name not in idx.profiles:
            from sfcred.profiles.suggest import missing

            raise missing(name, idx.profiles)
        idx.default = name


def listing(index: IndexFile) -> list[dict[str, Any]]:
    idx = index.load()
    return [{"name": n, "default": n == idx.default, "username": e.username,
             "login_host": e.login_host, "instance_host": e.instance_host}
            for n, e in sorted(idx.profiles.items())]


def cert(name: str, store: Store, pending: bool = False) -> str:
    check_name(name)
    profile = store.require_profile(name)
    kid = profile.keys.pending if pending else profile.keys.active
    if profile.client_credentials:
        raise ConfigError(f"profile {name!r} has a consumer secret, not a key: no certificate")
    if kid is None:
        raise ConfigError(f"profile {name!r} has no pending key; start one with `sfcred rotate`")
    return store.get_key(name, kid).cert_pem


def check_cert_out(path: str) -> None:
    """Refuse, before anything is stored, a --cert-out that could not be written: a profile
    must not be left half made (stored, but its certificate nowhere)."""
    import os

    target = os.path.abspath(path)
    parent = os.path.dirname(target)
    if os.path.isdir(target):
        raise InputError(f"--cert-out {path} is a folder; give a file name")
    if not os.path.isdir(parent):
        raise InputError(f"--cert-out {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--cert-out {path}: cannot write in {parent}")


def write_cert(path: str, pem: str) -> None:
    from pathlib import Path

    try:
        fsutil.atomic_write(Path(path), pem, private=False)
    except OSError as e:
        raise InputError(f"cannot write the certificate to {path}: {e.strerror}") from e

