"""The four output formats of ``get`` (docs/reference/protocol.md): git, token, json, env.
Pure; on the warm path, so each format imports only what it needs."""

from __future__ import annotations

from sfcred.helper.protocol import format_pairs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sfcred.tokens.entry import Entry

FORMATS = ("git", "token", "json", "env")


def rfc3339(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def split_origin(url: str) -> tuple[str, str]:
    """("https", "host:port") of an instance URL (a bare origin: checked when minted and
    again when read from the cache)."""
    scheme, _, rest = url.partition("://")
    return scheme, rest.split("/", 1)[0]


def render(entry: Entry, fmt: str, capabilities: frozenset[str] = frozenset(),
           protocol: str | None = None, host: str | None = None) -> str:
    """``protocol``/``host``: the request's (a helper never redirects git to another host);
    None when the request named no host, and then the instance's are printed."""
    token = entry.access_token.reveal()
    # Every value passes the same CR/LF/NUL refusal, whatever the format.
    format_pairs([("access_token", token), ("instance_url", entry.instance_url),
                  ("username", entry.username)])
    if fmt == "token":
        return token + "\n"
    if fmt == "json":
        import json

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
        import shlex

        return (
            f"export SF_ACCESS_TOKEN={shlex.quote(token)}\n"
            f"export SF_INSTANCE_URL={shlex.quote(entry.instance_url)}\n"
        )
    scheme, instance_host = split_origin(entry.instance_url)
    pairs = [
        ("protocol", protocol or scheme),
        ("host", instance_host if host is None else host),
        ("username", entry.username),
        ("password", token),
        ("password_expiry_utc", str(int(entry.expires_at))),
    ]
    if "authtype" in capabilities:
        pairs += [("capability[]", "authtype"), ("authtype", "Bearer"), ("credential", token)]
    return format_pairs(pairs)
