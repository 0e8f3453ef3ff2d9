"""The JWT bearer grant, checked the way Salesforce checks it, in Salesforce's order."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sfcred.testing import _standin_errors as err
from sfcred.testing._standin_model import App, Reply, oauth_error

if TYPE_CHECKING:
    from sfcred.testing.server import FakeSalesforce

LOGIN_HOST = "https://login.salesforce.com"
TEST_HOST = "https://test.salesforce.com"
RATE_WINDOW = 3600.0


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_assertion(assertion: str) -> tuple[dict[str, Any], bytes, bytes] | None:
    """(claims, signing input, signature), or None when the JWT is malformed or not RS256."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    if header.get("alg") != "RS256":
        return None
    return claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _signature_ok(app: App, signing_input: bytes, signature: bytes) -> bool:
    try:
        app.public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _allowed_audiences(sf: FakeSalesforce, app: App) -> set[str]:
    if app.kind == "external":
        return {sf.url}
    return {LOGIN_HOST if sf.org == "production" else TEST_HOST, sf.url}


def _wrong_generic_host(sf: FakeSalesforce, listener: str) -> bool:
    # login.salesforce.com knows only production orgs, test.salesforce.com only sandboxes.
    return (sf.org == "production" and listener == "test") or (
        sf.org == "sandbox" and listener == "login"
    )


def jwt_bearer(sf: FakeSalesforce, listener: str, form: dict[str, str]) -> Reply:
    """Answer one JWT bearer token request. Call with ``sf._lock`` held."""
    parsed = parse_assertion(form.get("assertion", ""))
    sf.last_assertion_claims = parsed[0] if parsed else None
    if parsed is None:
        return oauth_error(err.INVALID_ASSERTION)
    claims, signing_input, signature = parsed
    app = sf._apps.get(str(claims.get("iss", "")))
    if app is None:
        return oauth_error(err.UNKNOWN_CLIENT)
    if app.kind == "external" and listener in ("login", "test"):
        return oauth_error(err.EXTERNAL_APP_ON_GENERIC_HOST)
    if not _signature_ok(app, signing_input, signature):
        return oauth_error(err.INVALID_ASSERTION)
    if claims.get("aud") not in _allowed_audiences(sf, app):
        return oauth_error(err.BAD_AUDIENCE)
    now = sf.now()
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= now:
        return oauth_error(err.EXPIRED)
    user = sf._users.get(str(claims.get("sub", "")))
    if user is None or _wrong_generic_host(sf, listener):
        return oauth_error(err.NOT_APPROVED)
    if not sf.org_active:
        return oauth_error(err.INACTIVE_ORG)
    if not user.active:
        return oauth_error(err.INACTIVE_USER)
    if user.ip_restricted:
        return oauth_error(err.IP_RESTRICTED)
    preauthorized = user.username in app.preauthorized
    if app.preauthorized_only and not preauthorized:
        return oauth_error(err.NOT_ADMIN_APPROVED)
    approved = "refresh_token" in app.approvals.get(user.username, set())
    if not app.preauthorized_only and not (preauthorized or approved):
        return oauth_error(err.NOT_APPROVED)
    logins = sf._logins.setdefault(user.username, [])
    logins[:] = [t for t in logins if t > now - RATE_WINDOW]
    if len(logins) >= sf.login_rate_limit:
        return oauth_error(err.RATE_LIMITED)
    logins.append(now)
    return sf._grant(app, user, scope="api", refresh=False)
