"""The credential helper's core: ``handle(action, request_text, options, env) -> Answer``.

Pure but for what is injected: the caller reads argv and stdin, passes the request text, the
environment and a ``Tokens`` factory, and writes the ``Answer`` (stdout text, notes for stderr,
exit code). The rules of SPEC.md's protocol live here: ``store`` says nothing, an empty erase
erases nothing, a request the chosen profile does not own is not served (silence and exit 0
under git's name), ``erase`` with a ``password=`` forgets only that token, and the formats.

On the warm path of ``get``: plain classes, no typing at run time.
"""

from __future__ import annotations

from sfcred.errors import NotServed, SfcredError

TYPE_CHECKING = False  # the warm path must not pay for importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sfcred.tokens import Tokens

ACTIONS = ("get", "store", "erase")


class Options:
    """What the command line said: ``-p``, ``--format``, and whether git runs us."""

    __slots__ = ("format", "git", "profile")

    def __init__(self, profile: str | None = None, format: str = "git", git: bool = False):
        self.profile = profile
        self.format = format
        self.git = git


class Answer:
    """What to write: ``stdout`` as is, each of ``notes`` as a line on stderr, then exit."""

    __slots__ = ("exit_code", "notes", "stdout")

    def __init__(self, stdout: str = "", notes: tuple[str, ...] = (), exit_code: int = 0):
        self.stdout = stdout
        self.notes = notes
        self.exit_code = exit_code

    def __repr__(self) -> str:  # stdout may hold a token: never shown
        return f"Answer(stdout=<{len(self.stdout)} chars>, notes={self.notes!r}, " \
               f"exit_code={self.exit_code})"


def handle(
    action: str,
    request_text: str | SfcredError,
    options: Options,
    env: Mapping[str, str],
    tokens: Callable[[], Tokens],
) -> Answer:
    """Answer one helper call. ``request_text`` is what stdin held, or the error met reading
    it (``store`` ignores both). Errors other than ``NotServed`` propagate, to be reported
    with their exit code by the caller."""
    from sfcred import formats, protocol
    from sfcred.choice import choose

    if action == "store":
        return Answer()  # tokens come from minting, never from a client
    if isinstance(request_text, SfcredError):
        raise request_text
    request = protocol.parse(request_text)
    env_profile = env.get("SFCRED_PROFILE")
    named = (options.profile, request.profile, env_profile, request.host)
    if action == "erase" and all(value is None for value in named):
        # An empty erase erases nothing (as git's own helpers do), never the default's.
        notes = () if options.git else (
            "erase: nothing named (no -p, profile=, SFCRED_PROFILE or host=); nothing erased",)
        return Answer(notes=notes)
    provider = tokens()
    try:
        choice = choose(request, options.profile, env_profile, provider.index.load)
    except NotServed as e:
        if options.git:
            return Answer()  # git asks every helper about every host: not ours, say nothing
        raise e from None
    if action == "erase":
        provider.known(choice.name)
        provider.erase(choice.name, request.password)
        return Answer()
    entry = provider.get(choice.name)
    text = formats.render(entry, options.format, request.capabilities, choice.protocol,
                          choice.host)
    return Answer(stdout=text)
