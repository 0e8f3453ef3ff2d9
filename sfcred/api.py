"""The Python API: tokens for Python programs, with the CLI's profiles, cache and lock.

    tok = sfcred.get_token("prod")          # or get_token(host="acme.my.salesforce.com")
    tok.access_token, tok.instance_url, tok.expires_at, tok.profile, tok.username
    sfcred.erase_token("prod")              # forget it (a 401): the next get mints

The choice of profile is the CLI's (``choice.choose``): a name, else ``SFCRED_PROFILE``, else
the profile owning ``host``, else the default when no host is named; a host no profile owns is
``NotServed``. A FRESH cached token is returned without touching the keyring; otherwise one
process of all that ask mints (the same lock as ``sfcred get``). Errors are the CLI's
exception tree (``SfcredError`` and its subclasses, each with ``exit_code``). Notes the CLI
prints on stderr (a STALE token served, a cache that cannot be used) go to the ``sfcred``
logger.

A token is kept in the process (``_KEPT``) and handed out again without reading the cache
while it is FRESH and the files it came from are unchanged: its cache file, and the profile
index when that chose the profile (each by device, inode, size and mtime: an erase, a new
mint by any process, or a changed profile replaces them), with the same variables choosing.
A copy of a fleet token is kept only until it is due for its re-check against the store.
Measured by tests/bench/bench_api.py: get_token 78 µs -> 10-14 µs per call.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sfcred.fsread import stamp
from sfcred.helper.choice import CI_VARIABLE
from sfcred.helper.protocol import Request
from sfcred.secret import Secret
from sfcred.tokens.entry import FLEET_RECHECK, Entry, State

if TYPE_CHECKING:
    from sfcred.tokens.flight import Tokens

log = logging.getLogger("sfcred")


@dataclass(frozen=True)
class Token:
    """An access token and where it works. ``repr`` and ``str`` never show the token."""

    access_token: str = field(repr=False)
    instance_url: str
    expires_at: dt.datetime  # aware, UTC: when sfcred stops handing it out
    profile: str
    username: str

    @classmethod
    def of(cls, entry: Entry) -> Token:
        return cls(
            access_token=entry.access_token.reveal(),
            instance_url=entry.instance_url,
            expires_at=dt.datetime.fromtimestamp(entry.expires_at, dt.timezone.utc),
            profile=entry.profile,
            username=entry.username,
        )


def _pick(profile: str | None, host: str | None) -> tuple[str, Tokens]:
    import os

    from sfcred import app
    from sfcred.helper.serve import pick

    choice, tokens = pick(Request(host=host), profile, os.environ, app.provider(log.warning))
    return choice.name, tokens


@dataclass(frozen=True)
class _Kept:
    token: Token
    until: float  # when it stops being FRESH, or is due for a re-check against the fleet
    files: tuple[str, ...]
    stamps: tuple[tuple[int, ...] | None, ...]


_KEPT: dict[tuple[str | None, ...], _Kept] = {}


def _key(profile: str | None, host: str | None) -> tuple[str | None, ...]:
    """What chose the token: the arguments and the variables that choose a profile and say
    where its files are (a lookup costs 1-2 µs: only those that matter; the index's folder
    only when the index chooses, i.e. no profile is named)."""
    get = os.environ.get
    key: tuple[str | None, ...] = (profile, host, get("SFCRED_PROFILE"), get(CI_VARIABLE),
                                   get("XDG_RUNTIME_DIR"))
    if profile is None:
        key += (get("SFCRED_CONFIG_DIR"), get("XDG_CONFIG_HOME"))
    return key


def get_token(profile: str | None = None, *, host: str | None = None) -> Token:
    """A token for ``profile`` (or the profile owning ``host``; or as ``sfcred get`` chooses,
    CI mode included)."""
    key = _key(profile, host)
    kept = _KEPT.get(key)
    if kept is not None and time.time() < kept.until \
            and tuple(map(stamp, kept.files)) == kept.stamps:
        return kept.token
    _KEPT.pop(key, None)
    name, tokens = _pick(profile, host)
    from sfcred.profiles.index import index_file

    files = (tokens.cache.path(name),) if profile else (tokens.cache.path(name),
                                                         index_file().path)
    before = tuple(map(stamp, files))  # taken first: a change while reading shows next time
    entry = tokens.get(name)
    token = Token.of(entry)
    if before[0] is not None and entry.state(time.time()) == State.FRESH:
        until = entry.expires_at - entry.margin
        if entry.fleet_seen is not None:
            until = min(until, entry.fleet_seen + FLEET_RECHECK)
        _KEPT[key] = _Kept(token, until, files, before)
    return token


def erase_token(profile: str | None = None, *, host: str | None = None,
                token: str | None = None) -> bool:
    """Forget the cached token (all of it, or only when it is ``token``: the one that got a
    401). True when one was forgotten. Keys and profiles stay."""
    _KEPT.clear()  # whatever this process kept may be the token being erased
    name, tokens = _pick(profile, host)
    tokens.known(name)
    return tokens.erase(name, Secret(token) if token is not None else None)
