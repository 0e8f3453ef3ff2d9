"""Doctor's online checks: the clock against the login host's Date header, a real token
request, a search of the other host/audience pairs when Salesforce's refusal may come from a
wrong pair, and userinfo with the new token.

Every pair tried is a real login attempt (at most ``MAX_PROBES``, and only for the refusals
in ``refusals.PAIR_PROBLEMS``): the 3,600-logins-per-hour limit is far, but a loop of doctors
would count.
The access token is used for userinfo only, then dropped: doctor never fills the token cache.

Bounded in time: every call within ``SFCRED_TIMEOUT`` (as a mint), and all of them within
``budget()`` (``ONLINE_CALLS`` of those), after which the checks left are skipped; a server
that drips its answers cannot keep doctor running.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx

from sfcred.deadline import Deadline, mint_budget
from sfcred.doctor.model import (
    REFUSED,
    SKEW_FAIL,
    SKEW_WARN,
    UNREACHABLE,
    Check,
    change_command,
    make,
    production_url,
    sandbox_url,
)
from sfcred.errors import SalesforceRefused, SalesforceUnreachable, SfcredError
from sfcred.profiles.record import PRODUCTION, SANDBOX, Profile, netloc
from sfcred.salesforce import http as sfhttp
from sfcred.salesforce.refusals import (
    OTHER_PROGRESS,
    PAIR_PROBLEMS,
    PROGRESS,
    SUCCESS_PROGRESS,
    Refusal,
)

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial
    from sfcred.salesforce.oauth import Token, TokenClient
    from sfcred.store.keystore import KeyStore

MAX_PROBES = 6
ONLINE_CALLS = 4  # the clock, the token (with its pair search), userinfo, the app
OUT_OF_TIME = "doctor's online time (4 x SFCRED_TIMEOUT) ran out"
_ISO = "%Y-%m-%d %H:%M:%S UTC"


def _iso(t: float) -> str:
    return time.strftime(_ISO, time.gmtime(t))


def budget() -> Deadline:
    """The deadline of doctor's whole online part."""
    return Deadline(ONLINE_CALLS * mint_budget())


def _left(deadline: Deadline) -> float:
    """One call's time: SFCRED_TIMEOUT, or what is left of doctor's (0: none left)."""
    return min(mint_budget(), deadline.left())


def _date(url: str, left: float) -> str | None:
    """The Date header of a GET (its body read capped, all of it within ``left``)."""
    with sfhttp.client() as http:
        def get() -> str | None:
            with http.stream("GET", url, timeout=sfhttp.timeouts(http.timeout, left)) as r:
                sfhttp.read_capped(r)
                date: str | None = r.headers.get("date")
                return date

        return sfhttp.within(get, left, f"no answer from {netloc(url)}")


def clock_check(login_url: str, clock: Callable[[], float],
                deadline: Deadline | None = None) -> Check:
    """Any answer of the login host carries a Date header; userinfo without a token is cheap
    and is no login attempt."""
    host = netloc(login_url)
    left = _left(deadline or budget())
    if not left:
        return make("clock", "skip", OUT_OF_TIME)
    try:
        before = clock()
        date = _date(f"{login_url}/services/oauth2/userinfo", left)
        after = clock()
    except httpx.HTTPError as e:
        return make("clock", "skip", f"no answer from {host} ({type(e).__name__})")
    except SalesforceUnreachable as e:
        return make("clock", "skip", e.message)
    try:
        server = email.utils.parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        server = None
    if server is None:
        return make("clock", "skip", f"{host} sent no usable Date header")
    local = (before + after) / 2
    skew = server - local  # > 0: this machine's clock is behind
    times = f"local {_iso(local)}, {host} {_iso(server)}"
    if abs(skew) < 2:  # the Date header has one-second steps
        return make("clock", "ok", f"in step with {host} ({times})")
    side = "behind" if skew > 0 else "ahead of"
    detail = f"this clock is {abs(skew):.0f} s {side} {host} ({times})"
    fix = ("set the clock right and keep it synced (NTP: `timedatectl set-ntp true`; Windows: "
           "`w32tm /resync`); assertions live 170 s")
    if abs(skew) > SKEW_FAIL:
        return make("clock", "fail", detail, fix, 1)
    if abs(skew) > SKEW_WARN:
        return make("clock", "warn", detail, fix)
    return make("clock", "ok", detail)


def token_checks(
    profile: Profile, material: KeyMaterial, client: Callable[[], TokenClient],
    my_domain: str | None, store: KeyStore | None = None, deadline: Deadline | None = None,
) -> list[Check]:
    deadline = deadline or budget()
    skip = make("userinfo", "skip", "needs a token")
    if not _left(deadline):
        return [make("token", "skip", OUT_OF_TIME), skip]
    c = client()
    c.budget = min(c.budget, _left(deadline))
    try:
        try:
            token = c.mint(profile, material)
        except SalesforceRefused as e:
            return [_refused(profile, material, c, e, my_domain, deadline), skip]
        except SfcredError as e:
            return [make("token", "fail", e.message, e.hint, e.exit_code), skip]
    finally:
        c.close()
    scope = f", scope {token.scope}" if token.scope else ""
    ok = make("token", "ok", f"Salesforce issued a token (instance {token.instance_url}{scope})")
    checks = [ok, userinfo_check(profile, token, deadline)]
    if store is not None and profile.client_credentials:
        checks.append(make("app", "skip", "client credentials: no certificate to compare"))
    elif store is not None:
        from sfcred.doctor.connectedapp import app_check

        left = _left(deadline)
        checks.append(app_check(store, profile, token, budget=left) if left else
                      make("app", "skip", OUT_OF_TIME))
    return checks


