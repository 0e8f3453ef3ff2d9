"""What ``profile show`` tells of a profile: its settings and, per slot, what identifies its
key (fingerprint, size, certificate expiry) or its consumer secret (an id): never a secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfcred import keys
from sfcred.errors import ConfigError
from sfcred.profiles.index import IndexFile, check_name

if TYPE_CHECKING:
    from sfcred.store.base import Store


def describe_key(store: Store, name: str, kid: str, slot: str) -> dict[str, Any]:
    material = store.get_key(name, kid)
    if material.is_secret:
        return {"slot": slot, "key_id": kid, "kind": keys.CLIENT_SECRET}
    pub = keys.public_key(material)
    expiry = keys.cert_expiry(material.cert_pem)
    return {
        "slot": slot,
        "key_id": kid,
        "kind": keys.RSA,
        "fingerprint": keys.fingerprint(pub),
        "bits": pub.key_size,
        "certificate_expires": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def show(name: str, store: Store, index: IndexFile) -> dict[str, Any]:
    check_name(name)
    idx = index.load()
    profile = store.get_profile(name)
    if profile is None:
        from sfcred.profiles.suggest import missing

        if name in idx.profiles:  # listed here, kept in a keyring this process does not see
            raise ConfigError(f"no profile named {name!r} in the keyring, though the index "
                              "lists it: added under another keyring backend? `sfcred doctor` "
                              "names the one in use")
        raise missing(name, idx.profiles)
    slots = [("active", profile.keys.active)]
    slots += [(s, k) for s, k in (("pending", profile.keys.pending),
                                   ("previous", profile.keys.previous)) if k]
    entry = idx.profiles.get(name)
    info = {
        "name": profile.name,
        "default": idx.default == name,
        "grant": profile.grant,
        "client_id": profile.client_id,
        "username": profile.username,
        "login_url": profile.login_url,
        "audience": profile.audience,
        "token_ttl": profile.token_ttl,
        "refresh_margin": profile.refresh_margin,
        "login_budget": profile.login_budget,  # None: SFCRED_LOGIN_BUDGET, else 3000
        "instance_host": entry.instance_host if entry else None,
        "allow_hosts": list(profile.allow_hosts),
        "keys": [describe_key(store, name, kid, slot) for slot, kid in slots],
        "keyring": store.backend_name(),
    }
    if profile.client_credentials:
        # The token acts as the app's Run As user, learned from the first token; the JWT
        # audience does not apply.
        info["run_as"] = profile.username or None
        del info["audience"]
    return info
