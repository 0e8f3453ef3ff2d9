"""The four output formats of ``get`` (SPEC.md): git, token, json, env. Pure."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from urllib.parse import urlsplit

from sfcred.cache import Entry
from sfcred.protocol import format_pairs

FORMATS = ("git", "token", "json", "env")


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(entry: Entry, fmt: str, capabilities: frozenset[str] = frozenset()) -> str:
    token = entry.access_token.reveal()
    if fmt == "token":
        return format_pairs([("t", token)])[2:]  # same CR/LF/NUL refusal as every value
    if fmt == "json":
        format_pairs([("access_token", token), ("instance_url", entry.instance_url)])
        data = {
            "access_token": token,
            "instance_url": entry.instance_url,
            "token_type": "Bearer",
            "expires_at": rfc3339(entry.expires_at),
            "profile": entry.profile,
            "username": entry.username,
        }
        return json.dumps(data) + "\n"
    if fmt == "env":
        format_pairs([("access_token", token), ("instance_url", entry.instance_url)])
        return (
            f"export SF_ACCESS_TOKEN={shlex.quote(token)}\n"
            f"export SF_INSTANCE_URL={shlex.quote(entry.instance_url)}\n"
        )
    url = urlsplit(entry.instance_url)
    pairs = [
        ("protocol", url.scheme),
        ("host", url.netloc),
        ("username", entry.username),
        ("password", token),
        ("password_expiry_utc", str(int(entry.expires_at))),
    ]
    if "authtype" in capabilities:
        pairs += [("capability[]", "authtype"), ("authtype", "Bearer"), ("credential", token)]
    return format_pairs(pairs)
