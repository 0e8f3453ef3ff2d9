"""Keyring calls: each one bounded in time, its failures classified, transient ones retried.

The only place sfcred calls a keyring backend's methods (through ``KeyStore``). A call runs in
a daemon thread and is waited for at most ``SFCRED_KEYRING_TIMEOUT`` seconds (default 10): a
stopped gnome-keyring daemon, or an unlock prompt nobody will answer, is exit 5 in seconds
instead of a hang. Failures become ``KeyringUnavailable`` (exit 5) with the ways out.
"""

from __future__ import annotations

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
    except Exception as e:  # backends' own errors (D-Bus, secretstorage, OS) surface here
        raise _named(e) from e


def _named(e: Exception) -> Exception:
    """What a backend's error becomes: KeyringUnavailable (final), or _Transient (worth one
    more try). keyring's errors are imported only here, so a read that goes to the Secret
    Service directly (``secretservice``) imports no keyring unless it fails."""
    from keyring import errors as kerr

    if isinstance(e, kerr.KeyringLocked):
        return KeyringUnavailable("the keyring is locked", hint=WAYS_OUT)
    if isinstance(e, kerr.NoKeyringError):
        return KeyringUnavailable("no usable keyring backend", hint=WAYS_OUT)
    if isinstance(e, kerr.InitError):  # e.g. Secret Service: "Prompt dismissed" (no UI)
        return _Transient(KeyringUnavailable(
            f"the keyring could not be opened: {_reason(e)}", hint=WAYS_OUT))
    if isinstance(e, kerr.PasswordSetError):
        return KeyringUnavailable(f"the keyring refused to store an item: {e}")
    if isinstance(e, kerr.KeyringError):
        return _Transient(KeyringUnavailable(f"keyring error: {_reason(e)}", hint=WAYS_OUT))
    return _Transient(KeyringUnavailable(f"the keyring failed: {_reason(e)}", hint=WAYS_OUT))


def _reason(e: Exception) -> str:
    """A keyring error's own words (they name states, never stored values), on one line."""
    name = type(e).__name__
    text = " ".join(str(e).split())[:200]
    if text.startswith(f"{name}:"):  # some backends put their type in the message already
        text = text[len(name) + 1 :].strip()
    return f"{name}: {text}" if text else name


def load_backend() -> Any:
    from sfcred.store import keyfind

    return keyfind.backend()
