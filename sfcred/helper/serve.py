"""The credential helper's core: ``handle(action, request_text, options, env) -> Answer``.

Pure but for what is injected: the caller reads argv and stdin, passes the request text, the
environment and a ``Tokens`` factory, and writes the ``Answer`` (stdout text, notes for stderr,
exit code). The rules of the protocol (docs/reference/protocol.md) live here: ``store`` says
nothing, an empty erase erases nothing, a request the chosen profile does not own is not
served (silence and exit 0 under git's name), ``erase`` with a ``password=`` forgets only
that token, and the formats.

Off the warm path (``warm.py`` answers FRESH tokens first), so it uses ordinary dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sfcred.errors import NotServed, SfcredError
from sfcred.helper.choice import CI_VARIABLE

if TYPE_CHECKING:
    from sfcred.helper.choice import Choice
    from sfcred.helper.protocol import Request
    from sfcred.helper.warm import Pass
    from sfcred.profiles.env import EnvProfile
    from sfcred.tokens.flight import Tokens


@dataclass(frozen=True)
class Options:
    """What the command line said: ``-p``, ``--format``, and whether git runs us."""

    profile: str | None = None
    format: str = "git"
    git: bool = False


@dataclass(frozen=True)
class Answer:
    """What to write: ``stdout`` as is, each of ``notes`` as a line on stderr, then exit."""

    stdout: str = field(default="", repr=False)  # may hold a token: never in a repr
    notes: tuple[str, ...] = ()
    exit_code: int = 0


def pick(
    request: Request,
    flag: str | None,
    env: Mapping[str, str],
    tokens: Callable[[EnvProfile | None], Tokens],
) -> tuple[Choice, Tokens]:
    """The profile that answers, and the Tokens to get its token from: a stored profile, or
    in CI mode (nothing named, ``SFCRED_CLIENT_ID`` set) the profile made from the
    environment, which owns its login host and the instance its cached token names."""
    from sfcred.helper.choice import choose

    env_profile = env.get("SFCRED_PROFILE")
    if flag is None and request.profile is None and env_profile is None \
            and env.get(CI_VARIABLE):
        from sfcred.profiles import env as envprofile  # only then: it loads the key's crypto

        ci = envprofile.from_env(env)
        provider = tokens(ci)
        cached = provider.cache.read(ci.name)
        entry = ci.entry(cached.instance_url if cached is not None else None)
        return choose(request, None, None, provider.index.load, ci=(ci.name, entry)), provider
    provider = tokens(None)
    try:
        return choose(request, flag, env_profile, provider.index.load), provider
    except SfcredError:
        if provider.shared is None:
            raise
    # Fleet mode: a profile (or host) this machine has not seen may be the fleet's.
    provider.sync()
    return choose(request, flag, env_profile, provider.index.load), provider


def handle(
    action: str,
    request_text: str | SfcredError,
    options: Options,
    env: Mapping[str, str],
    tokens: Callable[[EnvProfile | None], Tokens],
    warm: Pass | None = None,
) -> Answer:
    """Answer one helper call. ``request_text`` is what stdin held, or the error met reading
    it (``store`` ignores both). Errors other than ``NotServed`` propagate, to be reported
    with their exit code by the caller. ``warm``: what the warm path parsed and chose for
    this call (the same rules, so the same answer), used instead of doing it again."""
    from sfcred.helper import formats, protocol

    if action == "store":
        return Answer()  # tokens come from minting, never from a client
    if isinstance(request_text, SfcredError):
        raise request_text
    request = warm.request if warm is not None and warm.request is not None \
        else protocol.parse(request_text)
    named = (options.profile, request.profile, env.get("SFCRED_PROFILE"), request.host)
    if action == "erase" and all(value is None for value in named) \
            and not env.get(CI_VARIABLE):
        # An empty erase erases nothing (as git's own helpers do), never the default's.
        notes = () if options.git else (
            "erase: nothing named (no -p, profile=, SFCRED_PROFILE or host=); nothing erased",)
        return Answer(notes=notes)
    try:
        if warm is not None and warm.choice is not None and action == "get":
            choice, provider = warm.choice, tokens(None)
        else:
            choice, provider = pick(request, options.profile, env, tokens)
    except NotServed as e:
        if options.git:
            return Answer()  # git asks every helper about every host: not ours, say nothing
        raise e from None
    from sfcred.salesforce import trace

    if warm is None or warm.choice is not choice:
        trace.say(f"profile {choice.name}: {choice.why}")
    if action == "erase":
        provider.known(choice.name)
        provider.erase(choice.name, request.password)
        return Answer()
    entry = provider.get(choice.name)
    text = formats.render(entry, options.format, request.capabilities, choice.protocol,
                          choice.host)
    return Answer(stdout=text)
