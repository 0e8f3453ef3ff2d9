"""The git-credential wire format, pure: ``key=value`` lines in, ``key=value`` lines out.

Reading follows git's rules (gitcredentials(7), credential.c): lines end at a blank line or EOF,
unknown keys are ignored, ``url=`` stands for its parts. Stricter than git where a helper must
be: a line without ``=`` or a value holding NUL or CR is refused with its line number, and a
value holding CR, LF or NUL is never written.
"""

from __future__ import annotations

from sfcred.errors import InputError

TYPE_CHECKING = False  # typing costs milliseconds on the warm path; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Iterable

_FORBIDDEN_OUT = ("\r", "\n", "\x00")
_FIELDS = ("profile", "protocol", "host", "path", "username", "capabilities")


class Request:
    """What a client asked for. ``host`` is None when absent, "" when present but empty.

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
    ) -> None:
        self.profile = profile
        self.protocol = protocol
        self.host = host
        self.path = path
        self.username = username
        self.capabilities = capabilities

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f) for f in _FIELDS))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in _FIELDS)
        return f"Request({inner})"


def parse(text: str) -> Request:
    fields: dict[str, str] = {}
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
            fields.update(_url_parts(value, number))
        elif key in ("profile", "protocol", "host", "path", "username"):
            fields[key] = value
    return Request(
        profile=fields.get("profile") or None,
        protocol=fields.get("protocol"),
        host=fields.get("host"),
        path=fields.get("path"),
        username=fields.get("username") or None,
        capabilities=frozenset(capabilities),
    )


def _url_parts(url: str, number: int) -> dict[str, str]:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        raise InputError(f"input line {number}: url is not a valid URL") from None
    out = {"protocol": parts.scheme, "host": parts.hostname or ""}
    if port is not None:
        out["host"] += f":{port}"
    if parts.path.strip("/"):
        out["path"] = parts.path.lstrip("/")
    if parts.username:
        out["username"] = parts.username
    return out


def format_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """Render key=value lines. Refuses, rather than escapes, anything that would split a line."""
    lines = []
    for key, value in pairs:
        if "=" in key or any(c in key or c in value for c in _FORBIDDEN_OUT):
            raise InputError(f"refusing to print the {key!r} value: it holds CR, LF or NUL")
        lines.append(f"{key}={value}\n")
    return "".join(lines)
