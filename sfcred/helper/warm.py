"""The warm path of ``get``: answer from a FRESH cached token, or step aside.

``answer(argv, request_text, environ)`` returns the text to print when a plain
``get [-p NAME] [--format F]`` can be answered from the plain runtime cache, and None in every
other case: anything unusual, any error, a cache that is not FRESH, sealed or not to be
trusted. None sends the call down the full path (``helper.handle``), which does the same steps
with every note, error and mint; so the warm path never answers what the full path would not
(``tests/test_warm.py`` checks the two agree).

It shares its rules instead of copying them: the request parser (``protocol``), the profile
choice and host ownership (``choice``, ``index``), the cache folder and file checks
(``fsread``), the entry parser and FRESH test (``cache.Entry``), and the formats
(``formats``). Those modules, and this one, import nothing heavy at module level (no typing,
dataclasses, json, keyring, httpx or cryptography): a warm ``get`` costs little more than
Python's own start (see docs/speed.md).
"""

from __future__ import annotations

import time

from sfcred.errors import SfcredError
from sfcred.helper.choice import CI_VARIABLE

TYPE_CHECKING = False  # typing stays off the warm path; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeGuard

    from sfcred.fsutil import Lock
    from sfcred.helper.choice import Choice
    from sfcred.helper.protocol import Request
    from sfcred.profiles.index import Index
    from sfcred.tokens.cache import TokenCache
    from sfcred.tokens.entry import Entry

ACTIONS = ("get", "store", "erase")


def helper_args(argv: list[str]) -> tuple[str, str | None, str] | None:
    """(action, profile, format) of a plain ``get|store|erase [-p NAME] [--format F]``,
    parsed without argparse; None sends anything else through argparse."""
    from sfcred.helper.formats import FORMATS

    if not argv or argv[0] not in ACTIONS:
        return None
    opts = {"profile": None, "format": "git"}
    names = {"-p": "profile", "--profile": "profile", "--format": "format"}
    rest = argv[1:]
    while rest:
        flag, eq, value = rest[0].partition("=")
        if flag not in names or (eq and not flag.startswith("--")):
            return None  # argparse reads "-p=x" as the name "=x": leave such forms to it
        if eq:
            rest = rest[1:]
        elif len(rest) < 2 or rest[1].startswith("-"):
            return None  # a missing value, or one argparse reads as an option: its to say
        else:
            value, rest = rest[1], rest[2:]
        if names[flag] == "format" and value not in FORMATS:
            return None  # argparse checks every --format given, not only the last
        opts[names[flag]] = value
    return argv[0], opts["profile"], str(opts["format"])


class Pass:
    """What the warm path did, handed to the full path so that one ``get`` does each step
    once: the parsed request, the profile chosen (with the index it was chosen from), the
    cache entry read, the profile's lock when this process holds it, and the seconds spent
    waiting on another process's mint. A field is None when the warm path did not get that
    far (the full path then does it)."""

    __slots__ = ("choice", "entry", "lock", "read", "request", "started", "waited")

    def __init__(self) -> None:
        self.request: Request | None = None
        self.choice: Choice | None = None
        self.read = False  # the plain cache was read: ``entry`` is what it held (maybe None)
        self.entry: Entry | None = None
        self.lock: Lock | None = None
        self.waited = 0.0
        self.started = time.monotonic()  # the request is in: one deadline from here


