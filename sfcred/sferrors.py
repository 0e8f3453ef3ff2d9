"""Salesforce's OAuth errors (SPEC.md table) turned into a cause and a fix in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from sfcred.errors import SalesforceRefused


@dataclass(frozen=True)
class Context:
    """What the fix text may name: never a secret."""

    profile: str
    login_url: str
    audience: str
    username: str
    local_time: str | None = None


def _rule(error: str, description: str) -> tuple[str, str] | None:
    d = description.lower()
    if "hasn't approved" in d or "has not approved" in d:
        return (
            "this user has neither been pre-authorized for the app nor approved it once with "
            "the refresh_token scope, or the login host and audience do not belong together",
            "pre-authorize: in the connected app's policies set 'Admin approved users are "
            "pre-authorized' and add the user's profile or a permission set; or run "
            "`sfcred authorize {profile}` once as the user; and check host {login_url} with "
            "audience {audience} (`sfcred doctor {profile}` tries the other pairs)",
        )
    if error == "invalid_app_access":
        return (
            "the app only admits pre-authorized users, and this user's profile or permission "
            "set is not assigned to it",
            "in Setup, Manage Connected Apps, the app: add {username}'s profile or a permission "
            "set under Profiles / Permission Sets",
        )
    if "audience" in d:
        return (
            "the aud claim ({audience}) does not match the org type or the host",
            "sandbox: --audience https://test.salesforce.com; production: "
            "--audience https://login.salesforce.com; External Client App: your My Domain URL"
            "{usual}; `sfcred doctor {profile}` tries the other pairs",
        )
    if "invalid assertion" in d:
        return (
            "the key does not match the certificate uploaded to the app, or the assertion is "
            "malformed",
            "upload the output of `sfcred cert {profile}` to the connected app (Edit, Use "
            "digital signatures), and check that --client-id belongs to that app",
        )
    if "expired authorization code" in d:
        return (
            "the assertion's exp is already past for Salesforce: this machine's clock is wrong",
            "fix the clock (NTP); local time {local_time}",
        )
    if error == "invalid_client_id" or "client identifier" in d:
        return (
            "Salesforce does not know this consumer key, or a new app has not propagated yet "
            "(2 to 10 minutes)",
            "check --client-id against the app's Consumer Key; if the app is new, wait and retry",
        )
    if error == "app_not_found" or "external client app" in d:
        return (
            "an External Client App is reached only through the org's My Domain",
            "use the My Domain URL as both --login-url and --audience "
            "(`sfcred doctor {profile}` finds it once a token was minted there)",
        )
    if "ip restricted" in d or "login hours" in d:
        return (
            "the user's profile restricts login IP ranges or login hours",
            "relax the IP ranges or login hours of {username}'s profile (or the app's IP policy)",
        )
    if error in ("inactive_user", "inactive_org") or "inactive" in d:
        return (
            "the user or the org is deactivated",
            "reactivate the user (or the org) in Setup",
        )
    if error == "rate_limit_exceeded" or "rate" in d:
        return (
            "more than 3,600 logins for this user in an hour",
            "let sfcred's cache serve tokens (raise --token-ttl); look for a loop that mints",
        )
    return None


def explain(
    error: str,
    description: str,
    ctx: Context,
    *,
    status: int | None = None,
    server_date: str | None = None,
) -> SalesforceRefused:
    rule = _rule(error, description)
    if rule is None:
        cause = "Salesforce gave an error sfcred has no advice for"
        fix = "run `sfcred doctor {profile}`; search the error text in Salesforce Help"
    else:
        cause, fix = rule
    from sfcred.profiles import default_audience

    usual = default_audience(ctx.login_url)
    values = {
        "usual": (f" (for {ctx.login_url} that is usually {usual})"
                  if usual != ctx.audience else ""),
        "profile": ctx.profile,
        "login_url": ctx.login_url,
        "audience": ctx.audience,
        "username": ctx.username,
        "local_time": ctx.local_time or "unknown",
    }
    fix = fix.format(**values)
    if server_date and "clock" in cause:
        fix += f", server time {server_date}"
    return SalesforceRefused(
        error,
        description,
        cause=cause.format(**values),
        fix=fix,
        status=status,
        server_date=server_date,
    )
