"""The one place that builds HTTP clients for Salesforce, and reads what comes back.

Every call to Salesforce (token requests, userinfo, the code exchange, doctor's probes) goes
through ``client()``: the same timeouts, no redirects followed (a 3xx from a token endpoint is
an answer, never a hop to another host), TLS verified the way httpx does it (``SSL_CERT_FILE``
honoured). Bodies are read capped, since a server is not trusted, and each exchange runs
``within`` a deadline: a per-read timeout restarts with every byte of a dripped answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from sfcred.deadline import Expired, run_within
from sfcred.errors import SalesforceUnreachable
from sfcred.salesforce import trace
from sfcred.untrusted import origin

MAX_BODY = 1 << 20
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
T = TypeVar("T")


def client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, verify=tls_context())


_CONTEXTS: dict[tuple[object, ...], Any] = {}


def tls_context() -> Any:
    """httpx's own TLS context (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` honoured, else
    certifi), made once per process and trust settings: loading the CA bundle takes 40 ms
    here, paid by every client otherwise (a program using the Python API mints with a new
    client each time). A changed variable or CA file makes a new one."""
    import os

    try:
        from httpx import create_ssl_context
    except ImportError:  # httpx before 0.28: its clients make their own
        return True
    cafile = os.environ.get("SSL_CERT_FILE")
    try:
        stamp = os.stat(cafile) if cafile else None
    except OSError:
        stamp = None
    key = (cafile, os.environ.get("SSL_CERT_DIR"),
           (stamp.st_mtime_ns, stamp.st_size, stamp.st_ino) if stamp else None)
    context = _CONTEXTS.get(key)
    if context is None:
        context = _CONTEXTS[key] = create_ssl_context()
    return context


def read_capped(response: httpx.Response, limit: int = MAX_BODY) -> bytes:
    """The body of a streamed response, refused past ``limit`` bytes."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise SalesforceUnreachable("Salesforce sent a body over 1 MiB; refusing it")
        chunks.append(chunk)
    return b"".join(chunks)


def within(exchange: Callable[[], T], seconds: float, what: str) -> T:
    """``exchange()`` (an HTTP call and its capped read), abandoned after ``seconds``: then
    SalesforceUnreachable ("WHAT within N s"). What it raises is raised as is."""
    try:
        return run_within(exchange, seconds, "sfcred-http-call")
    except Expired:
        raise SalesforceUnreachable(
            f"{what} within {seconds:g} s", hint="check the network; SFCRED_TIMEOUT sets the "
            "seconds each call to Salesforce may take") from None


def json_object(body: bytes) -> dict[str, Any] | None:
    """A JSON object, or None for anything else (not JSON, a list, a string, too deep)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def get_json(http: httpx.Client, url: str, token: str,
             left: float | None = None) -> tuple[int, dict[str, Any] | None]:
    """GET with a bearer token: (status, the JSON object of a 200, capped; else None); the
    timeouts within ``left`` seconds."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    trace.say(f"GET {url}")
    with http.stream("GET", url, headers=headers, timeout=timeouts(http.timeout, left)) as r:
        body = read_capped(r)
        trace.say(f"GET {url}: HTTP {r.status_code}")
        return r.status_code, json_object(body) if r.status_code == 200 else None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = field(repr=False)
    date: str | None = None  # the Date header: the server's clock, for skew advice
    location: str | None = None  # a redirect's target (never followed)


def timeouts(base: httpx.Timeout, left: float | None) -> httpx.Timeout:
    """The client's timeouts, none longer than the ``left`` seconds of a deadline."""
    if left is None:
        return base
    cap = max(left, 0.05)

    def capped(value: float | None) -> float:
        return cap if value is None else min(value, cap)

    return httpx.Timeout(connect=capped(base.connect), read=capped(base.read),
                         write=capped(base.write), pool=capped(base.pool))


def post_form(http: httpx.Client, url: str, form: dict[str, str],
              left: float | None = None) -> Answer:
    """POST a form; the body read capped, the timeouts within ``left`` seconds."""
    trace.say(f"POST {url}")  # the form holds the assertion or a secret: never traced
    with http.stream("POST", url, data=form, headers={"Accept": "application/json"},
                     timeout=timeouts(http.timeout, left)) as r:
        trace.say(f"POST {url}: HTTP {r.status_code}")
        return Answer(r.status_code, read_capped(r), r.headers.get("date"),
                      r.headers.get("location"))


def tls_failure(e: BaseException) -> str | None:
    """The reason, when ``e`` is a TLS failure (an untrusted or wrong certificate): that is
    not a network hiccup, so it is reported at once instead of retried."""
    import ssl

    seen: BaseException | None = e
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "certificate verify failed")
        if isinstance(seen, ssl.SSLError):
            return str(seen.reason or type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return None


def origin_of(url: str | None) -> str | None:
    """The bare origin of an absolute URL from a server (a Location header), or None."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    found = origin(f"{scheme}://{netloc}")
    return f"{found[0]}://{found[1]}" if found else None


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
