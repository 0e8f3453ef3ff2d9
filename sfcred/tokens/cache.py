"""The per-profile token cache: where tokens are kept, and the lock. What is kept, and when
it is fresh, is ``entry``'s.

Where: on a memory file system when there is one (``$XDG_RUNTIME_DIR/sfcred``, 0700; files
0600), as plain ``key=value`` lines (a warm ``get`` needs no keyring, crypto or ``json``);
else in the user cache dir sealed with AES-GCM under a key in the keyring, written once.

Nothing read back is trusted (docs/security.md): a folder of this user with no group or other
bits, a regular 0600 file of this user opened without following links or blocking, an entry
whose every field is sane. Anything else is a miss, never a crash. On the warm path: nothing
heavy is imported at module level.
"""

from __future__ import annotations

import os

from sfcred import fsread
from sfcred.errors import ConfigError, KeyringUnavailable
from sfcred.fsread import runtime_dir as runtime_dir  # where the plain cache lives
from sfcred.tokens.entry import MAX_ENTRY_BYTES, Entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sfcred.fsutil import Lock
    from sfcred.tokens.sealer import Sealer  # only the sealed cache needs it: off the warm path


class TokenCache:
    def __init__(self, directory: str | Path, sealer: Sealer | None = None) -> None:
        self.directory = str(directory)
        self.sealer = sealer  # None: the directory is on a memory file system
        self._distrusted = False  # set by check(): reads miss in this process

    @property
    def encrypted(self) -> bool:
        return self.sealer is not None

    def path(self, name: str) -> str:
        return os.path.join(self.directory, f"{name}.token")

    def check(self) -> tuple[str, bool] | None:
        """None when the folder can be trusted; else a note and whether the cache can be used:
        a folder of ours too open is tightened to 0700 and not read in this process (anything
        may be planted), then written; another user's folder, a link, a file: not used."""
        found = fsread.folder_problem(self.directory)
        if found is None:
            return None
        why, repairable = found
        if repairable:
            try:
                os.chmod(self.directory, 0o700)
            except OSError:
                repairable = False
            else:
                self._distrusted = True
                return (f"{why}; tightened it to 0700 and minted a fresh token instead of "
                        "reading it"), True
        return (f"{why}; not using the token cache (a fresh token is minted). Fix: remove "
                "that folder, or give it to this user with mode 0700"), False

    def read(self, name: str) -> Entry | None:
        if self._distrusted:
            return None
        raw = fsread.read_private(self.path(name), MAX_ENTRY_BYTES + 64)  # + the sealing
        if raw is None:
            return None
        if self.sealer is not None:
            try:
                opened = self.sealer.open(raw, name.encode())
            except (ConfigError, KeyringUnavailable):
                # A damaged sealing key, or one this machine may not read (a fleet consumer
                # with no runtime dir): a miss (writing it says why, once).
                return None
            if opened is None:
                return None
            raw = opened
        return Entry.from_bytes(raw, name)

    def stamp(self, name: str) -> tuple[int, ...] | None:  # api.get_token's kept token
        return fsread.stamp(self.path(name))

    def write(self, entry: Entry) -> None:
        raw = entry.to_bytes()
        if self.sealer is not None:
            raw = self.sealer.seal(raw, entry.profile.encode())
        from sfcred import fsutil  # writers: off the warm path (a FRESH get writes nothing)

        fsutil.atomic_write(self.path(entry.profile), raw)

    def drop(self, name: str) -> None:
        """The cached token, and the failure remembered beside it (``memory``): whoever
        drops the token (erase, a changed profile or key) wants the next get to ask again."""
        from sfcred import fsutil

        fsutil.remove(self.path(name))
        fsutil.remove(os.path.join(self.directory, f"{name}.failure"))

    def lock(self, name: str, timeout: float | None = None) -> Lock:
        from sfcred import fsutil  # the one wait by default (deadline.lock_wait)

        return fsutil.file_lock(os.path.join(self.directory, f"{name}.lock"), timeout)


class NoCache(TokenCache):
    """A cache that must not be used: reads miss, writes drop, locks are free (minting works;
    only the single flight across processes is lost)."""

    def __init__(self) -> None:
        super().__init__(os.devnull)

    def check(self) -> tuple[str, bool] | None:
        return None

    def read(self, name: str) -> Entry | None:
        return None

    def write(self, entry: Entry) -> None:
        return None

    def drop(self, name: str) -> None:
        return None

    def stamp(self, name: str) -> tuple[int, ...] | None:
        return None  # nothing cached: nothing to keep in memory either

    def lock(self, name: str, timeout: float | None = None) -> Lock:
        from sfcred import fsutil

        return fsutil.NoLock()


def open_cache(load_key: Callable[[], bytes]) -> TokenCache:
    """The cache for this machine: plain on a memory file system, else sealed on disk."""
    directory = runtime_dir()
    if directory is not None:
        return TokenCache(directory)
    from sfcred import fsutil

    disk = os.path.join(fsutil.cache_dir(), "tokens")

    def load_key_locked() -> bytes:
        # The keyring's read-or-create is not atomic: two first uses at once would each make a
        # key (a file sealed with the lost one is unreadable). No profile name starts with ".".
        with fsutil.file_lock(os.path.join(disk, ".cache-key.lock")):
            return load_key()

    from sfcred.tokens.sealer import Sealer

    return TokenCache(disk, Sealer(load_key_locked))