def _refused(
    profile: Profile, material: KeyMaterial, client: TokenClient, e: SalesforceRefused,
    my_domain: str | None, deadline: Deadline,
) -> Check:
    said = f"{e.error}: {e.description}" if e.description else e.error
    detail = f"Salesforce refused it ({said}): {e.cause}"
    fix = e.fix
    if e.refusal in PAIR_PROBLEMS:
        pairs = candidates(profile, my_domain, e.refusal is Refusal.APP_NOT_FOUND)
        found = search(profile, material, client, pairs, progress(e), deadline)
        if found is not None:
            host, audience, later = found
            change = change_command(profile, host, audience)
            if later is None:
                fix = f"host {host} with audience {audience} works; change the profile: {change}"
            else:  # the pair is right; Salesforce then stops at the next problem
                fix = (f"host {host} with audience {audience} gets past this error, then "
                       f"Salesforce says '{later.description or later.error}': change the "
                       f"profile ({change}), then: {later.fix}")
        elif pairs:
            fix += f" (tried {len(pairs)} other host/audience pairs: none got further)"
    if e.refusal is Refusal.KEY_MISMATCH and profile.keys.pending:
        fix += (f"; a pending key exists: if its certificate is the one uploaded, run "
                f"`sfcred rotate {profile.name} --activate`")
    return make("token", "fail", detail, fix, REFUSED)


def candidates(profile: Profile, my_domain: str | None, external: bool) -> list[tuple[str, str]]:
    """The sensible other pairs, most likely first, without the profile's own pair."""
    pairs = [(production_url(), PRODUCTION), (sandbox_url(), SANDBOX)]
    if my_domain:
        # A My Domain host with a login/test audience is the common working pair; an
        # External Client App wants the My Domain as both.
        mine = [(my_domain, PRODUCTION), (my_domain, SANDBOX)]
        pairs = [(my_domain, my_domain), *mine, *pairs] if external else [*pairs, *mine,
                                                                         (my_domain, my_domain)]
    if not external:  # keep the host and change only the audience first
        pairs.sort(key=lambda p: p[0] != profile.login_url)
    seen = {(profile.login_url, profile.audience)}
    unique = []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            unique.append(pair)
    return unique[:MAX_PROBES]


def progress(e: SalesforceRefused | None) -> int:
    """How far a token request got, in the order Salesforce checks an assertion: the app,
    the signature, the audience, the time, the user's approval, then the user's own limits.
    A pair that gets further than the profile's own has fixed the pair, even if Salesforce
    then stops at a later problem."""
    if e is None:
        return SUCCESS_PROGRESS
    return PROGRESS.get(e.refusal, OTHER_PROGRESS) if e.refusal else OTHER_PROGRESS


def search(
    profile: Profile, material: KeyMaterial, client: TokenClient,
    pairs: list[tuple[str, str]], baseline: int, deadline: Deadline | None = None,
) -> tuple[str, str, SalesforceRefused | None] | None:
    """The first pair that works, else the pair that gets furthest past ``baseline``; only
    while doctor's online time lasts."""
    best: tuple[int, tuple[str, str, SalesforceRefused | None]] | None = None
    deadline = deadline or budget()
    for host, audience in pairs:
        if not _left(deadline):
            break
        client.budget = min(client.budget, _left(deadline))
        try:
            client.mint(replace(profile, login_url=host, audience=audience), material)
        except SalesforceRefused as e:
            rank = progress(e)
            if rank > baseline and (best is None or rank > best[0]):
                best = (rank, (host, audience, e))
            continue
        except SfcredError:
            continue
        return host, audience, None
    return best[1] if best else None


def userinfo_check(profile: Profile, token: Token, deadline: Deadline | None = None) -> Check:
    host = netloc(token.instance_url)
    url = f"{token.instance_url}/services/oauth2/userinfo"
    left = _left(deadline or budget())
    if not left:
        return make("userinfo", "skip", OUT_OF_TIME)
    try:
        with sfhttp.client() as http:
            status, info = sfhttp.within(
                lambda: sfhttp.get_json(http, url, token.access_token.reveal(), left), left,
                f"no complete answer from {host} at userinfo")
    except httpx.HTTPError as e:
        return make("userinfo", "fail", f"no answer from {host} ({type(e).__name__})",
                      "check the network and proxy settings", UNREACHABLE)
    except SalesforceUnreachable as e:
        return make("userinfo", "fail", e.message, "check the network and proxy settings",
                    UNREACHABLE)
    if status in (401, 403):
        return make("userinfo", "fail", f"{host} refused the new token at userinfo (HTTP "
                      f"{status})",
                      "give the app the scopes api and id (or openid), and the user the API "
                      "Enabled permission", REFUSED)
    if info is None:
        return make("userinfo", "fail", f"{host} answered userinfo with HTTP {status}",
                      "try again later; Salesforce status: status.salesforce.com", UNREACHABLE)
    who, org = _text(info.get("preferred_username")), _text(info.get("organization_id"))
    detail = f"{who or 'unknown user'} in org {org or 'unknown'} ({token.instance_url})"
    if profile.client_credentials:  # the token acts as the app's Run As user
        return make("userinfo", "ok", f"{detail}: the app's Run As user")
    if who and who.casefold() != profile.username.casefold():
        return make("userinfo", "warn", f"the token belongs to {detail}, not to "
                      f"{profile.username}", "check --username of the profile")
    return make("userinfo", "ok", detail)


def _text(value: object) -> str | None:
    if isinstance(value, str) and value and len(value) <= 255 and value.isprintable():
        return value
    return None
