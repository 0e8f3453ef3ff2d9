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
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sfcred.cache import Entry
from sfcred.protocol import Request
from sfcred.secret import Secret

if TYPE_CHECKING:
    from sfcred.tokens import Tokens

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
    from sfcred.helper import pick

    choice, tokens = pick(Request(host=host), profile, os.environ, app.provider(log.warning))
    return choice.name, tokens


def get_token(profile: str | None = None, *, host: str | None = None) -> Token:
    """A token for ``profile`` (or the profile owning ``host``; or as ``sfcred get`` chooses,
    CI mode included)."""
    name, tokens = _pick(profile, host)
    return Token.of(tokens.get(name))


def erase_token(profile: str | None = None, *, host: str | None = None,
                token: str | None = None) -> bool:
    """Forget the cached token (all of it, or only when it is ``token``: the one that got a
    401). True when one was forgotten. Keys and profiles stay."""
    name, tokens = _pick(profile, host)
    tokens.known(name)
    return tokens.erase(name, Secret(token) if token is not None else None)
