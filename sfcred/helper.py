"""get / store / erase: choose the profile, answer from the cache, mint when needed.

The warm path (a FRESH cached token) reads two small files and imports nothing heavy: the
keyring, httpx, jwt and cryptography load only when a token must be minted.
Concurrent callers on a cold or stale cache take the profile's lock, re-read the cache inside
it, and only the first one mints (single flight).
"""

from __future__ import annotations

import time
from contextlib import contextmanager  # cheap, and fsutil loads it anyway

from sfcred import cache as cache_mod
from sfcred.errors import ConfigError, InputError, KeyringUnavailable, SalesforceUnreachable
from sfcred.index import check_name

TYPE_CHECKING = False  # the warm path must not pay for importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sfcred.index import Index, IndexFile
    from sfcred.jwt_bearer import TokenClient
    from sfcred.keystore import KeyStore
    from sfcred.profiles import Profile
    from sfcred.protocol import Request


def choose(
    req: Request, flag: str | None, env_profile: str | None, load_index: Callable[[], Index]
) -> str:
    """SPEC.md, Profile choice: first match wins; a named host never falls back to the default.

    A present but empty ``host=`` is refused first, whatever else names a profile: it is how
    a malformed URL asks for credentials for a host nobody named. The index is read only when
    no name is given, so a named warm ``get`` reads nothing but its cache file.
    """
    if req.host == "":
        raise InputError("the request has an empty host=; refusing it")
    for name in (flag, req.profile, env_profile):
        if name:
            return check_name(name)
    index = load_index()
    if req.host is not None:
        matches = index.match_host(req.host, req.username)
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InputError(
                f"host {req.host} matches several profiles ({', '.join(matches)}); "
                "pass username= or -p NAME"
            )
        raise InputError(f"no profile for host {req.host}; pass -p NAME or profile=NAME")
    if index.default:
        return index.default
    raise InputError("no profile chosen: pass -p NAME, set SFCRED_PROFILE, or set a default")


class Helper:
    def __init__(
        self,
        *,
        index: IndexFile,
        store: Callable[[], KeyStore],
        client: Callable[[], TokenClient],
        cache: Callable[[], cache_mod.TokenCache],
        clock: Callable[[], float] = time.time,
        note: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.index = index
        self._store = store
        self._client = client
        self._cache = cache
        self.clock = clock
        self.note = note
        self._store_obj: KeyStore | None = None
        self._cache_obj: cache_mod.TokenCache | None = None

    @property
    def store(self) -> KeyStore:
        if self._store_obj is None:
            self._store_obj = self._store()
        return self._store_obj

    @property
    def cache(self) -> cache_mod.TokenCache:
        if self._cache_obj is None:
            self._cache_obj = self._cache()
        return self._cache_obj

    def get(self, name: str) -> cache_mod.Entry:
        entry = self.cache.read(name)
        if entry is not None and entry.state(self.clock()) == cache_mod.State.FRESH:
            return entry
        self.known(name)
        with self.cache.lock(name):
            # Someone may have minted while we waited for the lock: that is the single flight.
            entry = self.cache.read(name)
            if entry is not None and entry.state(self.clock()) == cache_mod.State.FRESH:
                return entry
            try:
                return self._mint(name)
            except (SalesforceUnreachable, KeyringUnavailable) as e:
                # The token still works until it expires: a refresh that cannot happen now
                # (network down, keyring locked) is not a reason to fail the caller.
                if entry is not None and entry.state(self.clock()) == cache_mod.State.STALE:
                    what = ("Salesforce is unreachable" if isinstance(e, SalesforceUnreachable)
                            else "the keyring is unavailable")
                    self.note(f"{what}; serving the cached token until it expires")
                    return entry
                raise

    def _mint(self, name: str) -> cache_mod.Entry:
        from sfcred import rotate

        client = self._client()
        try:
            profile = self.store.require_profile(name)
            try:
                token, profile = rotate.mint_with_rotation(self.store, client, profile, self.note)
            except ConfigError:
                # A key named by the record we read is gone: a rotation step in a process
                # outside our lock (another runtime dir) changed the record meanwhile. Read
                # the record again and retry once; if it did not change, the error stands.
                current = self.store.require_profile(name)
                if current.revision == profile.revision and current.keys == profile.keys:
                    raise
                token, profile = rotate.mint_with_rotation(self.store, client, current, self.note)
        finally:
            client.close()
        now = self.clock()
        entry = cache_mod.Entry(
            profile=name,
            username=profile.username,
            access_token=token.access_token,
            instance_url=token.instance_url,
            minted_at=now,
            expires_at=now + profile.token_ttl,
            margin=profile.refresh_margin,
        )
        self.cache.write(entry)
        self._remember_instance(profile, token.instance_url)
        return entry

    def _remember_instance(self, profile: Profile, instance_url: str) -> None:
        from sfcred.profiles import netloc

        host = netloc(instance_url)
        entry = self.index.load().profiles.get(profile.name)
        if entry is not None and entry.instance_host == host:
            return
        with self.index.edit() as index:
            current = index.profiles.get(profile.name)
            if current is not None:
                current.instance_host = host

    @contextmanager
    def changing(self, name: str) -> Iterator[Profile]:
        """The profile, read under its lock (no get mints meanwhile); its token is dropped
        after a change, since it may belong to the old settings or key."""
        with self.cache.lock(name):
            yield self.store.require_profile(name)
            self.cache.drop(name)

    def erase(self, name: str) -> None:
        self.cache.drop(name)

    def known(self, name: str) -> None:
        """Refuse early, without the keyring, a name the index does not list."""
        if name not in self.index.load().profiles:
            raise ConfigError(f"no profile named {name!r}; see `sfcred profile list`")
