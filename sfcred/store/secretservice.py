"""Reading keyring items, over one Secret Service connection and session per process.

keyring's Secret Service backend opens a new D-Bus connection for every ``get_password``
(connect, authenticate, find the collection: about 25 ms here) and a new encrypted session
for every secret (a Diffie-Hellman exchange: 16 ms, 11 of them Python's own ``pow``); a mint
reads three items. ``Reads`` opens each once per process and hands the session to every item,
as secretstorage's ``Item`` allows. Two ways:

- **direct**: when keyring would choose its Secret Service backend anyway
  (``keyfind.secret_service_assumed``: named by ``PYTHON_KEYRING_BACKEND`` or by the
  remembered choice, no ``KEYRING_PROPERTY_*``), the items are read with secretstorage itself,
  as the backend's ``get_password`` reads them (the default collection, the query
  ``{"username": item, "service": service}``), and keyring is not imported at all: its import
  costs 30 ms here (jaraco, more_itertools, importlib_metadata, configparser) of which a read
  needs nothing. The backend's own viability test comes first (secretstorage 3.2 or later, a
  daemon answering on the session bus). Anything else, a locked collection or item
  included (keyring unlocks, or prompts, or names the lock), goes to the backend.
- **through the backend**: the collection the backend itself picks
  (``get_preferred_collection``: the user's choice, unlocked as it unlocks it), searched with
  the attributes of the backend's own scheme (``schemes[scheme]``), which is what its
  ``get_password`` does. Any other backend: ``get_password``. Only public names of keyring
  and secretstorage are used: an ``Item`` is made with the process's session, not patched.

A connection busy in an abandoned call (a keyring call that ran out of time) is never shared:
that call's successor reads through the backend with its own connection.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

BACKEND = ("keyring.backends.SecretService", "Keyring")


class Reads:
    def __init__(self, direct: bool = True) -> None:
        """``direct=False``: always through the backend (a store given one, e.g. the fleet's:
        it must never be read around)."""
        import threading

        self._lock = threading.Lock()
        self._collection: Any = None  # secretstorage's Collection, on our own connection
        self._session: Any = None  # secretstorage's Session, opened by the first read
        self._direct: bool | None = None if direct else False  # None: decided on first read

    def get(self, backend: Callable[[], Any], service: str, item: str) -> str | None:
        """The item's secret, or None; ``backend`` loads the keyring backend when needed."""
        if not self._lock.acquire(blocking=False):
            value: str | None = backend().get_password(service, item)
            return value
        try:
            if self._direct is None:
                self._direct = self._open_direct()
            if self._direct:
                found = self._find({"username": item, "service": service})
                if found is not _LOCKED:
                    return None if found is None else str(found)
                self._close()  # locked: keyring's to unlock, or to report
                self._direct = False
            chosen = backend()
            kind = type(chosen)
            query = _query(chosen, service, item)
            if (kind.__module__, kind.__qualname__) != BACKEND or query is None:
                value = chosen.get_password(service, item)
                return value
            if self._collection is None:
                self._collection = chosen.get_preferred_collection()
            for found in self._collection.search_items(query):
                chosen.unlock(found)
                return self._secret(found)
            return None
        except Exception:
            self._close()  # a broken connection is not reused by the retry
            if self._direct:
                self._direct = None  # the retry decides again
            raise
        finally:
            self._lock.release()

    def _open_direct(self) -> bool:
        """The Secret Service backend's own test, on a connection kept for the reads: True
        when keyring would use that backend and it would work without unlocking anything."""
        from sfcred.store import keyfind

        if not keyfind.secret_service_assumed():
            return False
        try:
            import secretstorage

            if secretstorage.__version_tuple__ < (3, 2):
                return False
            connection = secretstorage.dbus_init()
        except Exception:
            return False  # the backend will say why
        try:
            if secretstorage.check_service_availability(connection):
                collection = secretstorage.get_default_collection(connection)
                if not collection.is_locked():
                    self._collection = collection
                    return True
        except Exception:  # noqa: S110  # no default collection, say: the backend's to handle
            pass
        connection.close()
        return False

    def _find(self, query: dict[str, str]) -> Any:
        for found in self._collection.search_items(query):
            if found.is_locked():
                return _LOCKED
            return self._secret(found)
        return None

    def _secret(self, found: Any) -> str:
        """The secret over this process's one encrypted session (secretstorage's ``Item``
        takes the session to use; the first read opens it)."""
        item = found
        if self._session is not None:
            import secretstorage

            item = secretstorage.Item(found.connection, found.item_path, session=self._session)
        text: str = item.get_secret().decode("utf-8")
        self._session = item.session
        return text

    def _close(self) -> None:
        collection, self._collection, self._session = self._collection, None, None
        if collection is not None:
            try:  # noqa: SIM105  # contextlib is not needed for one line
                collection.connection.close()
            except Exception:  # noqa: S110  # closing a broken connection: nothing to do
                pass


_LOCKED = object()  # an item keyring must unlock (or report): not a value


def _query(backend: Any, service: str, item: str) -> dict[str, str] | None:
    """The attributes the backend's ``get_password`` searches by, from its public settings
    (``schemes`` and the ``scheme`` chosen, ``KEYRING_PROPERTY_SCHEME``); None if it has
    none we know."""
    scheme = getattr(backend, "schemes", {}).get(getattr(backend, "scheme", None))
    if not isinstance(scheme, dict) or not {"username", "service"} <= set(scheme):
        return None
    return {scheme["username"]: item, scheme["service"]: service}
