"""The ``exp`` of a JWT-based access token (an app setting Salesforce offers for both grants),
and the cache life it gives.

A JWT access token says when it ends, so its ``exp`` is its cache life instead of the
profile's TTL: shorter than the TTL, always; longer, only while the profile keeps the default
TTL (a TTL the user chose is never exceeded), and never past a day, Salesforce's longest
session. Read, not verified: sfcred has no key to verify it with; a token from the token
endpoint is trusted as its instance_url is, and a fleet record's claim is bounded the same
way (``fleet.trust``). An opaque token, or one whose claims cannot be read, keeps the TTL.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfcred.profiles.record import Profile
    from sfcred.salesforce.oauth import Token

MAX_TOKEN = 16384  # characters; a JWT access token is a few kB at most
MAX_LIFE = 86400.0  # seconds: Salesforce's longest session timeout


def expiry(token: str) -> float | None:
    """The token's ``exp`` (epoch seconds) if it is a JWT with a sane one, else None."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN or len(parts) != 3 or not all(parts):
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, binascii.Error, RecursionError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        return None
    return float(exp)


def cache_life(minted_at: float, ttl: int, default_ttl: bool, token: str) -> float:
    """Seconds a token minted at ``minted_at`` may be cached (see the module docstring)."""
    exp = expiry(token)
    if exp is None:
        return float(ttl)
    life = exp - minted_at
    return min(life, MAX_LIFE) if default_ttl else min(life, float(ttl))


def lifetime(now: float, profile: Profile, token: Token) -> tuple[float, float]:
    """(expires_at, refresh margin) of ``token``, minted ``now`` for ``profile``: its TTL, or
    a JWT access token's exp as ``cache_life`` allows (the margin shrinks with the life)."""
    if token.expires is None:
        return now + profile.token_ttl, float(profile.refresh_margin)
    life = cache_life(now, profile.token_ttl, profile.default_ttl, token.access_token.reveal())
    return now + life, min(float(profile.refresh_margin), max(0.0, life / 4))
