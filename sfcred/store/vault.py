"""OpenBao / HashiCorp Vault KV version 2: the fleet store's primitives, through ``hvac``.

``SFCRED_STORE=vault://MOUNT/PREFIX`` (say ``vault://secret/sfcred``) names the KV v2 mount
and the prefix under it; the address, token and TLS come from Vault's own variables
(``VAULT_ADDR``, ``VAULT_TOKEN``, ``VAULT_NAMESPACE``, ``VAULT_CACERT``; ``BAO_ADDR`` and
``BAO_TOKEN`` too). ``hvac`` is the ``vault`` extra (``pip install 'sfcred[vault]'``), imported
only here and only when the store is used.

Every call is bounded (``SFCRED_STORE_TIMEOUT``, 5 s per request) and its failures are named:
unreachable, a token that is not valid, a policy that refuses the path (403) are
``StoreUnavailable`` (exit 5); a check-and-set write that lost the race is ``CasConflict``,
which callers handle (the fleet's single flight is built on it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sfcred.deadline import seconds
from sfcred.errors import InputError, KeyringUnavailable
from sfcred.store.capped import get_json
from sfcred.untrusted import server_words

REQUEST_SECONDS = 5.0


class StoreUnavailable(KeyringUnavailable):
    """The fleet store cannot be used now (exit 5, as a keyring that is not there)."""


class StoreRefused(StoreUnavailable):
    """The store's policy refused the request (403): this token may not do that."""


class CasConflict(Exception):
    """A check-and-set write found another version than the one it was based on."""


@dataclass(frozen=True)
class Location:
    mount: str
    prefix: str

    @classmethod
    def parse(cls, value: str) -> Location:
        """``vault://MOUNT/PREFIX`` (the prefix may have several segments)."""
        parts = urlsplit(value)
        path = parts.path.strip("/")
        if parts.scheme != "vault" or not parts.netloc or not path or parts.query:
            raise InputError(f"SFCRED_STORE {value!r}: use vault://MOUNT/PREFIX, e.g. "
                             "vault://secret/sfcred")
        if any(seg in ("", ".", "..") for seg in path.split("/")):
            raise InputError(f"SFCRED_STORE {value!r}: the prefix has an empty or dot segment")
        return cls(parts.netloc, path)


@dataclass(frozen=True)
class Entry:
    data: dict[str, Any]
    version: int


