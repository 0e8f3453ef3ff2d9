"""The one place that builds HTTP clients for Salesforce, and reads what comes back.

Every call to Salesforce (token requests, userinfo, the code exchange, doctor's probes) goes
through ``client()``: the same timeouts, no redirects followed (a 3xx from a token endpoint is
an answer, never a hop to another host), TLS verified the way httpx does it (``SSL_CERT_FILE``
honoured). Bodies are read capped, since a server is not trusted.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sfcred.errors import SalesforceUnreachable
from sfcred.untrusted import origin

MAX_BODY = 1 << 20
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)


def client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def read_capped(response: httpx.Response, limit: int = MAX_BODY) -> bytes:
    """The body of a streamed response, refused past ``limit`` bytes."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise SalesforceUnreachable("Salesforce sent a body over 1 MiB; refusing it")
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(body: bytes) -> dict[str, Any] | None:
    """A JSON object, or None for anything else (not JSON, a list, a string, too deep)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def get_json(http: httpx.Client, url: str, token: str) -> tuple[int, dict[str, Any] | None]:
    """GET with a bearer token: (status, the JSON object of a 200, capped; else None)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with http.stream("GET", url, headers=headers) as r:
        body = read_capped(r)
        return r.status_code, json_object(body) if r.status_code == 200 else None


def post_form(http: httpx.Client, url: str,
              form: dict[str, str]) -> tuple[int, bytes, str | None]:
    """POST a form: (status, body capped, the Date header)."""
    with http.stream("POST", url, data=form, headers={"Accept": "application/json"}) as r:
        return r.status_code, read_capped(r), r.headers.get("date")


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
