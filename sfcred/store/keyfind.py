"""Which keyring backend: keyring's own choice, found once and remembered.

keyring picks its backend in every process: ``PYTHON_KEYRING_BACKEND``, else the
``default-keyring`` of ``keyringrc.cfg``, else it imports every installed backend and asks each
for its priority. That last step cost 100 ms of a 780 ms cold ``get`` here, more than the token
request: on Linux the macOS backend runs ``ctypes.util.find_library`` three times (each a
``gcc`` or ``ldconfig`` subprocess, 20 ms apiece), and the Secret Service backend opens a D-Bus
connection to see whether a daemon answers. So:

- ``PYTHON_KEYRING_BACKEND`` set, a ``keyringrc.cfg`` present, or a backend already chosen in
  this process (``keyring.set_keyring``): keyring decides, as it always does.
- Otherwise the backend keyring's discovery chose is remembered in
  ``keyring-backend-DIGEST.json`` (in sfcred's runtime dir, else its cache dir; at most
  ``KEEP`` of them), named by and holding a digest of what that choice rests on:
  the Python and each ``sys.path`` folder but the script's own with its modification time
  (installing, upgrading or removing a package changes its folder), and the environment
  variables the backends and keyring's config lookup read (the D-Bus session, the desktop,
  the home and XDG folders).
  A later process with the same digest loads that backend as ``PYTHON_KEYRING_BACKEND`` would
  (``keyring.core.load_keyring``: its priority check, which fails when its daemon is gone,
  then the class). Any difference, or a failed check, runs keyring's discovery again.
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

from sfcred import fsread, fsutil
from sfcred.errors import ConfigError

RECORD = "keyring-backend-"  # + the basis's first 24 hex digits + ".json": one per install
KEEP = 8  # records kept in a folder; older ones go when a new one is written
VERSION = 1
# What the built-in backends' priorities and keyring's config lookup read from the environment.
ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS",
       "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION", "LOCALAPPDATA",
       "ProgramData", "KEYCHAIN_PATH")
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
    if os.environ.get("PYTHON_KEYRING_BACKEND") or _chosen_in_process():
        return _keyring_choice()
    basis = _basis()
    path = record_path(basis)
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
    import keyring.core

    current: Any = keyring.core._keyring_backend
    if any(current is b for b in _ours):
        current = None  # the record's, or discovery's: asked again below
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return current or keyring.core.load_env(), "PYTHON_KEYRING_BACKEND"
    if current is not None:
        return current, "keyring.set_keyring"
    configured = keyring.core.load_config()
    if configured is not None:
        from keyring.util import platform_

        return configured, str(platform_.config_root() / "keyringrc.cfg")
    import keyring.backend
    from keyring.backends import fail

    found = max(keyring.backend.get_all_keyring(),
                default=fail.Keyring(),  # type: ignore[no-untyped-call]  # keyring is untyped
                key=keyring.backend.by_priority)
    chosen = _unchained(found)
    _adopt(chosen)
    basis = _basis()
    _remember(record_path(basis), basis, chosen)  # the write's check refreshes the record
    return chosen, ""


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


def forget() -> None:
    """Drop every remembered choice (``doctor``): the next process asks keyring afresh."""
    for path in _records():
        fsutil.remove(path)


def record_path(basis: str | None = None) -> str:
    """This basis's record. One per basis, so two installs (a pipx one and a project's venv,
    or the two sides of an A/B benchmark) do not overwrite each other's in turn."""
    return os.path.join(_folder(), f"{RECORD}{(basis or _basis())[:24]}.json")


def _folder() -> str:
    from sfcred.fsread import runtime_dir

    return runtime_dir() or fsutil.cache_dir()


def _records() -> list[str]:
    folder = _folder()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if n.startswith(RECORD) and n.endswith(".json")]


def _prune(keep: str) -> None:
    """At most KEEP records: the least recently written go first."""
    def written(path: str) -> float:
        try:
            return os.lstat(path).st_mtime
        except OSError:
            return 0.0

    others = sorted((p for p in _records() if p != keep), key=written, reverse=True)
    for path in others[KEEP - 1:]:
        fsutil.remove(path)


def _chosen_in_process() -> bool:
    """A backend is set in this process already (``keyring.set_keyring``, or keyring's own
    choice made earlier): keyring's, and never replaced. The one read of a private name of
    keyring's here (``core._keyring_backend``, also in ``for_write``): keyring has no public
    "is a backend set" question, and ``get_keyring()`` would answer by running the discovery
    this module exists to skip."""
    core = sys.modules.get("keyring.core")
    return core is not None and getattr(core, "_keyring_backend", None) is not None


def _keyring_choice() -> Any:
    import keyring

    return keyring.get_keyring()


def _basis() -> str:
    import hashlib

    parts = [sys.version, sys.platform]  # the folders below name the interpreter's install
    # sys.path[0] is the running script's folder (or "" for -c): left out, so that sfcred,
    # git-credential-sfcred and a program using the Python API share one record.
    for entry in sys.path[0 if getattr(sys.flags, "safe_path", False) else 1:]:
        try:
            parts.append(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}\0-")
    parts += [f"{name}={os.environ.get(name, chr(0))}" for name in ENV]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


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


def _remembered_name(path: str, basis: str) -> str | None:
    """The backend the record names, when it is one of SECURE, was written on this basis,
    and no config file has appeared since; else None."""
    import json

    raw = fsread.read_private(path, 4096)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        name, configs = data["backend"], data["config"]
        if data["v"] != VERSION or data["basis"] != basis or name not in SECURE \
                or not all(isinstance(c, str) for c in configs):
            return None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if any(os.path.lexists(c) for c in configs):
        return None  # a config file appeared: keyring reads it
    return str(name)


def secret_service_assumed() -> bool:
    """keyring would choose its own Secret Service backend here, as far as can be known
    without importing keyring: ``PYTHON_KEYRING_BACKEND`` names it, or the record does (same
    basis, no config file); nothing was chosen in this process with ``set_keyring``; and no
    ``KEYRING_PROPERTY_*`` variable changes how the backend behaves (its collection, its
    attribute scheme). Whoever relies on this still makes the backend's own viability test
    (a Secret Service answers on the session bus) and leaves locked collections to keyring."""
    if any(name.startswith("KEYRING_PROPERTY_") for name in os.environ):
        return False
    if _chosen_in_process():
        return False
    named = os.environ.get("PYTHON_KEYRING_BACKEND")
    if named:
        return named == SECRET_SERVICE
    basis = _basis()
    return _remembered_name(record_path(basis), basis) == SECRET_SERVICE


def _remember(path: str, basis: str, chosen: Any) -> None:
    import json

    from keyring.util import platform_

    name = name_of(chosen)
    configs = [str(platform_.config_root() / "keyringrc.cfg")]
    if any(os.path.lexists(c) for c in configs):
        return  # keyring's config chose: the record is not read while it exists
    if name not in SECURE:  # a chain, no backend, a file: nothing to remember, and a stale
        fsutil.remove(path)  # record naming another backend goes
        return
    record = json.dumps({"v": VERSION, "backend": name, "basis": basis, "config": configs})
    try:
        fsutil.private_dir(os.path.dirname(path))
        fsutil.atomic_write(path, record)
        _prune(path)
    except (OSError, ConfigError):
        pass  # only a speed-up: the next process discovers again