class VaultKV:
    """Read, write (with check-and-set), list and delete under one prefix of a KV v2 mount."""

    def __init__(self, location: Location, environ: Mapping[str, str] | None = None,
                 client: Any = None) -> None:
        self.location = location
        env = os.environ if environ is None else environ
        self.address = env.get("VAULT_ADDR") or env.get("BAO_ADDR") or ""
        self._token = env.get("VAULT_TOKEN") or env.get("BAO_TOKEN") or ""
        self._namespace = env.get("VAULT_NAMESPACE") or None
        self._cacert = env.get("VAULT_CACERT") or None
        self.timeout = seconds("SFCRED_STORE_TIMEOUT", REQUEST_SECONDS)
        self._client = client
        # The first "cannot reach the store" is remembered for the rest of the process: each
        # later call fails at once, so a Vault that is down or silent costs one timeout, not
        # one per call (docs/fleet.md: exit 5 within 10 s).
        self._down: StoreUnavailable | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            if not self.address:
                raise StoreUnavailable("fleet mode: VAULT_ADDR (or BAO_ADDR) is not set",
                                       hint="set the store's address and token")
            try:
                import hvac
            except ImportError:
                raise StoreUnavailable(
                    "fleet mode needs the Vault client: pip install 'sfcred[vault]'"
                ) from None
            self._client = hvac.Client(url=self.address, token=self._token or None,
                                       namespace=self._namespace, timeout=self.timeout,
                                       verify=self._cacert or True)
        return self._client

    def _path(self, name: str) -> str:
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise InputError(f"not a store path: {name!r}")
        return f"{self.location.prefix}/{name}"

    def _call(self, what: str, fn: Any) -> Any:
        if self._down is not None:
            raise StoreUnavailable(self._down.message, hint=self._down.hint)
        import requests

        try:
            import hvac.exceptions as hx
        except ImportError:
            raise StoreUnavailable(
                "fleet mode needs the Vault client: pip install 'sfcred[vault]'"
            ) from None
        try:
            return fn()
        except hx.Forbidden as e:
            raise StoreRefused(
                f"the store refused to {what} under {self.location.mount}/"
                f"{self.location.prefix}: permission denied",
                hint="check VAULT_TOKEN, and that its policy allows read, create, update, "
                "delete and list on that path (docs/fleet.md, Two Vault policies)",
            ) from e
        except hx.Unauthorized as e:
            raise StoreUnavailable("the store says the token is not valid (or expired)",
                                   hint="log in again: bao login / vault login") from e
        except hx.InvalidRequest as e:
            if "check-and-set" in str(e):
                raise CasConflict(what) from e
            raise StoreUnavailable(f"the store refused to {what}: "
                                   f"{server_words(str(e), 120)}") from e
        except hx.VaultError as e:
            raise StoreUnavailable(f"the store failed to {what} ({type(e).__name__}): "
                                   f"{server_words(str(e), 120)}") from e
        except requests.RequestException as e:
            self._down = StoreUnavailable(f"cannot reach the store at {self.address} "
                                          f"({type(e).__name__})",
                                          hint="check VAULT_ADDR and the network")
            raise StoreUnavailable(self._down.message, hint=self._down.hint) from e

    def read(self, name: str, limit: int | None = None) -> Entry | None:
        """The record, or None. With ``limit``: ``TooLarge`` once the answer passes that many
        bytes, read as a stream (a record any writer can fill is never read whole)."""
        def read() -> Entry | None:
            import hvac.exceptions as hx  # _call has checked that hvac is there

            try:
                if limit is not None:
                    answer = get_json(self.client, f"/v1/{self.location.mount}/data/"
                                      f"{self._path(name)}", limit)
                else:
                    answer = self.client.secrets.kv.v2.read_secret_version(
                        path=self._path(name), mount_point=self.location.mount,
                        raise_on_deleted_version=True)
            except hx.InvalidPath:
                return None  # never written, or deleted
            data = answer.get("data") or {}
            payload, meta = data.get("data"), data.get("metadata") or {}
            if not isinstance(payload, dict) or not isinstance(meta.get("version"), int):
                raise StoreUnavailable(f"the store's answer for {name} is not KV v2")
            return Entry(payload, meta["version"])

        result: Entry | None = self._call(f"read {name}", read)
        return result

    def write(self, name: str, data: Mapping[str, Any], cas: int | None = None) -> int:
        """Write ``data``; with ``cas`` only if the current version is ``cas`` (0: only if
        absent). Returns the new version; ``CasConflict`` when another write came first."""
        def write() -> int:
            answer = self.client.secrets.kv.v2.create_or_update_secret(
                path=self._path(name), secret=dict(data), cas=cas,
                mount_point=self.location.mount)
            return int(answer["data"]["version"])

        version: int = self._call(f"write {name}", write)
        return version

    def delete(self, name: str) -> None:
        """Every version and the metadata: gone for good (a key, a profile)."""
        self._call(f"delete {name}", lambda: self.client.secrets.kv.v2
                   .delete_metadata_and_all_versions(path=self._path(name),
                                                     mount_point=self.location.mount))

    def list(self, folder: str = "") -> list[str]:
        def listing() -> list[str]:
            import hvac.exceptions as hx  # _call has checked that hvac is there

            path = self._path(folder) if folder else self.location.prefix
            try:
                answer = self.client.secrets.kv.v2.list_secrets(
                    path=path, mount_point=self.location.mount)
            except hx.InvalidPath:
                return []
            keys = (answer.get("data") or {}).get("keys") or []
            return sorted(k for k in keys if isinstance(k, str))

        result: list[str] = self._call(f"list {folder or 'the prefix'}", listing)
        return result


    # -- for doctor --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``sys/health``: the server's version and clock (``server_time_utc``), no token."""
        answer = self._call("report its health",
                            lambda: self.client.sys.read_health_status(method="GET"))
        if not isinstance(answer, dict):  # sealed, standby: hvac hands back the response
            raise StoreUnavailable("the store is not ready (sealed or on standby)",
                                   hint="unseal it, or point VAULT_ADDR at the active node")
        return answer

    def token_info(self) -> dict[str, Any]:
        """``auth/token/lookup-self``: the token's policies and time left (never its id)."""
        answer = self._call("look up its token", lambda: self.client.auth.token.lookup_self())
        data = dict(answer.get("data") or {})
        data.pop("id", None)  # the token itself: never kept, never shown
        return data

    def capabilities(self, names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """What the token may do on each KV v2 path (``data/...`` and ``metadata/...``
        under the prefix), by ``sys/capabilities-self``."""
        paths = [f"{self.location.mount}/{n}" for n in names]
        answer = self._call("report the token's capabilities", lambda: self.client.adapter.post(
            "/v1/sys/capabilities-self", json={"paths": paths}))
        data = answer.get("data") if isinstance(answer, dict) else None
        data = data if isinstance(data, dict) else {}
        return {n: tuple(c for c in data.get(p) or () if isinstance(c, str))
                for n, p in zip(names, paths, strict=True)}


class VaultBackend:
    """The store as a keyring backend (``get_password`` / ``set_password`` /
    ``delete_password``), so ``KeyStore`` keeps profiles and keys in Vault exactly as in a
    keyring: the same records, manifests and write order. Item ``ITEM`` of service ``SVC``
    is the secret ``PREFIX/items/SVC/ITEM`` holding ``{"value": ...}``."""

    def __init__(self, kv: VaultKV) -> None:
        self.kv = kv

    def _name(self, service: str, username: str) -> str:
        return f"items/{quote(service, safe='')}/{quote(username, safe='')}"

    def get_password(self, service: str, username: str) -> str | None:
        entry = self.kv.read(self._name(service, username))
        if entry is None:
            return None
        value = entry.data.get("value")
        if not isinstance(value, str):
            raise StoreUnavailable(f"the store's item {username} is not sfcred's")
        return value

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kv.write(self._name(service, username), {"value": password})

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        name = self._name(service, username)
        if self.kv.read(name) is None:
            raise PasswordDeleteError(f"no item {username}")  # as keyring backends do
        self.kv.delete(name)

    def usernames(self, service: str) -> list[str]:
        """Every item name of ``service`` (for listing the fleet's profiles)."""
        return [unquote(n) for n in self.kv.list(f"items/{quote(service, safe='')}")
                if not n.endswith("/")]


def from_environment(environ: Mapping[str, str] | None = None) -> VaultBackend | None:
    """The fleet store named by ``SFCRED_STORE``, or None for the OS keyring (unset or
    ``keyring``)."""
    env = os.environ if environ is None else environ
    value = env.get("SFCRED_STORE") or "keyring"
    if value == "keyring":
        return None
    return VaultBackend(VaultKV(Location.parse(value), env))
