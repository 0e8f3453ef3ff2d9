"""Which keyring backend: keyring's own choice, found once and remembered.

keyring picks its backend in every process: ``PYTHON_KEYRING_BACKEND``, else the
``default-keyring`` of ``keyringrc.cfg``, else it imports every installed backend and asks each
for its priority. That last step cost 100 ms of a 780 ms cold ``get`` here, more than the token
request: on Linux the macOS backend runs ``ctypes.util.find_library`` three times (each a
``gcc`` or ``ldconfig`` subprocess, 20 ms apiece), and the Secret Service backend opens a D-Bus
connection to see whether a daemon answers. So:

- ``PYTHON_KEYRING_BACKEND`` set, a ``keyringrc.cfg`` present, or keyring already loaded in
  this process (a program that uses keyring itself, and may have named a backend with
  ``keyring.set_keyring``; or an earlier choice made here): keyring decides, as it always does
  (``keyring.get_keyring()``, which costs nothing once a backend is set). Only keyring's public
  names are used: whether keyring is loaded is ``sys.modules``'s to say, and which backend was
  set by whom is told by identity (the ones set here are kept in ``_ours``; the ones keyring's
  discovery made come from ``keyring.backend.get_all_keyring()``).
- Otherwise the backend keyring's discovery chose is remembered (``keyrecord``: one record
  per basis, a digest of the Python, its ``sys.path`` folders and the environment keyring's
  choice rests on). A later process with the same basis loads that backend as
  ``PYTHON_KEYRING_BACKEND`` would (``keyring.core.load_keyring``: its priority check, which
  fails when its daemon is gone, then the class). Any difference, or a failed check, runs
  keyring's discovery again.
- The record is a hint, never an authority: only a backend of ``SECURE`` (keyring's own, each
  keeping secrets in the OS's protected store) is remembered or recalled; a record naming
  anything else (a plaintext file backend recorded while the Secret Service was down, a
  ``fail`` backend, a planted module) is never imported, and discovery runs again and
  replaces it. A chain (``chainer``, keyring's choice when keyrings.alt sits beside a Secret
  Service) whose first backend, the one its writes go to, is in ``SECURE`` is used as that
  backend alone: sfcred never reads an item from the plaintext file behind it.
- Writes never rely on the record: ``for_write`` asks keyring afresh (``writes`` decides).
- ``sfcred doctor`` forgets the record, so it always reports keyring's fresh choice.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sfcred import fsutil
from sfcred.store import keyrecord

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"  # noqa: S105  # a class name
# The only backends a record may name (and so the only modules a record makes sfcred import).
SECURE = frozenset({
    SECRET_SERVICE,
    "keyring.backends.libsecret.Keyring",
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
})
CHAINER = "keyring.backends.chainer"
_ours: list[Any] = []  # backends keyfind set in keyring.core: not a choice made by the program


def backend() -> Any:
    """The keyring backend keyring would choose, without its discovery when it was done before
    on the same basis."""
    if _loaded():
        return _current()
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return _keyring_choice()
    basis = keyrecord.basis()
    path = keyrecord.record_path(basis)
    remembered = _recall(path, basis)
    if remembered is not None:
        return remembered
    found = _keyring_choice()
    _ours.append(found)  # keyring's discovery set it, not the program: no one named it
    chosen = _unchained(found)
    _remember(path, basis, chosen)
    return chosen


def for_write() -> tuple[Any, str]:
    """keyring's own choice now, whatever the record says, and who named it: the variable
    ``PYTHON_KEYRING_BACKEND``, ``keyringrc.cfg``, ``keyring.set_keyring`` in this process, or
    "" (keyring's discovery chose it)."""
    program = _programs_choice()
    import keyring.core

    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return program or keyring.core.load_env(), "PYTHON_KEYRING_BACKEND"
    configured = keyring.core.load_config()
    if program is not None:
        if configured is not None and type(configured) is type(program):
            return program, _config_file()
        return program, "keyring.set_keyring"
    if configured is not None:
        return configured, _config_file()
    import keyring.backend
    from keyring.backends import fail

    found = max(keyring.backend.get_all_keyring(),
                default=fail.Keyring(),  # type: ignore[no-untyped-call]  # keyring is untyped
                key=keyring.backend.by_priority)
    chosen = _unchained(found)
    _adopt(chosen)
    basis = keyrecord.basis()
    _remember(keyrecord.record_path(basis), basis, chosen)  # the write's check refreshes the record
    return chosen, ""


def _loaded() -> bool:
    """keyring is imported in this process: by a program that uses it (and may have set a
    backend), or by an earlier choice made here (which set one). A process that has not
    loaded it (the sfcred command, a program that leaves keyring to sfcred) has no backend
    chosen yet: the record may answer. sfcred's own failure paths import ``keyring.errors``
    too; a later choice then asks keyring, at the cost of its discovery, once."""
    return "keyring.core" in sys.modules


def _current() -> Any:
    """keyring's backend in this process (its discovery runs only if keyring is loaded but
    nothing chose yet); a chain headed by a SECURE backend is that backend alone."""
    chosen = _keyring_choice()
    if _set_here(chosen):
        return chosen
    return _unchained(chosen)


def _set_here(chosen: Any) -> bool:
    """keyfind set this very backend (the record's, or a discovery's): nobody named it."""
    return any(chosen is b for b in _ours)


def _programs_choice() -> Any:
    """The backend a program named in this process (``keyring.set_keyring``, or keyring's
    load of ``PYTHON_KEYRING_BACKEND`` or keyringrc.cfg for it), or None: keyring not loaded,
    the backend one keyfind set (the record's, or a discovery's), or one keyring's discovery
    chose for the program (the very instance ``get_all_keyring`` made, so nobody named it)."""
    if not _loaded():
        return None
    import keyring.backend

    current = _keyring_choice()
    if _set_here(current):
        return None
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return current  # loaded from the variable, or set by the program: named either way
    if any(current is b for b in keyring.backend.get_all_keyring()):
        return None
    return current


def _config_file() -> str:
    from keyring.util import platform_

    return str(platform_.config_root() / "keyringrc.cfg")


def name_of(chosen: Any) -> str:
    kind = type(chosen)
    return f"{kind.__module__}.{kind.__qualname__}"


def chain_head(chosen: Any) -> Any:
    """The backend a chain's writes go to (its first), or the backend itself."""
    if type(chosen).__module__ != CHAINER:
        return chosen
    try:
        return type(chosen).backends[0]
    except Exception:  # an empty chain: nothing to write to
        return chosen


def _unchained(chosen: Any) -> Any:
    """A chain headed by a SECURE backend is used as that backend alone (keyring's writes go
    there anyway); reads then never fall through to a plaintext file behind it."""
    head = chain_head(chosen)
    if head is chosen or name_of(head) not in SECURE:
        return chosen
    _adopt(head)
    return head


def _adopt(chosen: Any) -> None:
    import keyring.core

    keyring.core.set_keyring(chosen)  # get_keyring() agrees in this process
    _ours.append(chosen)


def _keyring_choice() -> Any:
    import keyring

    return keyring.get_keyring()


def _recall(path: str, basis: str) -> Any:
    name = _remembered_name(path, basis)
    if name is None:
        return None
    import keyring.core

    try:  # name is in SECURE: only keyring's own modules are imported on a record's word
        chosen = keyring.core.load_keyring(name)
        _adopt(chosen)  # refuses a non-backend
    except Exception:  # gone, or not viable any more (its daemon stopped): discover again
        fsutil.remove(path)
        return None
    return chosen


def secret_service_assumed() -> bool:
    """keyring would choose its own Secret Service backend here, as far as can be known
    without importing keyring: ``PYTHON_KEYRING_BACKEND`` names it, or the record does (same
    basis, no config file); keyring is not loaded in this process (a program's own backend,
    perhaps set with ``set_keyring``, is read through); and no
    ``KEYRING_PROPERTY_*`` variable changes how the backend behaves (its collection, its
    attribute scheme). Whoever relies on this still makes the backend's own viability test
    (a Secret Service answers on the session bus) and leaves locked collections to keyring."""
    if any(name.startswith("KEYRING_PROPERTY_") for name in os.environ):
        return False
    if _loaded():
        return False  # keyring's own backend in this process: the program's, read through it
    named = os.environ.get("PYTHON_KEYRING_BACKEND")
    if named:
        return named == SECRET_SERVICE
    basis = keyrecord.basis()
    return _remembered_name(keyrecord.record_path(basis), basis) == SECRET_SERVICE


def _remember(path: str, basis: str, chosen: Any) -> None:
    """Keep keyring's choice for the next process, when it is one of SECURE; a chain, no
    backend or a file is never remembered, and a stale record naming another backend goes."""
    config = _config_file()
    if os.path.lexists(config):
        return  # keyring's config chose: the record is not read while it exists
    name = name_of(chosen)
    if name in SECURE:
        keyrecord.write(path, basis, name, [config])
    else:
        fsutil.remove(path)


def _remembered_name(path: str, basis: str) -> str | None:
    name = keyrecord.read(path, basis)
    return name if name in SECURE else None
