"""The Store protocol: where profiles and their secret material live.

    KeyStore (sfcred.store.keystore) over keyring's chosen backend     the OS keyring (default)
    KeyStore over store.vault.VaultBackend                       the fleet's OpenBao / Vault
    EnvStore (sfcred.store.env)                                      CI mode: the environment

Chosen in one place, ``app`` (``keystore()``: the keyring, or the fleet's when
``SFCRED_STORE`` names one; ``ci_tokens()``: the environment). Callers ask the store what it
can do (``fleet()``, ``profile_names()``), never which kind it is: no ``isinstance``, no
attribute probing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial
    from sfcred.profiles.record import Profile
    from sfcred.store.vault import VaultKV


class Store(Protocol):
    def backend_name(self) -> str:
        """What holds the secrets, for people (doctor, profile show)."""
        ...

    def get_profile(self, name: str) -> Profile | None: ...

    def require_profile(self, name: str) -> Profile:
        """The profile, or a ConfigError that says how to add it."""
        ...

    def put_profile(self, profile: Profile) -> None: ...

    def delete_profile(self, name: str) -> None: ...

    def profile_names(self) -> list[str] | None:
        """Every stored profile's name, or None when the store cannot list (a keyring)."""
        ...

    def get_key(self, name: str, kid: str) -> KeyMaterial: ...

    def put_key(self, name: str, material: KeyMaterial) -> str:
        """Store key material; returns its new key id. Written before anything points at it."""
        ...

    def delete_key(self, name: str, kid: str) -> None: ...

    def cache_key(self) -> bytes:
        """The key that seals the on-disk token cache (made once, never per mint)."""
        ...

    def fleet(self) -> VaultKV | None:
        """The fleet's KV store when this store is the fleet's (its shared tokens and leases
        live beside the profiles); None for a keyring or the environment."""
        ...
