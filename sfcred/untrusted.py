"""Checks for what comes from outside sfcred: server text, instance URLs, hosts. Pure.

On the warm path of ``get`` (a cached ``instance_url`` is checked on every read), so it imports
nothing: no ``urllib``, no ``ipaddress``, no ``re``.

- ``server_words``: text a server sent (``error_description``, a SOAP fault) made safe to print:
  one line, no control or bidi-formatting characters, capped, so a hostile endpoint cannot
  retitle the terminal, clear it, or forge a line such as ``sfcred: fix: ...``.
- ``origin``: a bare origin (``https://host[:port]``, plain http only on loopback), or None for
  anything else: userinfo, a path, a query, spaces, backslashes, control characters.
- ``same_host``: host comparison as a credential helper must do it (case, default ports).
"""

from __future__ import annotations

MAX_WORDS = 200
# Unicode "format" characters that reorder or hide text (RLO, LRI, zero-width joiners ...).
_HIDING = frozenset("\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                    "\u2060\u2066\u2067\u2068\u2069\ufeff")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_[]:")
DEFAULT_PORTS = {"https": "443", "http": "80"}


def server_words(text: object, cap: int = MAX_WORDS) -> str:
    """``text`` as one printable line of at most ``cap`` characters (plus "…" when cut).

    Control characters (ESC, BEL, CR, LF, DEL, C1) and hiding characters become "?"; runs of
    white space become one space. Anything not a string is shown by its type only.
    """
    if not isinstance(text, str):
        return f"<{type(text).__name__}>" if text is not None else ""
    out: list[str] = []
    for c in text[: cap * 4]:  # bound the work on a 1 MiB body before cutting
        if c in " \t\n\r\x0b\x0c":
            if out and out[-1] != " ":
                out.append(" ")
        elif not c.isprintable() or c in _HIDING:
            out.append("?")
        else:
            out.append(c)
    words = "".join(out).strip()
    return words if len(words) <= cap else words[: cap - 1].rstrip() + "…"


def quoted(text: object, cap: int = MAX_WORDS) -> str:
    """Server text in double quotes, so it reads as the server's words, not sfcred's."""
    return '"' + server_words(text, cap).replace('"', "'") + '"'


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (bracketed or not); no DNS, no ipaddress import."""
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in ("localhost", "::1", "0:0:0:0:0:0:0:1"):
        return True
    parts = host.split(".")
    return (len(parts) == 4 and parts[0] == "127"
            and all(p.isdigit() and p.isascii() and int(p) < 256 for p in parts))


def split_hostport(netloc: str) -> tuple[str, str | None] | None:
    """(host, port or None) of ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; None if
    malformed. The host keeps its brackets, as git's ``host=`` does."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 2:
            return None
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:] if rest else None
        if ":" not in host[1:-1]:
            return None
    else:
        host, sep, port_text = netloc.partition(":")
        port = port_text if sep else None
        if not host or "[" in host or "]" in host:
            return None
    if port is not None and not (port.isascii() and port.isdigit()
                                 and 0 < len(port) <= 5 and int(port) < 65536):
        return None
    return host, port


def origin(url: object) -> tuple[str, str] | None:
    """(scheme, netloc lower-cased) of a bare https origin, or of http on loopback; None for
    anything else. One trailing "/" is allowed (Salesforce does not send one, proxies may)."""
    if not isinstance(url, str) or len(url) > 300:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("https", "http"):
        return None
    if rest.endswith("/"):
        rest = rest[:-1]
    netloc = rest.lower()
    if not is_host(netloc):
        return None  # userinfo (@), path (/), query (?), fragment, spaces, \, controls, unicode
    parts = split_hostport(netloc)  # is_host has checked it splits
    if parts is None or (scheme == "http" and not is_loopback(parts[0])):
        return None
    return scheme, netloc


def is_host(netloc: str) -> bool:
    """A lower-case ``host[:port]`` (brackets for IPv6) of ASCII host characters only."""
    if not netloc or not _HOST_CHARS.issuperset(netloc):
        return False
    parts = split_hostport(netloc)
    return parts is not None and parts[0].strip(".") != ""


def canonical_host(host: str, scheme: str | None) -> str:
    """Lower case, and without the scheme's default port: ``Acme.example.com:443`` and
    ``acme.example.com`` are the same https host."""
    host = host.lower()
    parts = split_hostport(host)
    if parts is None:
        return host
    name, port = parts
    if port is not None and scheme is not None and DEFAULT_PORTS.get(scheme) == port:
        return name
    return host


def same_host(a: str, b: str, scheme: str | None) -> bool:
    return canonical_host(a, scheme) == canonical_host(b, scheme)


# ---------------------------------------------------------------- Salesforce hosts only
# The domains Salesforce serves orgs, logins and sites on (its "Allow the Required Domains"
# help page and its My Domain URL formats): production, sandboxes and scratch orgs
# (*.salesforce.com, *.sandbox.my.salesforce.com, ...), Lightning and Visualforce
# (*.force.com, *.visualforce.com), setup and documents, Salesforce Sites and Experience Cloud
# (*.salesforce-sites.com, *.my.site.com, *.salesforce-experience.com), the older
# *.cloudforce.com, Government Cloud Plus (*.salesforce.mil and its .mil siblings) and
# Salesforce on Alibaba Cloud in China (*.sfcrmapps.cn, *.sfcrmproducts.cn). Hyperforce orgs
# live under these same suffixes. Anything else needs the user's word (``--allow-host``).
SALESFORCE_DOMAINS = (
    "salesforce.com", "force.com", "cloudforce.com", "visualforce.com", "documentforce.com",
    "salesforce-setup.com", "salesforce-sites.com", "my.site.com", "salesforce-experience.com",
    "salesforce.mil", "force.mil", "cloudforce.mil", "crmforce.mil", "visualforce.mil",
    "sfcrmapps.cn", "sfcrmproducts.cn",
)


def host_name(netloc: str) -> str:
    """The lower-case host of ``host[:port]`` (brackets kept for IPv6), without one
    trailing dot; the input itself when it does not split."""
    parts = split_hostport(netloc.lower())
    name = parts[0] if parts is not None else netloc.lower()
    return name[:-1] if name.endswith(".") and not name.startswith("[") else name


def salesforce_host(netloc: str) -> bool:
    """``host[:port]`` is one of Salesforce's domains or a subdomain of one."""
    name = host_name(netloc)
    return any(name == d or name.endswith("." + d) for d in SALESFORCE_DOMAINS)


def host_allowed(netloc: str, allow: tuple[str, ...] | list[str] = ()) -> bool:
    """A secret may go to ``host[:port]``: loopback, a Salesforce domain, or a host the user
    allowed by name (``--allow-host``: a host, or a host:port)."""
    name = host_name(netloc)
    if is_loopback(name) or salesforce_host(name):
        return True
    wanted = {a.lower().rstrip(".") for a in allow}
    return name in wanted or netloc.lower() in wanted


def check_allow_host(value: str) -> str | None:
    """A ``--allow-host`` value as stored (lower case, no scheme), or None if it is not a
    plain host or host:port."""
    text = value.strip().lower()
    if text.startswith("https://"):
        text = text[len("https://"):].rstrip("/")
    if not is_host(text) or "*" in text:
        return None
    return text
