"""Salesforce's OAuth refusals: what each means, and the fix to print (the table of
docs/troubleshooting.md, as data).

``classify`` is the one place that reads Salesforce's ``error`` / ``error_description``
strings; everything else (rotation, doctor, authorize) branches on the ``Refusal`` it returns.
The same string can mean different things in the two flows ("expired authorization code" is
a clock problem in the JWT bearer grant, a stale code in the code exchange), so the cause/fix
tables are per flow and keyed by the enum.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sfcred.errors import SalesforceRefused


class Refusal(enum.Enum):
    NOT_APPROVED = "not approved"  # user hasn't approved this consumer
    NOT_ADMIN_APPROVED = "not admin approved"  # invalid_app_access
    BAD_AUDIENCE = "bad audience"
    KEY_MISMATCH = "key mismatch"  # invalid assertion
    EXPIRED_CODE = "expired authorization code"  # JWT: clock skew; code flow: a stale code
    INVALID_CODE = "invalid authorization code"
    UNKNOWN_CLIENT = "unknown client"  # invalid_client_id
    APP_NOT_FOUND = "app not found"  # External Client App through login/test
    IP_OR_HOURS = "ip or login hours"
    INACTIVE = "inactive"
    RATE_LIMIT = "rate limit"
    CLIENT_SECRET = "client secret"  # noqa: S105  # a kind of refusal, not a secret
    REDIRECT_MISMATCH = "redirect mismatch"
    CODE_VERIFIER = "code verifier"
    ACCESS_DENIED = "access denied"  # the user chose Deny in the browser
    WRONG_DOMAIN = "wrong domain"  # client credentials at login/test: My Domain only
    NO_RUN_AS = "no run as user"  # client credentials: the app names no Run As user
    FLOW_DISABLED = "flow disabled"  # client credentials not enabled for the app
    NO_SCOPES = "no valid scopes"  # client credentials: no selected scope the flow grants
    OTHER = "other"


def classify(error: str, description: str) -> Refusal:
    """The refusal an OAuth error names. Order matters: the first rule that matches wins."""
    d = description.lower()
    rules = (
        ("hasn't approved" in d or "has not approved" in d, Refusal.NOT_APPROVED),
        (error == "invalid_app_access", Refusal.NOT_ADMIN_APPROVED),
        ("audience" in d, Refusal.BAD_AUDIENCE),
        ("invalid assertion" in d, Refusal.KEY_MISMATCH),
        ("not supported on this domain" in d, Refusal.WRONG_DOMAIN),
        ("client credentials user" in d, Refusal.NO_RUN_AS),
        ("no valid scopes" in d, Refusal.NO_SCOPES),
        ("flow not enabled" in d or error == "unsupported_grant_type", Refusal.FLOW_DISABLED),
        (error == "invalid_client" or "client credentials" in d or "client secret" in d,
         Refusal.CLIENT_SECRET),
        (error == "redirect_uri_mismatch", Refusal.REDIRECT_MISMATCH),
        ("verifier" in d, Refusal.CODE_VERIFIER),
        ("expired authorization code" in d, Refusal.EXPIRED_CODE),
        ("authorization code" in d, Refusal.INVALID_CODE),
        (error == "invalid_client_id" or "client identifier" in d, Refusal.UNKNOWN_CLIENT),
        (error == "app_not_found" or "external client app" in d, Refusal.APP_NOT_FOUND),
        ("ip restricted" in d or "login hours" in d, Refusal.IP_OR_HOURS),
        (error in ("inactive_user", "inactive_org") or "inactive" in d, Refusal.INACTIVE),
        (error == "rate_limit_exceeded" or "rate" in d, Refusal.RATE_LIMIT),
        (error == "access_denied", Refusal.ACCESS_DENIED),
    )
    return next((kind for hit, kind in rules if hit), Refusal.OTHER)


# How far a token request got, in the order Salesforce checks an assertion: the app, the
# signature, the audience, the time, the user's approval, then the user's own limits. doctor
# calls a host/audience pair better when it gets further (docs/reference/salesforce.md: host
# and aud are separate).
PROGRESS = {
    Refusal.UNKNOWN_CLIENT: 1,
    Refusal.APP_NOT_FOUND: 1,
    Refusal.KEY_MISMATCH: 2,
    Refusal.BAD_AUDIENCE: 3,
    Refusal.EXPIRED_CODE: 4,
    Refusal.NOT_APPROVED: 5,
}
SUCCESS_PROGRESS = 9
OTHER_PROGRESS = 6
# The refusals a wrong host/audience pair can cause: doctor tries the other pairs for them.
PAIR_PROBLEMS = frozenset({Refusal.BAD_AUDIENCE, Refusal.NOT_APPROVED, Refusal.APP_NOT_FOUND})


@dataclass(frozen=True)
class Context:
    """What the fix text may name: never a secret."""

    profile: str
    login_url: str
    audience: str
    username: str
    local_time: str | None = None
    redirect: str | None = None


JWT_FIXES: dict[Refusal, tuple[str, str]] = {
    Refusal.NOT_APPROVED: (
        "this user has neither been pre-authorized for the app nor approved it once with "
        "the refresh_token scope, or the login host and audience do not belong together",
        "pre-authorize: in the connected app's policies set 'Admin approved users are "
        "pre-authorized' and add the user's profile or a permission set; or run "
        "`sfcred authorize {profile}` once as the user; and check host {login_url} with "
        "audience {audience} (`sfcred doctor {profile}` tries the other pairs)",
    ),
    Refusal.NOT_ADMIN_APPROVED: (
        "the app only admits pre-authorized users, and this user's profile or permission "
        "set is not assigned to it",
        "in Setup, Manage Connected Apps, the app: add {username}'s profile or a permission "
        "set under Profiles / Permission Sets",
    ),
    Refusal.BAD_AUDIENCE: (
        "the aud claim ({audience}) does not match the org type or the host",
        "sandbox: --audience https://test.salesforce.com; production: "
        "--audience https://login.salesforce.com; External Client App: your My Domain URL"
        "{usual}; `sfcred doctor {profile}` tries the other pairs",
    ),
    Refusal.KEY_MISMATCH: (
        "the key does not match the certificate uploaded to the app, or the assertion is "
        "malformed",
        "upload the output of `sfcred cert {profile}` to the connected app (Edit, Use "
        "digital signatures), and check that --client-id belongs to that app",
    ),
    Refusal.EXPIRED_CODE: (
        "the assertion's exp is already past for Salesforce: this machine's clock is wrong",
        "fix the clock (NTP); local time {local_time}",
    ),
    Refusal.UNKNOWN_CLIENT: (
        "Salesforce does not know this consumer key, or a new app has not propagated yet "
        "(2 to 10 minutes)",
        "check --client-id against the app's Consumer Key; if the app is new, wait and retry",
    ),
    Refusal.APP_NOT_FOUND: (
        "an External Client App is reached only through the org's My Domain",
        "use the My Domain URL as both --login-url and --audience "
        "(`sfcred doctor {profile}` finds it once a token was minted there)",
    ),
    Refusal.IP_OR_HOURS: (
        "the user's profile restricts login IP ranges or login hours",
        "relax the IP ranges or login hours of {username}'s profile (or the app's IP policy)",
    ),
    Refusal.INACTIVE: (
        "the user or the org is deactivated",
        "reactivate the user (or the org) in Setup",
    ),
    Refusal.RATE_LIMIT: (
        "more than 3,600 logins for this user in an hour",
        "let sfcred's cache serve tokens (raise --token-ttl); look for a loop that mints",
    ),
}
NO_ADVICE = (
    "Salesforce gave an error sfcred has no advice for",
    "run `sfcred doctor {profile}`; search the error text in Salesforce Help",
)
# The authorization-code exchange (`sfcred authorize`): what differs from the JWT table.
CODE_FIXES: dict[Refusal, tuple[str, str]] = {
    Refusal.CLIENT_SECRET: (
        "the app requires its consumer secret for this flow, or the one given is wrong",
        "pass the app's Consumer Secret on stdin: `sfcred authorize {profile} "
        "--client-secret-stdin`; or untick 'Require Secret for Web Server Flow' in the "
        "app's OAuth settings",
    ),
    Refusal.REDIRECT_MISMATCH: (
        "the app does not list {redirect} as a callback URL",
        "add {redirect} to the app's callback URLs, wait a few minutes, run it again",
    ),
    Refusal.CODE_VERIFIER: (
        "Salesforce refused the PKCE code verifier",
        "run `sfcred authorize {profile}` again; check the app's PKCE setting",
    ),
    Refusal.EXPIRED_CODE: (
        "the authorization code expired or was already used",
        "run `sfcred authorize {profile}` again and finish within a few minutes",
    ),
    Refusal.INVALID_CODE: (
        "the authorization code expired or was already used",
        "run `sfcred authorize {profile}` again and finish within a few minutes",
    ),
    Refusal.ACCESS_DENIED: (
        "the approval was denied in the browser (or the user cannot log in)",
        "run `sfcred authorize {profile}` again, log in as {username} and choose Allow; or "
        "ask an admin to pre-authorize the user for the app",
    ),
}
# The client credentials grant (Salesforce's error strings: docs/client-credentials.md).
_STORE_IT = ("`sfcred rotate {profile} --secret-stdin` (kept as pending and used once the "
               "active one is refused), or `sfcred profile add {profile} --grant "
               "client-credentials ... --client-secret-stdin --force`")
CC_FIXES: dict[Refusal, tuple[str, str]] = {
    Refusal.WRONG_DOMAIN: (
        "Salesforce serves the client credentials flow only at the org's My Domain, not at "
        "{login_url}",
        "use the My Domain (Setup, My Domain) as the login URL: `sfcred profile add {profile} "
        "--grant client-credentials --login-url https://MYDOMAIN.my.salesforce.com ... --force`",
    ),
    Refusal.NO_RUN_AS: (
        "the app names no Run As user for the client credentials flow",
        "connected app: Setup, App Manager, the app, Manage, Edit Policies, Client Credentials "
        "Flow, Run As: pick an integration user (API Only); External Client App: External "
        "Client App Manager, the app, Policies, OAuth Policies, Enable Client Credentials "
        "Flow and its Run As user",
    ),
    Refusal.FLOW_DISABLED: (
        "the client credentials flow is not enabled for this app",
        "connected app: Edit, API (Enable OAuth Settings), tick 'Enable Client Credentials "
        "Flow'; External Client App: Settings, OAuth Settings, 'Enable Client Credentials "
        "Flow'; then set its Run As user",
    ),
    Refusal.NO_SCOPES: (
        "none of the app's Selected OAuth Scopes is one the client credentials flow grants "
        "(it drops full, refresh_token and offline_access)",
        "add 'Manage user data via APIs (api)' to the app's Selected OAuth Scopes (connected "
        "app: Edit, API (Enable OAuth Settings); External Client App: OAuth Settings), wait a "
        "few minutes, and try again with `sfcred get -p {profile} --retry-now`",
    ),
    Refusal.CLIENT_SECRET: (
        "Salesforce does not accept this consumer secret: a wrong one, or the app's secret "
        "was regenerated at Salesforce",
        "store the app's current Consumer Secret (App Manager, the app, View, Manage Consumer "
        "Details): " + _STORE_IT,
    ),
    Refusal.INACTIVE: (
        "the app's Run As user, or the org, is deactivated",
        "reactivate the user in Setup, Users, or pick another Run As user in the app's "
        "Client Credentials Flow policy",
    ),
}
AUTHORIZE_REQUEST = (
    "Salesforce refused the authorization request",
    "check the app's OAuth settings (scopes api and refresh_token, callback URL)",
)


def explain(
    error: str,
    description: str,
    ctx: Context,
    *,
    flow: str = "jwt",
    status: int | None = None,
    server_date: str | None = None,
) -> SalesforceRefused:
    """The refusal as an exception carrying its kind, cause and fix. ``flow``: "jwt" (the
    token request), "cc" (the client credentials one), "code" (the code exchange) or
    "browser" (the authorize redirect)."""
    from sfcred.profiles.record import default_audience

    kind = classify(error, description)
    if flow == "browser":
        cause, fix = CODE_FIXES[kind] if kind is Refusal.ACCESS_DENIED else AUTHORIZE_REQUEST
    elif flow == "code" and kind in CODE_FIXES:
        cause, fix = CODE_FIXES[kind]
    elif flow == "cc" and kind in CC_FIXES:
        cause, fix = CC_FIXES[kind]
    else:
        cause, fix = JWT_FIXES.get(kind, NO_ADVICE)
    usual = default_audience(ctx.login_url)
    values = {
        "usual": (f" (for {ctx.login_url} that is usually {usual})"
                  if usual != ctx.audience else ""),
        "profile": ctx.profile,
        "login_url": ctx.login_url,
        "audience": ctx.audience,
        "username": ctx.username,
        "local_time": ctx.local_time or "unknown",
        "redirect": ctx.redirect or "the redirect URI",
    }
    fix = fix.format(**values)
    if server_date and kind is Refusal.EXPIRED_CODE and flow == "jwt":
        fix += f", server time {server_date}"
    return SalesforceRefused(error, description, cause=cause.format(**values), fix=fix,
                             status=status, server_date=server_date, refusal=kind)
