"""The shape of the stand-in's answers: ``Reply`` and the bodies Salesforce sends.

Endpoint functions return a ``Reply``; ``http`` writes it to the wire. Nothing here knows the
org or HTTP itself, so every other module may import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

_NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: object, **headers: str) -> Reply:
    return Reply(status, json.dumps(payload).encode("utf-8"), headers=dict(headers))


def text_reply(status: int, text: str, content_type: str = "text/plain;charset=UTF-8") -> Reply:
    return Reply(status, text.encode("utf-8"), content_type)


def oauth_error(error: tuple[str, str], status: int = 400) -> Reply:
    """Salesforce's OAuth error body; ``error`` is an (error, error_description) pair."""
    code, description = error
    return json_reply(status, {"error": code, "error_description": description}, **_NO_STORE)


def token_reply(body: dict[str, str]) -> Reply:
    """A successful token answer; tokens must not sit in any cache on the way."""
    return json_reply(200, body, **_NO_STORE)
