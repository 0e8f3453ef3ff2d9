"""The ``exp`` of a JWT-based access token (an app setting Salesforce offers for both grants).

Read, not verified: sfcred has no key to verify it with and needs none, since ``exp`` may only
shorten how long a token is cached (``tokens``), never lengthen it past the profile's TTL. An
opaque token, or one whose claims cannot be read, gives None: the TTL rule stands.
"""

from __future__ import annotations

import base64
import binascii
import json
import math

MAX_TOKEN = 16384  # characters; a JWT access token is a few kB at most


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
