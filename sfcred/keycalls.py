"""Keyring calls: each one bounded in time, its failures classified, transient ones retried.

The only place sfcred calls a keyring backend's methods (through ``KeyStore``). A call runs in
a daemon thread and is waited for at most ``SFCRED_KEYRING_TIMEOUT`` seconds (default 10): a
stopped gnome-keyring daemon, or an unlock prompt nobody will answer, is exit 5 in seconds
instead of a hang. Failures become ``KeyringUnavailable`` (exit 5) with the ways out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from sfcred.deadline import Expired, run_within, seconds
from sfcred.errors import KeyringUnavailable

TRIES = 3
RETRY_PAUSE = 0.1  # seconds, growing per try: a locked keyring still fails within half a second
# Every keyring call is bounded: a stopped gnome-keyring daemon (or a prompt nobody answers)
# would otherwise hang `get` forever. Overridable for slow desktops: SFCRED_KEYRING_TIMEOUT.
CALL_TIMEOUT = 10.0
T = TypeVar("T")

WAYS_OUT = (
    "start or unlock a Secret Service (GNOME Keyring, KeePassXC), or choose a backend with "
    "PYTHON_KEYRING_BACKEND (see `keyring --list-backends`)"
)


def call_timeout() -> float:
    return seconds("SFCRED_KEYRING_TIMEOUT", CALL_TIMEOUT)


class _Transient(Exception):  # internal signal, never leaves this module
    """A failure worth one more try; carries the KeyringUnavailable to raise if it persists."""

    def __init__(self, error: KeyringUnavailable) -> None:
        super().__init__(error.message)
        self.error = error


def call(fn: Callable[[], T], timeout: float, sleep: Callable[[float], None]) -> T:
    """One keyring operation, its failures as KeyringUnavailable (exit 5).

    Transient failures are tried again (TRIES in all, a short pause between): under many
    concurrent clients gnome-keyring has been seen to miss its default collection for a
    moment, which keyring's Secret Service backend reports as a failed "create the
    collection" prompt. Every operation here is idempotent, so a retry is safe; a locked
    keyring, no backend, or a refused write are final at once.
    """

    for attempt in range(TRIES):
        try:
            return _classify(fn, timeout)
        except _Transient as e:
            if attempt == TRIES - 1:
                raise e.error from e.__cause__
            sleep(RETRY_PAUSE * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _classify(fn: Callable[[], T], timeout: float) -> T:
    from keyring import errors as kerr

    try:
        return run_within(fn, timeout, "sfcred-keyring-call")
    except KeyringUnavailable:
        raise  # already named (the fleet store's own errors)
    except Expired:
        raise KeyringUnavailable(
            f"the keyring did not answer within {timeout:g} s",
            hint="its daemon may be stopped or waiting on an unlock prompt; unlock or "
            "restart it (SFCRED_KEYRING_TIMEOUT sets the wait), or " + WAYS_OUT,
        ) from None
    except kerr.KeyringLocked as e:
        raise KeyringUnavailable("the keyring is locked", hint=WAYS_OUT) from e
    except kerr.NoKeyringError as e:
        raise KeyringUnavailable("no usable keyring backend", hint=WAYS_OUT) from e
    except kerr.InitError as e:  # e.g. Secret Service: "Prompt dismissed" (locked, no UI)
        raise _Transient(KeyringUnavailable(
            f"the keyring could not be opened: {_reason(e)}", hint=WAYS_OUT
        )) from e
    except kerr.PasswordSetError as e:
        raise KeyringUnavailable(f"the keyring refused to store an item: {e}") from e
    except kerr.KeyringError as e:
        raise _Transient(
            KeyringUnavailable(f"keyring error: {_reason(e)}", hint=WAYS_OUT)
        ) from e
    except Exception as e:  # backends' own errors (D-Bus, secretstorage, OS) surface here
        raise _Transient(
            KeyringUnavailable(f"the keyring failed: {_reason(e)}", hint=WAYS_OUT)
        ) from e

def _reason(e: Exception) -> str:
    """A keyring error's own words (they name states, never stored values), on one line."""
    name = type(e).__name__
    text = " ".join(str(e).split())[:200]
    if text.startswith(f"{name}:"):  # some backends put their type in the message already
        text = text[len(name) + 1 :].strip()
    return f"{name}: {text}" if text else name


def load_backend() -> Any:
    import keyring

    return keyring.get_keyring()


class Reads:
    """Reads through the backend: ``get_password``, except for keyring's own Secret Service
    backend, whose every call opens a new D-Bus connection (connect, authenticate, find the
    collection: about 25 ms each here, and a mint reads three items). For it, the collection
    the backend itself picks (``get_preferred_collection``: the user's choice, unlocked as it
    unlocks it) is opened once per process and searched with the backend's own query, which is
    what its ``get_password`` does. The encrypted session each secret is sent in (a
    Diffie-Hellman exchange: 16 ms here, 11 of them Python's own ``pow``) is also opened once
    and given to every item read, as secretstorage's ``Item`` allows. A connection busy in an
    abandoned call (a keyring call that ran out of time) is never shared: that call's
    successor opens its own."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._collection: Any = None
        self._session: Any = None  # secretstorage's Session, opened by the first read

    def get(self, backend: Any, service: str, item: str) -> str | None:
        kind = type(backend)
        if (kind.__module__, kind.__qualname__) != ("keyring.backends.SecretService", "Keyring") \
                or not hasattr(backend, "_query"):
            value: str | None = backend.get_password(service, item)
            return value
        if not self._lock.acquire(blocking=False):
            value = backend.get_password(service, item)
            return value
        try:
            if self._collection is None:
                self._collection = backend.get_preferred_collection()
            try:
                for found in self._collection.search_items(backend._query(service, item)):
                    backend.unlock(found)
                    if self._session is not None:
                        found.session = self._session
                    text: str = found.get_secret().decode("utf-8")
                    self._session = found.session
                    return text
                return None
            except Exception:
                self._close()  # a broken connection is not reused by the retry
                raise
        finally:
            self._lock.release()

    def _close(self) -> None:
        collection, self._collection, self._session = self._collection, None, None
        with contextlib.suppress(Exception):
            collection.connection.close()
