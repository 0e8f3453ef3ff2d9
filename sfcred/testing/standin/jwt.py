"""The JWT bearer grant, checked the way Salesforce checks it, in Salesforce's order.

The order matters: a client sees the first failing check's error only, so an assertion that
is both expired and for an unknown app reports the unknown app. ``errors`` lists the error
strings in the same order.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sfcred.testing.standin import errors as err
from sfcred.testing.standin.model import Org
from sfcred.testing.standin.records import App
from sfcred.testing.standin.replies import Reply, oauth_error, token_reply

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_HOST = "https://login.salesforce.com"
TEST_HOST = "https://test.salesforce.com"


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


def _signature_ok(org: Org, app: App, signing_input: bytes, signature: bytes) -> bool:
    try:
        org.key_now(app).verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _allowed_audiences(org: Org, app: App) -> set[str]:
    if app.kind == "external":
        return {org.instance_url}
    return {LOGIN_HOST if org.environment == "production" else TEST_HOST, org.instance_url}


def _wrong_generic_host(org: Org, listener: str) -> bool:
    # login.salesforce.com knows only production orgs, test.salesforce.com only sandboxes.
    return (org.environment == "production" and listener == "test") or (
        org.environment == "sandbox" and listener == "login"
    )


def jwt_bearer(org: Org, listener: str, form: dict[str, str]) -> Reply:
    """Answer one JWT bearer token request that reached ``listener``."""
    with org.lock:
        parsed = parse_assertion(form.get("assertion", ""))
        org.last_assertion_claims = parsed[0] if parsed else None
        if parsed is None:
            return oauth_error(err.INVALID_ASSERTION)
        claims, signing_input, signature = parsed
        app = org.app(str(claims.get("iss", "")))
        if app is None:
            return oauth_error(err.UNKNOWN_CLIENT)
        if app.kind == "external" and listener in ("login", "test"):
            return oauth_error(err.EXTERNAL_APP_ON_GENERIC_HOST)
        if not _signature_ok(org, app, signing_input, signature):
            return oauth_error(err.INVALID_ASSERTION)
        if claims.get("aud") not in _allowed_audiences(org, app):
            return oauth_error(err.BAD_AUDIENCE)
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= org.now():
            return oauth_error(err.EXPIRED)
        user = org.user(str(claims.get("sub", "")))
        if user is None or _wrong_generic_host(org, listener):
            return oauth_error(err.NOT_APPROVED)
        if not org.org_active:
            return oauth_error(err.INACTIVE_ORG)
        if not user.active:
            return oauth_error(err.INACTIVE_USER)
        if user.ip_restricted:
            return oauth_error(err.IP_RESTRICTED)
        preauthorized = user.username in app.preauthorized
        if app.preauthorized_only and not preauthorized:
            return oauth_error(err.NOT_ADMIN_APPROVED)
        approved = "refresh_token" in org.approvals(app.client_id, user.username)
        if not app.preauthorized_only and not (preauthorized or approved):
            return oauth_error(err.NOT_APPROVED)
        if not org.admit_login(user.username):
            return oauth_error(err.RATE_LIMITED)
        return token_reply(org.issue_session(app, user, scope="api", refresh=False, jwt=True))
