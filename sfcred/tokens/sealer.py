"""AES-GCM for the token cache's on-disk fallback (``cache.open_cache``), its key from the
keyring on first use. On the warm path by import only: ``cryptography`` loads when a sealed
file is opened or written, never for the plain runtime cache."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_MAGIC = b"SFC1"


class Sealer:
    """AES-GCM for the on-disk fallback; the key comes from the keyring on first use."""

    def __init__(self, load_key: Callable[[], bytes]) -> None:
        self._load_key = load_key
        self._key: bytes | None = None

    def _aead(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._key is None:
            self._key = self._load_key()
        return AESGCM(self._key)

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return _MAGIC + nonce + bytes(self._aead().encrypt(nonce, plain, aad))

    def open(self, sealed: bytes, aad: bytes) -> bytes | None:
        from cryptography.exceptions import InvalidTag

        if not sealed.startswith(_MAGIC) or len(sealed) < len(_MAGIC) + 12 + 16:
            return None
        nonce, body = sealed[4:16], sealed[16:]
        try:
            return bytes(self._aead().decrypt(nonce, body, aad))
        except InvalidTag:
            return None
