"""Salesforce's error strings: OAuth error bodies as (error, error_description) pairs, and the
plain-text and REST API error bodies.

Where each string was confirmed (public reports of real responses) is noted; the few that
could not be confirmed are marked so, and follow the wording of Salesforce's error list.
"""

from __future__ import annotations

# JWT bearer flow, in the order the stand-in checks them (docs/troubleshooting.md's table).
INVALID_ASSERTION = ("invalid_grant", "invalid assertion")
UNKNOWN_CLIENT = ("invalid_client_id", "client identifier invalid")  # forcedotcom/postman #42
EXTERNAL_APP_ON_GENERIC_HOST = ("app_not_found", "External client app is not installed in this org")
BAD_AUDIENCE = ("invalid_grant", "audience is invalid")
EXPIRED = ("invalid_grant", "expired authorization code")  # salesforce.stackexchange 18039
NOT_APPROVED = ("invalid_grant", "user hasn't approved this consumer")  # forcedotcom/cli #2479
# Salesforce's list of token endpoint errors gives these as invalid_grant descriptions
# (inactive_org and rate_limit_exceeded are the authorize endpoint's error codes).
INACTIVE_ORG = ("invalid_grant", "inactive organization")
INACTIVE_USER = ("invalid_grant", "inactive user")  # restforce #303: "invalid_grant: inactive user"
IP_RESTRICTED = ("invalid_grant", "IP restricted or invalid login hours")
NOT_ADMIN_APPROVED = ("invalid_app_access", "user is not admin approved to access this app")
RATE_LIMITED = ("invalid_grant", "login rate exceeded")

# Client credentials (Salesforce's strings as integrators report them; the disabled-flow
# one is not confirmed and follows the flow's name in Salesforce's docs).
CC_WRONG_DOMAIN = ("invalid_grant", "request not supported on this domain")
CC_NO_RUN_AS = ("invalid_grant", "no client credentials user enabled")
CC_DISABLED = ("invalid_grant", "client credentials flow not enabled")  # not confirmed
# Winter '26: no selected scope the flow grants (only full, refresh_token, offline_access).
CC_NO_SCOPES = ("invalid_grant", "no valid scopes defined")

# Any grant.
UNSUPPORTED_GRANT = ("unsupported_grant_type", "grant type not supported")  # nango.dev
MUST_POST = ("invalid_request", "must use HTTP POST")
SERVER_ERROR = ("unknown_error", "retry your request")

# Authorization code + PKCE.
BAD_CODE = ("invalid_grant", "invalid authorization code")
BAD_VERIFIER = ("invalid_grant", "invalid code verifier")  # salesforce.stackexchange 330168
BAD_CLIENT_SECRET = ("invalid_client", "invalid client credentials")  # IdentityModel #121
REDIRECT_MISMATCH = ("redirect_uri_mismatch", "redirect_uri must match configuration")

# Revoke: Salesforce answers form-encoded unless asked for JSON (omniphx/forrest #213).
UNSUPPORTED_TOKEN_TYPE = ("unsupported_token_type", "this token type is not supported")

# Identity endpoints answer a bad token with one word of plain text and 403.
BAD_OAUTH_TOKEN = "Bad_OAuth_Token"  # noqa: S105  # an error word, not a secret
MISSING_OAUTH_TOKEN = "Missing_OAuth_Token"  # noqa: S105  # same

# REST API bodies are lists of {message, errorCode}.
INVALID_SESSION = {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
NOT_FOUND = {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
