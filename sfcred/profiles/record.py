"""Profiles: what one org connection is and how its names and URLs are checked.

The record lives in the keyring (``keystore``); the non-secret index is ``index.py``.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from sfcred.errors import ConfigError, InputError
from sfcred.untrusted import check_allow_host, host_allowed, host_name, is_loopback, origin

PRODUCTION = "https://login.salesforce.com"
SANDBOX = "https://test.salesforce.com"
SHORTHANDS = {"production": PRODUCTION, "sandbox": SANDBOX}
DEFAULT_TTL = 900
DEFAULT_MARGIN = 60
JWT_BEARER = "jwt-bearer"
CLIENT_CREDENTIALS = "client-credentials"
GRANT_NAMES = (JWT_BEARER, CLIENT_CREDENTIALS)

def check_budget(value: int | None) -> int | None:
    """``--login-budget``: token requests an hour, 1 to 3600 (Salesforce blocks at 3,600)."""
    if value is not None and not 1 <= value <= 3600:
        raise InputError("--login-budget must be between 1 and 3600 token requests an hour")
    return value


def check_url(value: str, what: str) -> str:
    """An origin URL: https, or http on loopback only; no path, query or credentials."""
    url = SHORTHANDS.get(value, value).strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # parsing the port validates it
    except ValueError:
        raise InputError(f"{what} {value!r} is not a valid URL") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InputError(f"{what} {value!r} must be an https:// URL, e.g. {PRODUCTION}")
    if parts.scheme == "http" and not is_loopback(host):
        raise InputError(
            f"{what} {value!r} uses plain http: only https is allowed, except for loopback hosts"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError(f"{what} {value!r} must not hold credentials, a query or a fragment")
    if parts.path.strip("/"):
        raise InputError(f"{what} {value!r} must be just the scheme and host, without a path")
    url = f"{parts.scheme}://{parts.netloc.lower()}"
    if origin(url) is None:  # spaces, backslashes, non-ASCII: what urlsplit lets through
        raise InputError(f"{what} {value!r} has characters a host name cannot have")
    return url


def check_allow_hosts(values: list[str] | tuple[str, ...], what: str = "--allow-host",
                      ) -> tuple[str, ...]:
    """``--allow-host`` values as stored: plain hosts (or host:port), lower case, unique."""
    out: list[str] = []
    for value in values:
        host = check_allow_host(value)
        if host is None:
            raise InputError(f"{what} {value!r} is not a host name (e.g. my.example.org)")
        if host not in out:
            out.append(host)
    return tuple(out)


def require_salesforce_host(url: str, allow: tuple[str, ...], what: str,
                            fix: str = "--allow-host") -> str:
    """``url`` (a checked origin) when its host passes the host rule
    (``untrusted.host_allowed``); else an error that names the host and the way out."""
    netloc_ = urlsplit(url).netloc
    if not host_allowed(netloc_, allow):
        host = host_name(netloc_)
        raise InputError(
            f"{what} {url}: {host} is not a Salesforce host; sfcred sends keys, assertions "
            "and tokens only to Salesforce's domains (*.salesforce.com, *.force.com, ...) "
            "and loopback",
            hint=f"if {host} really serves your org, allow it by name: {fix}"
            f"{'' if fix.endswith('=') else ' '}{host}",
        )
    return url


def require_my_domain(login_url: str, what: str) -> str:
    """A client credentials login URL: Salesforce serves that grant at My Domains only."""
    host = (urlsplit(login_url).hostname or "").lower()
    if host in ("login.salesforce.com", "test.salesforce.com"):
        raise InputError(
            f"{what} {login_url}: Salesforce serves the client credentials flow only at the "
            "org's My Domain",
            hint="give the My Domain URL (Setup, My Domain), e.g. "
            "https://MYDOMAIN.my.salesforce.com")
    return login_url


def default_audience(login_url: str) -> str:
    host = (urlsplit(login_url).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX
    if host == "login.salesforce.com" or host.endswith(".my.salesforce.com"):
        return PRODUCTION
    return login_url


def netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True)
class KeySlots:
    """Key ids of a profile. Rotation changes these in one keyring write (see rotate.py)."""

    active: str
    pending: str | None = None
    previous: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    client_id: str
    username: str
    login_url: str
    audience: str
    keys: KeySlots
    token_ttl: int = DEFAULT_TTL
    refresh_margin: int = DEFAULT_MARGIN
    created_at: int = 0
    # Bumped on every change: a mint that finds a key gone compares it to tell a record
    # changed by another process (re-read and retry) from a damaged one (tokens.Tokens._mint).
    revision: int = 1
    # rotate --deploy: the app it writes to (remembered after a successful run), and the key
    # a run is deploying (set at its start, cleared at its end: a rerun resumes that key).
    deploy_app: str | None = None
    deploy_eca: bool = False
    deploying: str | None = None
    # Hosts outside Salesforce's domains that this profile may send secrets to and learn as
    # its instance (``--allow-host``; untrusted.host_allowed). Empty for almost everyone.
    allow_hosts: tuple[str, ...] = ()
    # Key ids read from a file the user has (--key-file, import-sf): removing the profile
    # loses no key of these. Every other key (generated, rotated) exists only in the store,
    # so `profile remove` asks first. Older records have none: every key counts as the only copy.
    imported_keys: tuple[str, ...] = ()
    # Token requests per hour this profile's user may make (--login-budget; tokens.budget).
    login_budget: int | None = None

    # How it mints (salesforce.grants): "jwt-bearer" signs with its key; "client-credentials"
    # sends its consumer secret (its key slots hold secrets) and learns its username, the
    # app's Run As user, from the first token.
    grant: str = JWT_BEARER

    @property
    def default_ttl(self) -> bool:
        """The TTL is the default (not one the user chose): a JWT access token's exp may
        replace it (``salesforce.jwtexp``)."""
        return self.token_ttl == DEFAULT_TTL

    @property
    def client_credentials(self) -> bool:
        return self.grant == CLIENT_CREDENTIALS

    def to_json(self) -> str:
        # A field at its default is left out (read back as the default): the record must fit
        # one keyring item (1,280 characters on Windows) whatever fields are added.
        data = {k: v for k, v in asdict(self).items()
                if k not in _DEFAULTS or v != _DEFAULTS[k]}
        return json.dumps({"v": 1, **data}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            data = json.loads(text)
            data.pop("v", None)
            data["keys"] = KeySlots(**data["keys"])
            for listed in ("allow_hosts", "imported_keys"):
                items = data.get(listed) or []
                if not isinstance(items, list) or not all(isinstance(h, str) for h in items):
                    raise TypeError(listed)
                data[listed] = tuple(items)
            if data.setdefault("grant", JWT_BEARER) not in GRANT_NAMES:
                raise ValueError("grant")  # a later version's grant: not minted with a guess
            known = {f.name for f in fields(cls)}  # a later version's fields are left out
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
            raise ConfigError(
                "the stored profile record is unreadable",
                hint="remove it with `sfcred profile remove NAME` and add it again",
            ) from e

    def changed(self, **kw: Any) -> Profile:
        return replace(self, revision=self.revision + 1, **kw)


_DEFAULTS = {f.name: f.default for f in fields(Profile) if f.default is not MISSING}
