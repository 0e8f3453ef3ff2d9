"""Whether a token record read from the fleet store may be served here.

Every writer of ``tokens/`` (each machine with the minter policy) can publish any record, so a
record is a claim, checked against what this machine knows of the profile before it is served
or copied into the local cache:

- its instance is the profile's known instance (learned from this machine's own mints), or,
  none known yet, a host the Salesforce host rule allows (``untrusted.host_allowed``, with the
  profile's ``--allow-host`` hosts): never ``https://attacker.example.net``;
- it expires at most the profile's token TTL after it was minted (a JWT access token: its own
  exp, as ``salesforce.jwtexp`` allows it, never past a day), and was not minted in the
  future beyond a clock skew: neither a year-5138 expiry nor a writer's clock far ahead makes a
  token live longer than a token minted here would.

The size cap is the reader's (``SharedTokens.read``). A refusal is a reason to print (the
instance, the times; never the token).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sfcred.profiles.index import host_schemes
from sfcred.salesforce.jwtexp import cache_life
from sfcred.untrusted import host_allowed, origin, same_host

if TYPE_CHECKING:
    from sfcred.profiles.index import IndexEntry
    from sfcred.profiles.record import Profile
    from sfcred.tokens.entry import Entry

CLOCK_SKEW = 300.0  # how far ahead another machine's clock may be (doctor fails at 15 s)


def vetter(profile: Profile, known: IndexEntry | None,
           clock: Callable[[], float]) -> Callable[[Entry], str | None]:
    """The check of a fleet record of ``profile``: None to serve it, else why not."""

    def vet(entry: Entry) -> str | None:
        life = cache_life(entry.minted_at, profile.token_ttl, profile.default_ttl,
                          entry.access_token.reveal())
        return (_instance(entry.instance_url, profile, known)
                or _times(entry, max(life, profile.token_ttl), clock()))

    return vet


def _instance(url: str, profile: Profile, known: IndexEntry | None) -> str | None:
    found = origin(url)
    if found is None:
        return f"its instance {url!r} is not a bare https origin"
    scheme, netloc = found
    if known is not None and known.instance_host is not None:
        own = known.instance_host
        schemes = host_schemes(own, known.instance_scheme)
        if scheme not in schemes or not same_host(netloc, own, scheme):
            return f"its instance {url} is not the profile's ({schemes[0]}://{own})"
        return None
    if not host_allowed(netloc, profile.allow_hosts):
        return (f"its instance {url} is not a Salesforce host (nor one allowed with "
                "--allow-host)")
    return None


def _times(entry: Entry, ttl: float, now: float) -> str | None:
    if entry.expires_at > entry.minted_at + ttl + 1.0:  # a second for another writer's sums
        return (f"it expires {entry.expires_at - entry.minted_at:.0f} s after it was minted, "
                f"past the profile's token TTL of {ttl:g} s")
    if entry.minted_at > now + CLOCK_SKEW:
        return (f"it was minted {entry.minted_at - now:.0f} s in the future (more than the "
                f"{CLOCK_SKEW:g} s of clock skew allowed)")
    return None
