"""OAuth with Salesforce: minting a token (any grant of ``grants``) and the authorization-code
exchange.

A mint: the grant's form POSTed to the profile's checked login host, and only a sane answer
accepted.

Retries: connection errors and 5xx are retried with jittered backoff, a few times within about
ten seconds; a 4xx is Salesforce's final word and is never retried (each try counts against the
3,600 logins per user per hour). Every answer is checked before anything is passed on: JSON, at
most 1 MiB, an access token and an https instance URL (http on loopback) without CR/LF/NUL.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from sfcred.deadline import Deadline, Expired, mint_budget, mint_left, run_within
from sfcred.errors import SalesforceRefused, SalesforceUnreachable
from sfcred.keys import KeyMaterial
from sfcred.profiles.record import Profile, netloc, require_salesforce_host
from sfcred.salesforce import http as sfhttp
from sfcred.salesforce import trace
from sfcred.salesforce.grants import Grant, grant_of
from sfcred.salesforce.http import check_instance_url, json_object
from sfcred.salesforce.refusals import Context, explain
from sfcred.secret import Secret
from sfcred.untrusted import host_allowed, host_name, server_words

ATTEMPTS = 4
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
BACKOFF = 0.4  # seconds; doubles per attempt, jittered, so four tries stay near 10 s at worst


@dataclass(frozen=True)
class Token:
    access_token: Secret
    instance_url: str
    id_url: str | None
    scope: str | None
    expires: float | None = None  # a JWT-based access token's exp (salesforce.jwtexp)


class TokenClient:
    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        attempts: int = ATTEMPTS,
        budget: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.attempts = attempts
        self.budget = mint_left() if budget is None else budget
        self.monotonic = monotonic
        self.on_request: Callable[[], None] | None = None  # counts logins (tokens.budget)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = sfhttp.client()
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def mint(self, profile: Profile, material: KeyMaterial, grant: Grant | None = None) -> Token:
        """A token for ``profile`` through its grant (``grants``), signed or proven with
        ``material``."""
        # A record written before the host rule (or edited by hand) is checked again here:
        # what the grant sends is a credential, and goes nowhere else.
        login_url = require_salesforce_host(
            profile.login_url, profile.allow_hosts, f"profile {profile.name}: its login URL",
            fix=f"sfcred profile add {profile.name} ... --force --allow-host")
        now = self.clock()
        form = (grant or grant_of(profile)).form(profile, material, now)
        answer = self._post(f"{login_url}/services/oauth2/token", form)
        status, data = answer.status, json_object(answer.body)
        if status == 200:
            return _token(data, profile)
        if 300 <= status < 400:
            raise _redirected(profile, status, answer.location)
        error = str(data.get("error") or f"http_{status}") if data else f"http_{status}"
        if status == 429 and not (data and data.get("error")):
            error = "rate_limit_exceeded"  # a bare 429: too many requests, as Salesforce means it
        desc = str(data.get("error_description") or "") if data else ""
        local = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime(HTTP_DATE)
        ctx = Context(profile.name, profile.login_url, profile.audience, profile.username, local)
        flow = "cc" if profile.client_credentials else "jwt"
        raise explain(error, desc[:300], ctx, flow=flow, status=status,
                      server_date=server_words(answer.date, 40) if answer.date else None)

    def _post(self, url: str, form: dict[str, str]) -> sfhttp.Answer:
        """The token endpoint's answer (any status under 500), within one deadline for every
        try: connection errors, timeouts and 5xx are tried again with jittered backoff while
        time is left; an answer that drips in past the deadline is abandoned."""
        deadline = Deadline(self.budget, self.monotonic)
        host = netloc(url)
        last, tries = "no attempt made", 0
        for attempt in range(self.attempts):
            if attempt:
                pause = BACKOFF * (2 ** (attempt - 1)) * (0.5 + self.jitter())
                if pause >= deadline.left():
                    trace.say(f"try {attempt}: {last}; no time left for another "
                              f"(deadline {self.budget:g} s)")
                    break
                trace.say(f"try {attempt}: {last}; retrying in {pause:.1f} s")
                self.sleep(pause)
            left = deadline.left()
            if left <= 0:
                break
            tries += 1
            if self.on_request is not None:
                self.on_request()
            try:
                answer = run_within(partial(sfhttp.post_form, self.http, url, form, left),
                                    left, "sfcred-token-request")
            except Expired:
                last = f"no complete answer within {self.budget:g} s"
                sfhttp.abort(self.http)  # its thread and socket end now, not with the server
                self._http = None
                break
            except httpx.TimeoutException:
                last = "timed out"
                continue
            except httpx.TransportError as e:
                reason = sfhttp.tls_failure(e)
                if reason is not None:
                    raise SalesforceUnreachable(
                        f"the TLS certificate of {host} is not trusted ({server_words(reason)})",
                        hint="check --login-url; behind a proxy or a private CA, point "
                        "SSL_CERT_FILE at a bundle that holds its certificate",
                    ) from None
                last = type(e).__name__
                continue
            if answer.status < 500:
                return answer
            last = f"HTTP {answer.status}"
        raise SalesforceUnreachable(
            f"cannot get a token from {host}: {last} after {tries} attempt"
            f"{'' if tries == 1 else 's'} (deadline {self.budget:g} s)",
            hint="check the network, proxy settings and --login-url; Salesforce status: "
            "status.salesforce.com",
        )


def _redirected(profile: Profile, status: int, location: str | None) -> SalesforceRefused:
    """A 3xx is never followed (the assertion would go to another host): it is explained."""
    target = sfhttp.origin_of(location)
    where = f" to {target}" if target else ""
    return SalesforceRefused(
        f"http_{status}", "",
        cause=f"the token endpoint at {profile.login_url} redirects{where}; sfcred does not "
        "follow redirects with a signed assertion",
        fix=(f"use the host it redirects to: `sfcred profile add {profile.name} --login-url "
             f"{target} ... --force`" if target else
             "check --login-url: it must be the org's login host (https://login.salesforce.com, "
             "https://test.salesforce.com or the My Domain)"),
        status=status,
    )


def _clean(value: object) -> bool:
    return isinstance(value, str) and bool(value) and value.isprintable()


def _token(data: dict[str, Any] | None, profile: Profile) -> Token:
    if data is None:
        raise SalesforceUnreachable(
            "the token endpoint answered 200 with a body that is not JSON; refusing it"
        )
    token, url = data.get("access_token"), data.get("instance_url")
    if not _clean(token) or not _clean(url):
        raise SalesforceUnreachable(
            "the token endpoint's answer lacks a clean access_token or instance_url; refusing it"
        )
    assert isinstance(token, str)
    assert isinstance(url, str)
    instance_url = check_instance_url(url)
    instance_host = netloc(instance_url)
    if not host_allowed(instance_host, profile.allow_hosts):
        # Refused before anything is cached or learned: a learned instance host routes
        # `host=` requests, so one such answer would hand this org's tokens to that host.
        name = host_name(instance_host)
        raise SalesforceUnreachable(
            f"the token endpoint at {netloc(profile.login_url)} returned instance_url "
            f"https://{server_words(instance_host, 120)}, which is not a Salesforce host; "
            "refusing the token",
            hint=f"if {name} really is your org's instance, allow it: `sfcred profile add "
            f"{profile.name} ... --force --allow-host {name}`")
    id_url = data.get("id")
    scope = data.get("scope")
    from sfcred.salesforce.jwtexp import expiry

    return Token(
        access_token=Secret(token),
        instance_url=instance_url,
        id_url=id_url if _clean(id_url) else None,
        scope=scope if _clean(scope) else None,
        expires=expiry(token),
    )


# ---------------------------------------------------------------- the authorization code


def exchange_code(
    profile: Profile,
    code: Secret,
    redirect: str,
    verifier: Secret,
    client_secret: Secret | None,
) -> str | None:
    """Trade an authorization code for tokens and drop them (the approval is what counts);
    returns the approving user's name, if userinfo tells it. Refusals are explained for the
    code flow (``refusals.CODE_FIXES``)."""
    form = {
        "grant_type": "authorization_code",
        "code": code.reveal(),
        "redirect_uri": redirect,
        "client_id": profile.client_id,
        "code_verifier": verifier.reveal(),
    }
    if client_secret is not None:
        form["client_secret"] = client_secret.reveal()
    host = netloc(profile.login_url)
    budget = mint_budget()  # the exchange; then the userinfo call, which may fail quietly

    def exchange(http: httpx.Client) -> dict[str, Any]:
        url = f"{profile.login_url}/services/oauth2/token"
        answer = sfhttp.post_form(http, url, form, budget)
        status, data = answer.status, json_object(answer.body)
        if status >= 500 or (status == 200 and data is None):
            raise SalesforceUnreachable(
                f"{host} answered the code exchange with HTTP {status}",
                hint="try again later; Salesforce status: status.salesforce.com",
            )
        if status != 200 or data is None or "access_token" not in data:
            raise code_refused(profile, status, data, redirect)
        return data

    try:
        with sfhttp.client() as http:
            data = sfhttp.within(partial(exchange, http), budget,
                                 f"{host} did not finish the code exchange")
            return _approver(http, data, budget, profile.allow_hosts)
    except httpx.HTTPError as e:
        raise SalesforceUnreachable(
            f"cannot reach {host} to finish the approval ({type(e).__name__})",
            hint="check the network and proxy settings, then run it again",
        ) from None


def code_refused(
    profile: Profile, status: int, data: dict[str, Any] | None, redirect: str
) -> SalesforceRefused:
    error = str((data or {}).get("error") or f"http_{status}")
    desc = str((data or {}).get("error_description") or "")
    ctx = Context(profile.name, profile.login_url, profile.audience, profile.username,
                  redirect=redirect)
    return explain(error, desc[:300], ctx, flow="code", status=status)


def _approver(http: httpx.Client, data: dict[str, Any], left: float,
              allow: tuple[str, ...]) -> str | None:
    """Who approved: userinfo with the fresh access token (only at an allowed host), within
    ``left`` seconds. None when it cannot tell."""
    token, instance = data.get("access_token"), data.get("instance_url")
    if not isinstance(token, str) or not isinstance(instance, str):
        return None
    try:
        base = check_instance_url(instance)
        if not host_allowed(netloc(base), allow):
            return None
        url = f"{base}/services/oauth2/userinfo"
        _, info = sfhttp.within(lambda: sfhttp.get_json(http, url, token, left), left,
                                "no userinfo")
    except (SalesforceUnreachable, httpx.HTTPError):
        return None
    name = info.get("preferred_username") if info is not None else None
    return server_words(name) if isinstance(name, str) and name else None
