"""The git-credential wire format, pure: ``key=value`` lines in, ``key=value`` lines out.

Reading follows git's rules (gitcredentials(7), credential.c): lines end at a blank line or EOF,
unknown keys are ignored, ``url=`` stands for its parts. Stricter than git where a helper must
be: a line without ``=`` or a value holding NUL or CR is refused with its line number, and a
value holding CR, LF or NUL is never written.
"""

from __future__ import annotations

from sfcred.errors import InputError
from sfcred.plain import Plain
from sfcred.secret import Secret

TYPE_CHECKING = False  # typing costs milliseconds on the warm path; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Iterable

_FORBIDDEN_OUT = ("\r", "\n", "\x00")
_FIELDS = ("profile", "protocol", "host", "path", "username", "password", "capabilities")
_URL_FIELDS = ("protocol", "host", "path", "username", "password")


class Request(Plain):
    """What a client asked for. ``host`` and ``profile`` are None when absent, "" when present
    but empty (both are refused later, never read as "any"). ``password`` is the token a
    client names in ``erase`` (git's reject after a 401), kept as a ``Secret``.

    A plain class rather than a dataclass: importing dataclasses would double the start-up
    time of a cached ``sfcred get``.
    """

    __slots__ = _FIELDS

    def __init__(
        self,
        profile: str | None = None,
        protocol: str | None = None,
        host: str | None = None,
        path: str | None = None,
        username: str | None = None,
        capabilities: frozenset[str] = frozenset(),
        password: Secret | None = None,
    ) -> None:
        self.profile = profile
        self.protocol = protocol
        self.host = host
        self.path = path
        self.username = username
        self.password = password
        self.capabilities = capabilities



def parse(text: str) -> Request:
    fields: dict[str, str | None] = {}
    capabilities: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if line == "":
            break  # a blank line ends the request, as in git
        key, sep, value = line.partition("=")
        if not sep:
            raise InputError(f"input line {number}: expected key=value, got no '='")
        if "\x00" in line:
            raise InputError(f"input line {number}: NUL byte in the {key!r} value")
        if "\r" in line:
            raise InputError(f"input line {number}: carriage return in the {key!r} value")
        if key == "capability[]":
            capabilities.add(value)
        elif key == "url":
            # As git reads it: url= resets what it stands for, then sets what it holds.
            for name in _URL_FIELDS:
                fields.pop(name, None)
            fields.update(url_parts(value, number))
        elif key in ("profile", "protocol", "host", "path", "username", "password"):
            fields[key] = value
    password = fields.get("password")
    return Request(
        profile=fields.get("profile"),
        protocol=fields.get("protocol") or None,
        host=fields.get("host"),
        path=fields.get("path"),
        username=fields.get("username") or None,
        capabilities=frozenset(capabilities),
        password=Secret(password) if password else None,
    )


def _decode(text: str, what: str, number: int) -> str:
    """Percent-decoding as git does it (``url_decode_mem``): ``%XX`` only, "+" is kept."""
    if "%" not in text:
        return text
    out = bytearray()
    i, raw = 0, text.encode("utf-8")
    while i < len(raw):
        if raw[i] == 0x25 and i + 2 < len(raw) and _is_hex(raw[i + 1 : i + 3]):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    decoded = out.decode("utf-8", "replace")
    if any(c in decoded for c in _FORBIDDEN_OUT):
        raise InputError(f"input line {number}: url has a CR, LF or NUL in its {what}")
    return decoded


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)


def url_parts(url: str, number: int = 1) -> dict[str, str]:
    """``proto://[user[:pass]@]host[:port][/path]`` split as git's ``credential_from_url``
    does: the host is kept as written (port and IPv6 brackets included), user, password, host
    and path are percent-decoded, and the path loses its leading and trailing slashes."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise InputError(f"input line {number}: url has no scheme (proto://host)")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    out = {"protocol": scheme}
    user, at, host = authority.partition("@") if "@" in authority else ("", "", authority)
    if at:
        name, colon, secret = user.partition(":")
        out["username"] = _decode(name, "user name", number)
        if colon:
            out["password"] = _decode(secret, "password", number)
    out["host"] = _decode(host, "host", number)
    path = tail.lstrip("/").rstrip("/")  # git keeps a query in the path
    if path:
        out["path"] = _decode(path, "path", number)
    return out


def format_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """Render key=value lines. Refuses, rather than escapes, anything that would split a line."""
    lines = []
    for key, value in pairs:
        if "=" in key or any(c in key or c in value for c in _FORBIDDEN_OUT):
            raise InputError(f"refusing to print the {key!r} value: it holds CR, LF or NUL")
        lines.append(f"{key}={value}\n")
    return "".join(lines)
