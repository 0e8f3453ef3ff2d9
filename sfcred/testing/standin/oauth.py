"""OAuth endpoints other than the JWT check: token dispatch, authorize + PKCE, userinfo, revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from sfcred.testing.standin import errors as err
from sfcred.testing.standin.clientcreds import GRANT as CC_GRANT
from sfcred.testing.standin.clientcreds import client_credentials
from sfcred.testing.standin.jwt import JWT_GRANT, jwt_bearer
from sfcred.testing.standin.model import Org
from sfcred.testing.standin.replies import (
    Reply,
    json_reply,
    oauth_error,
    text_reply,
    token_reply,
)

CODE_LIFETIME = 900.0  # seconds a code from /authorize stays exchangeable
_REFRESH_SCOPES = {"refresh_token", "offline_access"}


def token(org: Org, listener: str, form: dict[str, str]) -> Reply:
    grant = form.get("grant_type", "")
    if grant == JWT_GRANT:
        return jwt_bearer(org, listener, form)
    if grant == CC_GRANT:
        return client_credentials(org, listener, form)
    if grant == "authorization_code":
        return _exchange_code(org, form)
    return oauth_error(err.UNSUPPORTED_GRANT)


def _challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _exchange_code(org: Org, form: dict[str, str]) -> Reply:
    with org.lock:
        app = org.app(form.get("client_id", ""))
        if app is None:
            return oauth_error(err.UNKNOWN_CLIENT)
        # A code is spent by its first use, good or bad: a second try never succeeds.
        grant = org.redeem_code(form.get("code", ""))
        if grant is None or grant.client_id != app.client_id:
            return oauth_error(err.BAD_CODE)
        if org.now() - grant.issued > CODE_LIFETIME:
            return oauth_error(err.EXPIRED)
        secret = form.get("client_secret")
        secret_ok = hmac.compare_digest((secret or "").encode(), (app.client_secret or "").encode())
        if (app.require_secret or secret is not None) and not secret_ok:
            return oauth_error(err.BAD_CLIENT_SECRET)
        if form.get("redirect_uri", "") != grant.redirect_uri:
            return oauth_error(err.REDIRECT_MISMATCH)
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not verifier or not hmac.compare_digest(_challenge_of(verifier), grant.challenge):
                return oauth_error(err.BAD_VERIFIER)
        user = org.user(grant.username)
        if not org.org_active:
            return oauth_error(err.INACTIVE_ORG)
        if user is None or not user.active:
            return oauth_error(err.INACTIVE_USER)
        org.approve(app.client_id, user.username, grant.scopes)
        scope = " ".join(sorted(grant.scopes))
        refresh = bool(grant.scopes & _REFRESH_SCOPES)
        return token_reply(org.issue_session(app, user, scope=scope, refresh=refresh))


def _error_page(error: tuple[str, str]) -> Reply:
    # Salesforce shows a bare page holding the query-string form of the error.
    code, description = error
    text = urlencode({"error": code, "error_description": description}).replace("+", "%20")
    page = f"<html><head><title>Error</title></head><body>{text}</body></html>"
    return text_reply(400, page, "text/html;charset=UTF-8")


def _redirect(redirect_uri: str, params: dict[str, str]) -> Reply:
    sep = "&" if "?" in redirect_uri else "?"
    return Reply(
        302, b"", "text/html;charset=UTF-8", {"Location": redirect_uri + sep + urlencode(params)}
    )


def authorize(org: Org, query: dict[str, str]) -> Reply:
    """The browser half of the web-server flow, with ``org.browser_user`` at the keyboard."""
    with org.lock:
        app = org.app(query.get("client_id", ""))
        if app is None:
            return _error_page(err.UNKNOWN_CLIENT)
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in app.callback_urls:
            return _error_page(err.REDIRECT_MISMATCH)
        state = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code":
            error = {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
            }
            return _redirect(redirect_uri, {**error, **state})
        if query.get("code_challenge_method", "S256") != "S256":
            error = {
                "error": "invalid_request",
                "error_description": "invalid code challenge method",
            }
            return _redirect(redirect_uri, {**error, **state})
        user = org.user(org.browser_user)
        if org.consent == "deny" or user is None or not user.active:
            denied = {
                "error": "access_denied",
                "error_description": "end-user denied authorization",
            }
            return _redirect(redirect_uri, {**denied, **state})
        scopes = frozenset(query.get("scope", "api refresh_token").split())
        code = org.issue_code(
            app.client_id, user.username, redirect_uri, query.get("code_challenge"), scopes
        )
        return _redirect(redirect_uri, {"code": code, **state})


def bearer(headers_authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer|OAuth <token>`` header (Salesforce takes both)."""
    if not headers_authorization:
        return None
    scheme, _, value = headers_authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not value.strip():
        return None
    return value.strip()


def userinfo(org: Org, authorization: str | None) -> Reply:
    tok = bearer(authorization)
    if tok is None:
        return text_reply(403, err.MISSING_OAUTH_TOKEN)
    with org.lock:
        session = org.use_session(tok)
        user = org.user(session.username) if session is not None else None
        if user is None:
            return text_reply(403, err.BAD_OAUTH_TOKEN)
        url = org.instance_url
        return json_reply(
            200,
            {
                "sub": f"{url}/id/{org.org_id}/{user.user_id}",
                "user_id": user.user_id,
                "organization_id": org.org_id,
                "preferred_username": user.username,
                "nickname": user.username.split("@", 1)[0],
                "name": user.display_name,
                "email": user.username,
                "email_verified": True,
                "active": user.active,
                "user_type": "STANDARD",
                "is_app_installed": True,
                "urls": {"rest": f"{url}/services/data/v{{version}}/"},
            },
        )


def revoke(org: Org, form: dict[str, str], wants_json: bool) -> Reply:
    if org.revoke(form.get("token", "")):
        return Reply(200, b"")
    if wants_json:
        return oauth_error(err.UNSUPPORTED_TOKEN_TYPE)
    code, description = err.UNSUPPORTED_TOKEN_TYPE
    body = urlencode({"error": code, "error_description": description}).replace("+", "%20")
    return text_reply(400, body, "application/x-www-form-urlencoded")
