"""Wiring: the real keyring, cache, index and HTTP client, built lazily and only when used."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sfcred.profiles.index import index_file
from sfcred.tokens.cache import TokenCache, open_cache
from sfcred.tokens.flight import Tokens

if TYPE_CHECKING:
    from sfcred.fleet.shared import SharedTokens
    from sfcred.helper.warm import Pass
    from sfcred.profiles.env import EnvProfile
    from sfcred.salesforce.oauth import TokenClient
    from sfcred.store.keystore import KeyStore
    from sfcred.store.vault import VaultBackend


def keystore(backend: VaultBackend | None = None,
             note: Callable[[str], None] | None = None) -> KeyStore:
    """The OS keyring's store, or the fleet's (``SFCRED_STORE=vault://MOUNT/PREFIX``).
    ``note``: where a warning about the keyring goes (a plaintext backend the user named)."""
    from sfcred.store.keystore import KeyStore

    return KeyStore(fleet=backend or fleet_backend(), note=note)


def fleet_backend() -> VaultBackend | None:
    """The fleet store named by ``SFCRED_STORE`` (None: the OS keyring). Cheap: no import of
    hvac and no request until it is used."""
    from sfcred.fleet.index import fleet_mode

    if not fleet_mode():
        return None
    from sfcred.store.vault import from_environment

    return from_environment()


def token_client() -> TokenClient:
    from sfcred.salesforce.oauth import TokenClient

    return TokenClient()


def token_cache(store: Callable[[], KeyStore]) -> TokenCache:
    return open_cache(lambda: store().cache_key())


def tokens(note: Callable[[str], None], warm: Pass | None = None) -> Tokens:
    stores: list[KeyStore] = []
    fleet = fleet_backend()  # one client for the profiles, keys and shared tokens

    def store() -> KeyStore:
        if not stores:
            stores.append(keystore(fleet, note))
        return stores[0]

    def shared() -> SharedTokens | None:
        if fleet is None:
            return None  # plain mode never imports the fleet's modules
        from sfcred.fleet.shared import SharedTokens

        return SharedTokens(fleet.kv, note=note)

    return Tokens(
        index=index_file(),
        store=store,
        client=token_client,
        cache=lambda: token_cache(store),
        clock=time.time,
        note=note,
        shared=shared,
        warm=warm,
    )


def ci_tokens(env: EnvProfile, note: Callable[[str], None]) -> Tokens:
    """Tokens for the CI-mode profile: no keyring; the plain runtime cache or none at all."""
    from sfcred.store.env import EnvStore
    from sfcred.tokens.cache import NoCache, runtime_dir

    folder = runtime_dir()
    return Tokens(
        index=index_file(),
        store=lambda: EnvStore(env),
        client=token_client,
        cache=lambda: TokenCache(folder) if folder is not None else NoCache(),
        clock=time.time,
        note=note,
        stateless=True,
    )


def provider(note: Callable[[str], None], warm: Pass | None = None,
             ) -> Callable[[EnvProfile | None], Tokens]:
    """The Tokens factory ``helper.pick`` wants: the keyring's, or CI mode's. ``warm``: what
    the warm path of this ``get`` did already (read, chose, waited, the lock it holds)."""

    def make(ci: EnvProfile | None) -> Tokens:
        return tokens(note, warm) if ci is None else ci_tokens(ci, note)

    return make
