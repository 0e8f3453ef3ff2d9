"""Wiring: the real keyring, cache, index and HTTP client, built lazily and only when used."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sfcred.cache import TokenCache, open_cache
from sfcred.index import index_file
from sfcred.tokens import Tokens

if TYPE_CHECKING:
    from sfcred.keystore import KeyStore
    from sfcred.salesforce.oauth import TokenClient


def keystore() -> KeyStore:
    from sfcred.keystore import KeyStore

    return KeyStore()


def token_client() -> TokenClient:
    from sfcred.salesforce.oauth import TokenClient

    return TokenClient()


def token_cache(store: Callable[[], KeyStore]) -> TokenCache:
    return open_cache(lambda: store().cache_key())


def tokens(note: Callable[[str], None]) -> Tokens:
    stores: list[KeyStore] = []

    def store() -> KeyStore:
        if not stores:
            stores.append(keystore())
        return stores[0]

    return Tokens(
        index=index_file(),
        store=store,
        client=token_client,
        cache=lambda: token_cache(store),
        clock=time.time,
        note=note,
    )
