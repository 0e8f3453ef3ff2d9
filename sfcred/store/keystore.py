"""Typed access to the keyring: profile records and key material, nothing else.

Items live under one service (``SFCRED_KEYRING_SERVICE``, default ``sfcred``):

    profile:NAME            the profile record (JSON), always ONE item, so that switching keys
                            (rotation) is a single write that either happened or did not
    key:NAME:KID            a manifest {"n", "tag", "sha256"} for the key material of key KID
    key:NAME:KID:TAG:I      chunk I of that material (JSON of key PEM + certificate)

Chunks keep items under 1,000 characters for backends that refuse long secrets (Windows:
about 1,280); those known to take long ones (Secret Service, macOS, KWallet, the fleet) get
one chunk. New chunks go under a fresh tag before the manifest points at them, so a crash
mid-write leaves the old material readable. ``KeyStore`` is a ``store.base.Store``, in the
backend keyring chooses (``keyfind``), read through ``secretservice``, written only where keyring
would put it now, never a plaintext file nobody named (``writes``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sfcred.errors import ConfigError, KeyringUnavailable
from sfcred.keys import KeyMaterial, readable, stored_form
from sfcred.profiles.record import Profile
from sfcred.secret import Secret
from sfcred.store import calls, keyfind
from sfcred.store.calls import RETRY_PAUSE, TRIES, call_timeout
from sfcred.store.secretservice import Reads

if TYPE_CHECKING:
    from sfcred.store.vault import VaultBackend, VaultKV

CHUNK = 1000
# Backends known to hold long secrets get one chunk per key: fewer keyring round trips per
# mint (each is a D-Bus connection on Linux). Any other backend, known or not, gets 1,000.
BIG_CHUNK = 16000
LONG_SECRET_BACKENDS = frozenset({
    "sfcred.store.vault",
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.macOS",
    "keyring.backends.kwallet",
})
RECORD_LIMIT = 1280
T = TypeVar("T")

def service_name() -> str:
    return os.environ.get("SFCRED_KEYRING_SERVICE") or "sfcred"


class KeyStore:
    def __init__(
        self,
        backend: Any = None,
        service: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float | None = None,
        note: Callable[[str], None] | None = None,
        fleet: VaultBackend | None = None,
    ) -> None:
        """Over ``backend`` (a keyring backend; None: keyring's choice), or the fleet's."""
        self._fleet = fleet
        backend = fleet if fleet is not None else backend
        self._backend = backend
        self._reads = Reads(direct=backend is None)  # a given backend is always used
        self._write_checked = backend is not None  # a given backend is the caller's choice
        self.note = note or (lambda _line: None)
        self.service = service or service_name()
        self.sleep = sleep
        self.timeout = call_timeout() if timeout is None else timeout

    @property
    def backend(self) -> Any:
        if self._backend is None:
            self._backend = self._call(calls.load_backend)
        return self._backend

    def backend_name(self) -> str:
        return keyfind.name_of(self.backend)

    def writable(self) -> None:
        """Before a key or profile is written: keyring's own choice now, not the remembered
        one, and refused when it is a file backend nobody named (``writes``)."""
        if self._write_checked:
            return
        from sfcred.store import writes

        chosen, warning = self._call(writes.target)
        self._write_checked = True
        if warning:
            self.note(warning)
        if chosen is not self._backend:
            if type(chosen).__module__ != "keyring.backends.SecretService":
                self._reads = Reads(direct=False)  # reads follow the writes' backend
            self._backend = chosen

    # --- raw items -----------------------------------------------------------------------
    def _call(self, fn: Callable[[], T]) -> T:
        """One keyring operation, bounded and classified (``calls.call``)."""
        return calls.call(fn, self.timeout, self.sleep)

    def _get(self, item: str) -> str | None:
        def read() -> str | None:
            try:
                value = self._reads.get(lambda: self.backend, self.service, item)
            except Exception as e:
                # Secret Service: the item was deleted between the search and the read (a
                # rotation in another process). That is "not there", not a broken keyring.
                if type(e).__name__ == "ItemNotFoundException":
                    return None
                raise
            return value

        return self._call(read)

    def _set(self, item: str, value: str) -> None:
        self._call(lambda: self.backend.set_password(self.service, item, value))

    def _delete(self, item: str) -> None:
        from keyring.errors import PasswordDeleteError

        def delete() -> None:
            with contextlib.suppress(PasswordDeleteError):  # already gone: idempotent
                self.backend.delete_password(self.service, item)

        self._call(delete)

    def probe(self) -> None:
        """A write/read/delete round trip; raises KeyringUnavailable when it fails."""
        item, value = f"probe:{secrets.token_hex(4)}", secrets.token_hex(8)
        self._set(item, value)
        try:
            if self._get(item) != value:
                raise KeyringUnavailable("the keyring did not return what was stored")
        finally:
            self._delete(item)

    # --- profiles ------------------------------------------------------------------------
    def fleet(self) -> VaultKV | None:
        return self._fleet.kv if self._fleet is not None else None

    def profile_names(self) -> list[str] | None:
        """The names of every stored profile, when the store can list (the fleet's); None for
        a keyring, which cannot."""
        fleet = self._fleet
        if fleet is None:
            return None
        names: list[str] = self._call(lambda: fleet.usernames(self.service))
        return sorted(n.removeprefix("profile:") for n in names if n.startswith("profile:"))

    def get_profile(self, name: str) -> Profile | None:
        text = self._get(f"profile:{name}")
        return Profile.from_json(text) if text is not None else None

    def require_profile(self, name: str) -> Profile:
        profile = self._insist(lambda: self.get_profile(name))
        if profile is None:
            raise ConfigError(
                f"no profile named {name!r} in the keyring",
                hint="see `sfcred profile list`; add one with `sfcred profile add`",
            )
        return profile

    def put_profile(self, profile: Profile) -> None:
        if len(text := profile.to_json()) > RECORD_LIMIT:
            raise ConfigError("the profile's settings are too long to store in one keyring item")
        self.writable()
        self._set(f"profile:{profile.name}", text)

    def delete_profile(self, name: str) -> None:
        self._delete(f"profile:{name}")

    def cache_key(self) -> bytes:
        """32 random bytes, created once and never rewritten (macOS would prompt each time)."""
        import base64

        text = self._get("cache-key")
        if text is None:
            self._set("cache-key", base64.b64encode(secrets.token_bytes(32)).decode())
            text = self._get("cache-key")
        if text is None:
            raise KeyringUnavailable("the keyring did not keep the token-cache key")
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ConfigError(
                "the token-cache key in the keyring is damaged",
                hint=f"delete the keyring item cache-key of service {self.service}; only "
                "cached tokens depend on it (they are minted again)",
            )
        return key

    # --- key material --------------------------------------------------------------------
    def put_key(self, name: str, material: KeyMaterial) -> str:
        if not material.checked:  # get_key vouches for what it reads back: keep it true
            from dataclasses import replace

            from sfcred.keys import private_of

            private_of(material.key_pem)
            material = replace(material, checked=True)
        self.writable()
        kid = material.key_id
        blob = stored_form(material)
        manifest_item = f"key:{name}:{kid}"
        old = self._manifest(manifest_item)
        tag = secrets.token_hex(4)
        size = BIG_CHUNK if type(self.backend).__module__ in LONG_SECRET_BACKENDS else CHUNK
        chunks = [blob[i : i + size] for i in range(0, len(blob), size)]
        for i, chunk in enumerate(chunks):
            self._set(f"{manifest_item}:{tag}:{i}", chunk)
        digest = hashlib.sha256(blob.encode()).hexdigest()
        self._set(manifest_item, json.dumps({"n": len(chunks), "tag": tag, "sha256": digest}))
        if old is not None:
            self._delete_chunks(manifest_item, old)
        return kid

    def get_key(self, name: str, kid: str) -> KeyMaterial:
        """The key material, whole and checked against its manifest's hash."""
        manifest_item = f"key:{name}:{kid}"
        manifests_seen = []

        def read() -> KeyMaterial | None:
            manifest = self._manifest(manifest_item)
            if manifest is None:
                return None
            manifests_seen.append(manifest)
            tag, count = manifest["tag"], manifest["n"]
            if not (isinstance(tag, str) and isinstance(count, int) and 0 < count <= 64):
                return None  # read back, so bounded: a damaged manifest is not obeyed
            parts = [self._get(f"{manifest_item}:{tag}:{i}") for i in range(count)]
            blob = "".join(p for p in parts if p is not None)
            if None in parts or hashlib.sha256(blob.encode()).hexdigest() != manifest["sha256"]:
                return None
            try:
                data = json.loads(blob)
                # checked: put_key stores only checked keys, and the digest matched above
                return KeyMaterial(key_pem=Secret(str(data["key"])), cert_pem=str(data["cert"]),
                                   checked=True, kind=str(data.get("kind", "rsa")))
            except (ValueError, TypeError, KeyError, RecursionError):
                return None

        material = self._insist(read)
        if material is not None and readable(material):
            return material
        if not manifests_seen:
            raise ConfigError(
                f"the key {kid} of profile {name!r} is missing from the keyring",
                hint=f"re-import the key: `sfcred profile add {name} --force ...`",
            )
        # Whole (the digest matched) yet not a key and certificate: written by something else.
        raise ConfigError(
            f"the key {kid} of profile {name!r} is damaged in the keyring",
            hint=f"re-import the key: `sfcred profile add {name} --key-file KEY --force` (or "
                 "--generate-key, and upload the new certificate)")

    def _insist(self, read: Callable[[], T | None]) -> T | None:
        """A read of something that must be there, tried again when it comes back empty or
        incomplete: a concurrent rewrite (new chunks, then the manifest) or a Secret Service
        under load can show a moment where an item is missing. None if it stays so."""
        for attempt in range(TRIES):
            found = read()
            if found is not None:
                return found
            if attempt < TRIES - 1:
                self.sleep(RETRY_PAUSE * (attempt + 1))
        return None

    def delete_key(self, name: str, kid: str) -> None:
        manifest_item = f"key:{name}:{kid}"
        manifest = self._manifest(manifest_item)
        self._delete(manifest_item)
        if manifest is not None:
            self._delete_chunks(manifest_item, manifest)

    def _manifest(self, item: str) -> dict[str, Any] | None:
        text = self._get(item)
        if text is None:
            return None
        try:
            data = json.loads(text)
            if isinstance(data, dict) and {"n", "tag", "sha256"} <= data.keys():
                return data
        except (ValueError, RecursionError):
            pass
        return None

    def _delete_chunks(self, item: str, manifest: dict[str, Any]) -> None:
        for i in range(int(manifest["n"])):
            self._delete(f"{item}:{manifest['tag']}:{i}")
