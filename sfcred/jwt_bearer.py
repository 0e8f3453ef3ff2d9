"""The JWT bearer grant: build the assertion, POST it, and accept only a sane answer.

Retries: connection errors and 5xx are retried with jittered backoff, a few times within about
ten seconds; a 4xx is Salesforce's final word and is never retried (each try counts against the
3,600 logins per user per hour). Every answer is checked before anything is passed on: JSON, at
most 1 MiB, an access token and an https instance URL (http on loopback) without CR/LF/NUL.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from sfcred import sferrors
from sfcred.errors import SalesforceUnreachable
from sfcred.profiles import Profile
from sfcred.secret import Secret
from sfcred.untrusted import origin, server_words

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 170  # Salesforce allows at most 180 s; keep a margin for slow clocks
MAX_BODY = 1 << 20
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
ATTEMPTS = 4
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
BACKOFF = 0.4  # seconds; doubles per attempt, jittered, so four tries stay near 10 s at worst


@dataclass(frozen=True)
class Token:
    access_token: Secret
    instance_url: str
    id_url: str | None
    scope: str | None


def assertion(profile: Profile, key_pem: Secret, now: float) -> str:
    claims = {
        "iss": profile.client_id,
        "sub": profile.username,
        "aud": profile.audience,
        "exp": int(now) + ASSERTION_LIFETIME,
    }
    return jwt.encode(claims, key_pem.reveal(), algorithm="RS256")


class TokenClient:
    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        attempts: int = ATTEMPTS,
    ) -> None:
        self._http = http
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.attempts = attempts

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def mint(self, profile: Profile, key_pem: Secret) -> Token:
        now = self.clock()
        form = {"grant_type": GRANT, "assertion": assertion(profile, key_pem, now)}
        status, body, date = self._post(f"{profile.login_url}/services/oauth2/token", form)
        data = json_object(body)
        if status == 200:
            return _token(data)
        error = str(data.get("error") or f"http_{status}") if data else f"http_{status}"
        desc = str(data.get("error_description") or "") if data else ""
        local = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime(HTTP_DATE)
        ctx = sferrors.Context(
            profile.name, profile.login_url, profile.audience, profile.username, local
        )
        raise sferrors.explain(error, desc[:300], ctx, status=status,
                               server_date=server_words(date, 40) if date else None)

    def _post(self, url: str, form: dict[str, str]) -> tuple[int, bytes, str | None]:
        last = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(BACKOFF * (2 ** (attempt - 1)) * (0.5 + self.jitter()))
            try:
                with self.http.stream("POST", url, data=form) as response:
                    body = read_capped(response)
                    if response.status_code < 500:
                        return response.status_code, body, response.headers.get("date")
                    last = f"HTTP {response.status_code}"
            except httpx.TimeoutException:
                last = "timed out"
            except httpx.TransportError as e:
                last = f"{type(e).__name__}"
        host = urlsplit(url).netloc
        raise SalesforceUnreachable(
            f"cannot get a token from {host}: {last} after {self.attempts} attempts",
            hint="check the network, proxy settings and --login-url; Salesforce status: "
            "status.salesforce.com",
        )


def read_capped(response: httpx.Response) -> bytes:
    """The body of a streamed response, refused past 1 MiB (a server is not trusted)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            raise SalesforceUnreachable("the token endpoint sent a body over 1 MiB; refusing it")
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(body: bytes) -> dict[str, Any] | None:
    """A JSON object, or None for anything else (not JSON, a list, a string)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _clean(value: object) -> bool:
    return isinstance(value, str) and bool(value) and value.isprintable()


def _token(data: dict[str, Any] | None) -> Token:
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
    id_url = data.get("id")
    scope = data.get("scope")
    return Token(
        access_token=Secret(token),
        instance_url=instance_url,
        id_url=id_url if _clean(id_url) else None,
        scope=scope if _clean(scope) else None,
    )


def check_instance_url(url: str) -> str:
    """The instance URL as a bare origin (``https://host[:port]``), or refused: a URL with
    userinfo, a path, a query, spaces or backslashes would be cached, printed and used to
    route ``host=`` requests, so only an origin is let through."""
    parts = origin(url)
    if parts is None:
        # Not quoted back: a URL with userinfo may carry a password.
        raise SalesforceUnreachable(
            "the token endpoint returned an instance_url that is not a bare https origin "
            "(scheme and host only); refusing it"
        )
    return f"{parts[0]}://{parts[1]}"
