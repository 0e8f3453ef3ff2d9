"""Keyring backends for tests and the demo (select with ``PYTHON_KEYRING_BACKEND``).

- ``MemoryKeyring``: a dict, shared by every instance in one process. Fast unit tests and the
  demo when the OS has no usable keyring.
- ``LimitedKeyring``: like ``MemoryKeyring`` but refuses secrets over 1,280 characters, as
  Windows Credential Manager does, so tests prove sfcred stores keys on such a backend.
- ``FailKeyring``: every call raises ``keyring.errors.KeyringLocked``: the locked-keyring path.
- ``StoppedKeyring``: every call blocks (up to an hour), as a SIGSTOPped gnome-keyring daemon
  or an unlock prompt nobody answers does: the bounded-call path.
- ``FaultyKeyring``: delegates to another backend and kills the process, or fails, at its Nth
  write (``SFCRED_FAULT_*``): proves that a crash between any two writes loses nothing.
"""

from __future__ import annotations

import importlib
import os
import signal
from typing import ClassVar

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError

WINDOWS_LIMIT = 1280


class MemoryKeyring(KeyringBackend):
    priority = 0.1  # never chosen unless asked for by name
    store: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("no such password") from None

    @classmethod
    def clear(cls) -> None:
        cls.store.clear()


class LimitedKeyring(MemoryKeyring):
    limit = WINDOWS_LIMIT

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password) > self.limit:
            raise PasswordSetError(f"secret of {len(password)} characters exceeds {self.limit}")
        super().set_password(service, username, password)


class FailKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the test keyring is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the test keyring is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the test keyring is locked")


class StoppedKeyring(MemoryKeyring):
    """Never answers: each call waits an hour (``SFCRED_STOPPED_SECONDS`` shortens it)."""

    def _wait(self) -> None:
        import time

        time.sleep(float(os.environ.get("SFCRED_STOPPED_SECONDS") or 3600))

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        super().delete_password(service, username)


class SimulatedCrash(BaseException):
    """Raised by ``FaultyKeyring`` in mode ``crash``: the in-process stand-in for SIGKILL.

    A ``BaseException``, so no ``except Exception`` (or ``except KeyringError``) in sfcred can
    tidy up after it: what the keyring holds when it propagates is what a crash would leave.
    """


FAULT_MODES = ("count", "kill", "error", "crash")


class FaultyKeyring(KeyringBackend):
    """A backend that delegates to another and fails at the Nth WRITE (set or delete).

    Reads always pass through. Configured by constructor arguments, or, when the keyring
    library builds it from ``PYTHON_KEYRING_BACKEND=sfcred.testing.keyrings.FaultyKeyring``,
    by these environment variables:

    - ``SFCRED_FAULT_DELEGATE``: dotted name of the real backend class (default
      ``sfcred.testing.keyrings.MemoryKeyring``; for the real Secret Service
      ``keyring.backends.SecretService.Keyring``).
    - ``SFCRED_FAULT_AT``: which write of this process fails, counting from 1 (0 or unset:
      none). Writes before it reach the delegate; write N never does. What follows it
      depends on the mode: nothing (``kill``, ``crash``), or later writes pass (``error``).
    - ``SFCRED_FAULT_MODE``:
        ``kill``  SIGKILL this process just before write N (what a power cut or OOM kill does);
        ``error`` write N raises ``keyring.errors.PasswordSetError`` (deletes too: a
                  ``PasswordDeleteError`` would read as "already gone"); later writes pass;
        ``crash`` write N raises ``SimulatedCrash`` (in-process tests: a kill you can catch);
        ``count`` (default) never fails, only records.
    - ``SFCRED_FAULT_LOG``: a file; each write is appended as one line ``set ITEM`` or
      ``delete ITEM`` (item names only, never values) BEFORE it is attempted, so the log of a
      run in ``count`` mode says how many writes an operation does and in which order.

    The counter belongs to the instance: one per process when ``keyring`` builds it.
    """

    priority = 0.1  # never chosen unless asked for by name

    def __init__(
        self,
        delegate: KeyringBackend | None = None,
        *,
        at: int | None = None,
        mode: str | None = None,
        log: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring is untyped
        env = os.environ
        dotted = env.get("SFCRED_FAULT_DELEGATE") or f"{__name__}.MemoryKeyring"
        self.delegate = delegate if delegate is not None else _load(dotted)
        self.at = at if at is not None else int(env.get("SFCRED_FAULT_AT") or 0)
        self.mode = mode if mode is not None else env.get("SFCRED_FAULT_MODE") or "count"
        if self.mode not in FAULT_MODES:
            raise ValueError(f"SFCRED_FAULT_MODE must be one of {', '.join(FAULT_MODES)}")
        self.log = log if log is not None else env.get("SFCRED_FAULT_LOG")
        self.writes: list[str] = []

    def _write(self, what: str) -> None:
        self.writes.append(what)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write(what + "\n")
        if self.mode == "count" or len(self.writes) != self.at:
            return
        if self.mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if self.mode == "crash":
            raise SimulatedCrash(f"simulated crash at write {self.at}: {what}")
        raise PasswordSetError(f"injected failure at write {self.at}: {what}")

    def get_password(self, service: str, username: str) -> str | None:
        value: str | None = self.delegate.get_password(service, username)
        return value

    def set_password(self, service: str, username: str, password: str) -> None:
        self._write(f"set {username}")
        self.delegate.set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._write(f"delete {username}")
        self.delegate.delete_password(service, username)


def _load(dotted: str) -> KeyringBackend:
    module, _, name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    backend: KeyringBackend = cls()
    return backend
