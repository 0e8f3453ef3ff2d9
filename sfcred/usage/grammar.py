"""The grammar as completion sees it: each command path with its subcommands, options and
positional slots, and what a value may be, read from the argparse parsers themselves.

What a value completes to follows what ``--help`` shows: choices complete to the choices; a
metavar ``PROFILE`` to the profile names (``sfcred profile list --names``, which reads only
the index); a metavar ending in ``PATH`` or ``FILE`` to files, in ``DIR`` to folders; the
command of ``exec`` (argparse.REMAINDER) to a command name, then files. Anything else is free
text, for which no candidates are offered. Options hidden from help are not completed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from sfcred.argspec import commands, parser

FILES, DIRS, PROFILES = "files", "dirs", "profiles"
WORDS, COMMAND, TEXT = "words", "command", "text"


@dataclass(frozen=True)
class Value:
    kind: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    value: Value | None  # None: a flag, which takes no value
    help: str


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    subcommands: tuple[tuple[str, str], ...]  # (name, help)
    options: tuple[Option, ...]
    slots: tuple[Value, ...]  # the positional arguments, in order
    more: Value | None  # what any further positional is (nargs * + or REMAINDER), else None

    @property
    def key(self) -> str:
        return " ".join(self.path)

    @property
    def valued(self) -> tuple[str, ...]:
        """Every flag that takes a value (the word after it is that value)."""
        return tuple(f for o in self.options if o.value is not None for f in o.flags)


def value_of(action: argparse.Action) -> Value:
    if action.choices is not None:
        return Value(WORDS, tuple(str(c) for c in action.choices))
    if action.nargs == argparse.REMAINDER:
        return Value(COMMAND)
    meta = action.metavar if isinstance(action.metavar, str) else action.dest
    meta = meta.upper().replace("-", "_")
    if meta == "PROFILE":
        return Value(PROFILES)
    if meta.endswith(("PATH", "FILE")):
        return Value(FILES)
    if meta.endswith("DIR"):
        return Value(DIRS)
    return Value(TEXT)


def _command(path: tuple[str, ...], p: argparse.ArgumentParser) -> Command:
    subs: list[tuple[str, str]] = []
    options: list[Option] = []
    slots: list[Value] = []
    more: Value | None = None
    for action in p._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            subs += [(name, helps.get(name, "")) for name in action.choices]
        elif action.option_strings:
            value = None if action.nargs == 0 else value_of(action)
            options.append(Option(tuple(action.option_strings), value, action.help or ""))
        elif action.nargs == argparse.REMAINDER:
            slots.append(Value(COMMAND))
            more = Value(FILES)
        else:
            slots.append(value_of(action))
            if action.nargs in ("*", "+"):
                more = value_of(action)
    return Command(path, tuple(subs), tuple(options), tuple(slots), more)


def grammar(p: argparse.ArgumentParser | None = None) -> list[Command]:
    """Every command path of the grammar (the top level first)."""
    return [_command(path, sub) for path, sub in commands(p or parser())]
