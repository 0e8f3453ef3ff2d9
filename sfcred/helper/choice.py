"""Which profile answers a request (docs/reference/protocol.md), and the rule over every
choice: a request that names a host, protocol or user is answered only by a profile that
owns it.

Pure: the index is passed in as a loader (read only when the request needs it). On the warm
path of ``get``: it imports nothing but the error tree and the name check.
"""

from __future__ import annotations

from sfcred.errors import ConfigError, InputError, NotServed
from sfcred.plain import Plain
from sfcred.profiles.index import check_name

# Set, with no profile named: CI mode, a profile made from the environment (profiles/env.py).
CI_VARIABLE = "SFCRED_CLIENT_ID"

TYPE_CHECKING = False  # the warm path must not pay for importing typing
if TYPE_CHECKING:
    from collections.abc import Callable

    from sfcred.helper.protocol import Request
    from sfcred.profiles.index import Index, IndexEntry


class Choice(Plain):
    """The profile a request is answered by, and the ``protocol=``/``host=`` of the answer:
    the request's own when it named a host (None: the instance's)."""

    __slots__ = ("host", "name", "protocol", "why")

    def __init__(self, name: str, protocol: str | None = None, host: str | None = None,
                 why: str = "") -> None:
        self.name = name
        self.protocol = protocol
        self.host = host
        self.why = why  # how it was chosen, in words, for --verbose (never a secret)

    def _names(self) -> tuple[str, ...]:
        return ("host", "name", "protocol")  # the same choice however it is explained


def choose(
    req: Request, flag: str | None, env_profile: str | None, load_index: Callable[[], Index],
    ci: tuple[str, IndexEntry] | None = None,
) -> Choice:
    """Profile choice (docs/reference/protocol.md), and the rule over it: a request that
    names a host (or a protocol) is answered only by a profile that owns that host and
    scheme, however the profile was chosen. ``-p prod`` with ``host=github.com`` is
    ``NotServed``, not prod's token.

    A present but empty ``host=``, ``-p``, ``profile=`` or ``SFCRED_PROFILE`` is refused: an
    unset variable must not silently mean "the default". The index is read only when the
    request names a host or protocol or no profile, so a named warm ``get`` reads nothing
    but its cache file. Names from the index are checked like ``-p`` names.
    """
    if req.host == "":
        raise NotServed("the request has an empty host=; refusing it")
    for what, value in (("-p/--profile", flag), ("profile=", req.profile),
                        ("SFCRED_PROFILE", env_profile)):
        if value == "":
            raise InputError(f"{what} is empty; name a profile (an empty name never means "
                             "the default)")
    named = flag or req.profile or env_profile
    if named is not None:
        check_name(named)
        why = ("named by -p" if flag else "named by profile= in the request" if req.profile
               else "named by SFCRED_PROFILE")
        if req.host is None and req.protocol is None and req.username is None:
            return Choice(named, why=why)
        index = load_index()
        entry = index.profiles.get(named)
        if entry is None:
            from sfcred.profiles.suggest import missing

            raise missing(named, index.profiles)
        return _owned(named, entry, req, why)
    if ci is not None:  # CI mode: the profile made from the environment (profiles/env.py)
        return _owned(ci[0], ci[1], req, "CI mode: made from SFCRED_CLIENT_ID and the rest")
    index = load_index()
    if req.host is not None:
        matches = index.match_host(req.host, req.username, req.protocol)
        if len(matches) == 1:
            return _owned(check_name(matches[0]), index.profiles[matches[0]], req,
                          f"the only profile whose login or instance host is {req.host}")
        if matches:
            raise InputError(
                f"host {req.host} matches several profiles ({', '.join(matches)}); "
                "pass username= or -p NAME"
            )
        raise NotServed(f"no profile for {_what(req)}; pass -p NAME or profile=NAME")
    if index.default:
        default = check_name(index.default)
        entry = index.profiles.get(default)
        if entry is None:
            raise ConfigError(f"the default profile {default!r} is not in the index",
                              hint="set another with `sfcred profile default NAME`")
        return _owned(default, entry, req, "the default profile (nothing named, no host=)")
    raise InputError("no profile chosen: pass -p NAME, set SFCRED_PROFILE, or set a default")


def _owned(name: str, entry: IndexEntry, req: Request, why: str) -> Choice:
    if req.username is not None and req.username != entry.username:
        raise NotServed(f"profile {name} is {entry.username}, not {req.username}; "
                        "not answering for another user")
    if req.host is None:
        if req.protocol is not None and req.protocol not in entry.schemes():
            raise NotServed(f"profile {name} is not reached over {req.protocol}://")
        return Choice(name, why=why)
    scheme = entry.serves(req.host, req.protocol, req.username)
    if scheme is None:
        raise NotServed(f"profile {name} does not serve {_what(req)}; not answering")
    return Choice(name, scheme, req.host, why)


def _what(req: Request) -> str:
    return f"{req.protocol}://{req.host}" if req.protocol else f"host {req.host}"