def answer(
    action: str,
    profile: str | None,
    fmt: str,
    request_text: str,
    environ: Mapping[str, str],
    clock: Callable[[], float] = time.time,
    say: Callable[[str], None] | None = None,
    recall: Callable[[str], None] | None = None,
) -> tuple[str | None, Pass]:
    """The output of ``get`` from a FRESH cached token, or None (see the module docstring);
    and what was done on the way (``Pass``), for the full path. ``say``: the trace
    (``--verbose``), None when it is off. ``recall``: where the note of a STALE token served
    from the failure memory goes (``recalled``); None (``--retry-now``): the memory is not
    asked."""
    done = Pass()
    if action != "get":
        return None, done
    if environ.get(CI_VARIABLE) and not (profile or environ.get("SFCRED_PROFILE")):
        return None, done  # CI mode: its profile comes from the environment (full path)
    from sfcred import fsread
    from sfcred.helper import choice, formats, protocol
    from sfcred.tokens import cache

    try:
        request = protocol.parse(request_text)
        chosen = choice.choose(request, profile, environ.get("SFCRED_PROFILE"),
                               _load_index)
    except SfcredError:
        return None, done  # the full path says what is wrong (or, under git, says nothing)
    done.request, done.choice = request, chosen
    if say is not None:
        say(f"profile {chosen.name}: {chosen.why}")
    folder = cache.runtime_dir()
    if folder is None or fsread.folder_problem(folder) is not None:
        return None, done  # sealed on disk (needs the keyring), or a folder to warn about
    tokens = cache.TokenCache(folder)
    entry = done.entry = tokens.read(chosen.name)  # the full path's own reader
    done.read = True
    if say is not None:
        from sfcred.salesforce.trace import cache_state

        say(f"cache: {cache_state(entry, clock())} ({folder})")
    # A copy of the fleet's token due for its re-check is not FRESH here: the full path asks
    # the store whether the fleet still has it.
    if not _fresh(entry, clock()):
        # A failure remembered within its window answers before any wait, and after one (the
        # holder waited for failed): never a request of our own (tokens.memory).
        served = recalled(folder, chosen.name, entry, recall, clock) if recall else None
        if served is None:
            entry = done.entry = after_holder(tokens, chosen.name, environ, done)
            served = recalled(folder, chosen.name, entry, recall, clock) if recall else None
        if served is not None:
            entry = served
        elif not _fresh(entry, clock()):
            return None, done
    try:
        text = formats.render(entry, fmt, request.capabilities, chosen.protocol, chosen.host)
    except SfcredError:
        return None, done
    return text, done


def _fresh(entry: Entry | None, now: float) -> TypeGuard[Entry]:
    """FRESH, and (a copy of the fleet's token) not due for its re-check against the store."""
    from sfcred.tokens.entry import State  # loaded already: the entry came from there

    return entry is not None and entry.state(now) == State.FRESH and not entry.due(now)


def _load_index() -> Index:
    # Imported only when the choice needs the index (a host to route, a default to find):
    # `get -p NAME` with no host never loads it.
    from sfcred.profiles.index import index_file

    return index_file().load()


def recalled(folder: str, name: str, entry: Entry | None, note: Callable[[str], None],
             clock: Callable[[], float]) -> Entry | None:
    """A failure of ``name`` remembered within its window: ``entry`` if it is STALE (served,
    with a note to ``note``), else the remembered error raised. None: nothing remembered."""
    from sfcred.tokens.memory import Memory

    found = Memory(folder).read(name)
    now = clock()
    if found is None or not found.active(now):
        return None
    return found.answer(name, entry, note, now)  # as it was the first time, and at once


def after_holder(tokens: TokenCache, name: str, environ: Mapping[str, str],
                 done: Pass) -> Entry | None:
    """The token another process is minting (``done.waited``: the seconds waited for it).

    A held lock means a mint in progress (the full path holds it from its re-read until the
    token is cached): wait for it, at most as long as the full path would, and read again. So
    the losers of a stampede import no more than a warm get does, instead of the whole mint
    path (30-45 ms each here). A free lock means nobody is minting: it is taken and kept in
    ``done.lock`` for this process's full path, which mints; the entry read before is kept.
    A lock that cannot be used is the full path's to report."""
    from sfcred import deadline
    from sfcred.errors import ConfigError
    from sfcred.fleet.index import fleet_mode

    lock = tokens.lock(name)
    try:
        if lock.hold():
            done.lock = lock
            return done.entry
    except (ConfigError, OSError):
        return done.entry
    wait = deadline.lock_wait(deadline.lease_seconds() if fleet_mode(environ) else None)
    started = time.monotonic()
    try:
        with tokens.lock(name, timeout=wait):
            entry = tokens.read(name)
    except (ConfigError, OSError):  # LockTimeout included: the full path serves or says why
        entry = done.entry
    done.waited = time.monotonic() - started
    return entry
