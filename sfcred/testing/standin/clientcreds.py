"""The client credentials grant, answered as Salesforce answers it, and its admin settings.

Salesforce serves the grant at the org's My Domain only: the login and test hosts answer
"request not supported on this domain". Then, in this order: the app (its consumer key), its
consumer secret, whether the app has the flow enabled, its Run As user, the org and that
user being active, a selected scope the flow grants (``full``, ``refresh_token`` and
``offline_access`` are dropped: none left is "no valid scopes defined", since Winter '26),
the user's login rate. The token acts as the Run As user (userinfo names it), carries the
scopes left, and answers the five fields of the JWT bearer grant's answer.
"""

from __future__ import annotations

import base64
import hmac
from urllib.parse import unquote

from sfcred.testing.standin import errors as err
from sfcred.testing.standin.model import Org
from sfcred.testing.standin.replies import Reply, oauth_error, token_reply

GRANT = "client_credentials"
NOT_GRANTED = frozenset({"full", "refresh_token", "offline_access"})  # dropped by this flow


def with_basic_client(form: dict[str, str], authorization: str | None) -> dict[str, str]:
    """The form with the client id and secret of an ``Authorization: Basic`` header, which
    Salesforce takes for this grant as well as form fields (the form's own win)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or form.get("grant_type") != GRANT:
        return form
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return form
    return {"client_id": unquote(client_id), "client_secret": unquote(secret), **form}


def client_credentials(org: Org, listener: str, form: dict[str, str]) -> Reply:
    """Answer one client credentials token request that reached ``listener``."""
    with org.lock:
        if listener in ("login", "test"):
            return oauth_error(err.CC_WRONG_DOMAIN)
        app = org.app(form.get("client_id", ""))
        if app is None:
            return oauth_error(err.UNKNOWN_CLIENT)
        given = form.get("client_secret", "").encode()
        if not app.client_secret or not hmac.compare_digest(given, app.client_secret.encode()):
            return oauth_error(err.BAD_CLIENT_SECRET)
        if not app.client_credentials:
            return oauth_error(err.CC_DISABLED)
        user = org.user(app.run_as) if app.run_as else None
        if app.run_as is None:
            return oauth_error(err.CC_NO_RUN_AS)
        if not org.org_active:
            return oauth_error(err.INACTIVE_ORG)
        if user is None or not user.active:
            return oauth_error(err.INACTIVE_USER)
        granted = " ".join(sorted(app.scopes - NOT_GRANTED))
        if not granted:
            return oauth_error(err.CC_NO_SCOPES)
        if not org.admit_login(user.username):
            return oauth_error(err.RATE_LIMITED)
        return token_reply(org.issue_session(app, user, scope=granted, refresh=False, jwt=True))


class ClientCredentialsAdmin:
    """The settings of ``server.FakeSalesforce`` for this grant and for JWT-based tokens."""

    state: Org

    def enable_client_credentials(self, client_id: str, run_as: str | None,
                                  enabled: bool = True) -> None:
        """Tick (or untick) "Enable Client Credentials Flow" and set its Run As user (None:
        no user chosen, as a new app has)."""
        with self.state.lock:
            app = self.state.apps()[client_id]
            app.client_credentials, app.run_as = enabled, run_as

    def set_scopes(self, client_id: str, scopes: set[str]) -> None:
        """The app's Selected OAuth Scopes (``api``, ``full``, ``refresh_token``, ...)."""
        with self.state.lock:
            self.state.apps()[client_id].scopes = frozenset(scopes)

    def set_client_secret(self, client_id: str, secret: str) -> None:
        """The app's consumer secret, replaced: the old one is refused from now on."""
        with self.state.lock:
            self.state.apps()[client_id].client_secret = secret

    def jwt_access_tokens(self, client_id: str, lifetime: float) -> None:
        """Issue JWT-based access tokens whose ``exp`` is ``lifetime`` s away (0: opaque)."""
        with self.state.lock:
            self.state.apps()[client_id].jwt_token_lifetime = lifetime
