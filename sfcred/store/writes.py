"""Where a key or a profile may be written: keyring's own choice now, never a plaintext file
it fell back to by itself.

keyring falls back to keyrings.alt's file backends when no better backend is viable (a Secret
Service that D-Bus does not start, say): ``PlaintextKeyring`` keeps secrets base64 only in
``~/.local/share/python_keyring/keyring_pass.cfg``. A private key must never land there
because a daemon was down for a moment. So every write asks keyring afresh
(``keyfind.for_write``: the record is never trusted for it) and:

- a backend in ``keyfind.SECURE``, or any other that keyring rates as recommended (priority 1
  or more) and that keeps no file of its own: written to;
- a file backend (a ``file_path``, or any keyrings.alt one) or one keyring rates below
  recommended: refused (exit 5, where the key would have gone, and the ways out) unless the
  user named it (``PYTHON_KEYRING_BACKEND``, keyringrc.cfg's ``default-keyring``, or
  ``keyring.set_keyring`` in a program); named, it is written to, with a warning naming the
  file when it has one;
- ``fail`` (no backend at all) is left to fail on its own, as "no usable keyring backend".
"""

from __future__ import annotations

from typing import Any

from sfcred.errors import KeyringUnavailable
from sfcred.store import keyfind

FAIL = "keyring.backends.fail"


def target() -> tuple[Any, str | None]:
    """The backend a write goes to, and a warning to show first (or None); raises
    KeyringUnavailable for a file backend nobody named."""
    chosen, named_by = keyfind.for_write()
    head = keyfind.chain_head(chosen)
    if not _doubtful(head):
        return chosen, None
    name = keyfind.name_of(head)
    path = file_of(head)
    if named_by:
        if path is None and not name.startswith("keyrings.alt."):
            return chosen, None  # named, and not a file: the user's choice, as is
        where = f"a file, {path}" if path else "a file"
        return chosen, (f"warning: keys and profiles go to {name} ({where}), as "
                        f"{named_by} names it; they are not protected by the OS keyring")
    where = f" ({path})" if path else ""
    kind = "a file backend" if path or name.startswith("keyrings.alt.") else \
        "a backend keyring rates not secure"
    raise KeyringUnavailable(
        f"refusing to store a key or profile in {name}{where}: {kind} that keyring fell back "
        f"to, named by nobody; start the Secret Service (GNOME Keyring, KeePassXC) and run "
        f"again, or name it on purpose (PYTHON_KEYRING_BACKEND={name}, or default-keyring in "
        f"keyringrc.cfg)")


def file_of(backend: Any) -> str | None:
    """The file a backend keeps its secrets in, when it says (keyrings.alt's ``file_path``)."""
    try:
        path = getattr(backend, "file_path", None)
    except Exception:  # a property that fails: no file to name
        return None
    return str(path) if path else None


def _doubtful(backend: Any) -> bool:
    """Not a place for a private key unless named: a file backend, or one keyring itself
    would not recommend (``keyring.core.recommended``: priority below 1)."""
    name = keyfind.name_of(backend)
    if name in keyfind.SECURE or type(backend).__module__ == FAIL:
        return False
    if name.startswith("keyrings.alt.") or file_of(backend) is not None:
        return True
    try:
        return float(backend.priority) < 1
    except Exception:  # not viable, or no number: keyring would not choose it either
        return True
