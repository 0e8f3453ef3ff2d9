"""``sfcred authorize NAME``: the one-time browser approval that the JWT bearer grant needs.

Salesforce answers a JWT assertion with "user hasn't approved this consumer" unless the user is
pre-authorized by an admin or has approved the app once with the ``refresh_token`` scope. This
module records that approval through the web-server flow with PKCE (S256):

1. listen on 127.0.0.1:PORT (``_callback``); the redirect URI is
   ``http://localhost:PORT/OauthRedirect``, as the Salesforce CLI uses, so the app must list it;
2. open ``{login_url}/services/oauth2/authorize?response_type=code&...&scope=api refresh_token``
   in the browser (or print it), with a random ``state`` and a code challenge;
3. take the redirect: check ``state`` (constant time), then exchange the code at
   ``{login_url}/services/oauth2/token`` with the code verifier (and the client secret if given);
4. check that the approval was made by the profile's user, and throw both tokens away: the
   approval is what counts, and it lives at Salesforce. Nothing is stored or printed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sys
import webbrowser
from collections.abc import Callable
from urllib.parse import quote, urlencode

from sfcred.authorize.callback import CallbackServer, Page
from sfcred.errors import (
    ConfigError,
    InputError,
    SalesforceRefused,
    SfcredError,
)
from sfcred.profiles.record import Profile
from sfcred.salesforce.oauth import exchange_code
from sfcred.salesforce.refusals import Context, explain
from sfcred.secret import Secret
from sfcred.untrusted import server_words

REDIRECT_PATH = "/OauthRedirect"
SCOPE = "api refresh_token"


def redirect_uri(port: int) -> str:
    return f"http://localhost:{port}{REDIRECT_PATH}"


def pkce_pair() -> tuple[Secret, str]:
    """A code verifier (86 characters of the URL-safe alphabet) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Secret(verifier), base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(profile: Profile, redirect: str, state: str, challenge: str) -> str:
    query = {
        "response_type": "code",
        "client_id": profile.client_id,
        "redirect_uri": redirect,
        "scope": SCOPE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "login_hint": profile.username,
    }
    return f"{profile.login_url}/services/oauth2/authorize?{urlencode(query, quote_via=quote)}"


def authorize(
    profile: Profile,
    *,
    port: int,
    open_browser: bool,
    client_secret: Secret | None,
    timeout: float,
    say: Callable[[str], None],
    opener: Callable[[str], bool] = webbrowser.open,
) -> None:
    """Record the user's approval of the app; raise an ``SfcredError`` when it cannot."""
    if not 1 <= port <= 65535:
        raise InputError(f"--port {port}: give a port between 1 and 65535")
    if timeout <= 0:
        raise InputError("the timeout must be positive")
    redirect = redirect_uri(port)
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    url = authorize_url(profile, redirect, state, challenge)

    def answer(params: dict[str, str]) -> tuple[Page, BaseException | None]:
        return _answer(params, profile, state, redirect, verifier, client_secret)

    def ours(params: dict[str, str]) -> bool:
        return hmac.compare_digest(params["state"].encode(), state.encode())

    with CallbackServer(port, REDIRECT_PATH, answer, accepts=ours) as callback:
        say(f"approve the app as {profile.username} in a browser; the app must list {redirect} "
            "as a callback URL")
        opened = open_browser and _open(opener, url)
        say("opened the browser at this URL:" if opened else
            "open this URL in a browser where you can log in as that user:")
        say(url)
        say(f"waiting for the browser (up to {_duration(timeout)}; Ctrl-C stops)")
        try:
            outcome = callback.wait(timeout)
        except TimeoutError:
            raise InputError(
                f"no answer from the browser within {_duration(timeout)}",
                hint=f"run `sfcred authorize {profile.name}` again; if the browser showed "
                f"'redirect_uri must match configuration', add {redirect} to the app's "
                "callback URLs",
            ) from None
    if outcome is not None:
        raise outcome


def _open(opener: Callable[[str], bool], url: str) -> bool:
    if opener is webbrowser.open and _headless():
        return False  # a text browser would take over this terminal
    try:
        return bool(opener(url))
    except (webbrowser.Error, OSError):
        return False


def _headless() -> bool:
    if sys.platform in ("darwin", "win32"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _answer(
    params: dict[str, str],
    profile: Profile,
    state: str,
    redirect: str,
    verifier: Secret,
    client_secret: Secret | None,
) -> tuple[Page, BaseException | None]:
    """The callback, already known to carry a ``state``: check it, then exchange the code."""
    if not hmac.compare_digest(params["state"].encode(), state.encode()):
        return Page(400, "Refused", "The answer's state does not match the one sfcred sent, "
                    "so it was not used. You can close this window."), InputError(
            "the browser's answer carries a different state than sfcred sent; it was refused",
            hint="an answer from another login attempt reached the callback; run "
            f"`sfcred authorize {profile.name}` again and use the new URL",
        )  # fmt: skip
    if "error" in params:
        error = server_words(params["error"])
        desc = server_words(params.get("error_description", ""))
        page = Page(400, "Not approved", f"Salesforce said: {error} {desc}. You can close this "
                    "window; the terminal says what to do next.")
        return page, _denied(profile, error, desc)
    code = params.get("code", "")
    if not code:
        return Page(400, "Refused", "The answer has no authorization code. You can close this "
                    "window."), InputError("the browser's answer has neither a code nor an error")
    try:
        who = exchange_code(profile, Secret(code), redirect, verifier, client_secret)
    except SfcredError as e:
        return Page(502, "Not finished", f"{e.message}. You can close this window; the terminal "
                    "says what to do next."), e
    if who is not None and who.casefold() != profile.username.casefold():
        return Page(400, "Wrong user", f"You approved the app as {who}, but sfcred needs "
                    f"{profile.username}. You can close this window."), ConfigError(
            f"the browser approved the app as {who}, but profile {profile.name!r} acts as "
            f"{profile.username}",
            hint=f"log out of Salesforce in the browser (or use a private window) and run "
            f"`sfcred authorize {profile.name}` again as {profile.username}",
        )  # fmt: skip
    return Page(200, "Approved", f"The app is approved for {profile.username}. You can close "
                "this window and return to the terminal."), None


def _denied(profile: Profile, error: str, desc: str) -> SalesforceRefused:
    ctx = Context(profile.name, profile.login_url, profile.audience, profile.username)
    return explain(error, desc, ctx, flow="browser")


