"""--help, walked over the whole grammar: every option and positional says what it is and its
default, every command's help ends with an example, the top level lists the environment
variables and the docs, and every usage error carries one ``sfcred:`` prefix.

The walk reads the grammar itself (``argspec.commands``), so an option or command added later
is checked without touching this file.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

import sfcred
from sfcred.argspec import PROG, commands, parser
from sfcred.cli import main
from sfcred.errors import SfcredError
from sfcred.usage import helptext

COMMANDS = [(path, p) for path, p in commands(parser())]
IDS = [" ".join(path) or "sfcred" for path, _ in COMMANDS]


def _shown(p: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in p._actions
            if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)]


def _help_of(p: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help text as --help prints it (defaults filled in), on one line."""
    formatter = p._get_formatter()
    return " ".join(formatter._expand_help(action).split()) if action.help else ""


def test_the_walk_sees_every_command() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "profile", "profile add", "get", "exec", "rotate", "completion"} <= names
    assert len(names) == len(COMMANDS) > 15


@pytest.mark.parametrize(("path", "p"), COMMANDS, ids=IDS)
def test_every_option_and_positional_has_help(path: tuple[str, ...],
                                              p: argparse.ArgumentParser) -> None:
    missing = [a.option_strings or a.dest for a in _shown(p) if not _help_of(p, a)]
    assert missing == [], f"sfcred {' '.join(path)}: give these help= in argspec"


@pytest.mark.parametrize(("path", "p"), COMMANDS, ids=IDS)
def test_every_default_is_shown(path: tuple[str, ...], p: argparse.ArgumentParser) -> None:
    """A value the command uses when the option is not given is in its help; flags (False)
    and options without a default (None) have nothing to show."""
    hidden = [a.option_strings or a.dest for a in _shown(p)
              if a.default not in (None, False, [], argparse.SUPPRESS)
              and "default" not in _help_of(p, a)]
    assert hidden == [], f"sfcred {' '.join(path)}: these defaults are not in --help"


def test_a_default_is_shown_with_its_value() -> None:
    add = dict(COMMANDS)[("profile", "add")]
    ttl = next(a for a in add._actions if "--token-ttl" in a.option_strings)
    assert _help_of(add, ttl).endswith("(default: 900)")


@pytest.mark.parametrize(("path", "p"), COMMANDS, ids=IDS)
def test_every_command_help_ends_with_an_example(path: tuple[str, ...],
                                                 p: argparse.ArgumentParser) -> None:
    text = p.format_help()
    found = re.search(r"^examples?:\n(  \S.*?)(\n\n|$)", text, re.M | re.S)
    assert found, f"sfcred {' '.join(path)}: add its example to helptext.EXAMPLES"
    example = found.group(1)
    words = path[-1:] or ("sfcred",)
    assert words[0] in example, "the example shows the command it is the help of"


def test_examples_keep_their_lines() -> None:
    """The epilog is printed as written (RawDescriptionHelpFormatter), not refilled."""
    text = dict(COMMANDS)[("rotate",)].format_help()
    assert "\n  sfcred rotate prod --activate\n" in text


def _example_commands(text: str) -> list[list[str]]:
    """The sfcred command lines of an example: continuation lines joined, from ``sfcred`` up
    to a pipe, a redirection or a comment."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        start = re.search(r"(?:^|\s)(sfcred .*)", line)
        if start is None:
            continue
        words = shlex.split(start.group(1), comments=True)
        ends = ("|", ">", "<", ">>", "&", "&&", ";")
        cut = next((i for i, w in enumerate(words) if w in ends), len(words))
        found.append(words[1:cut])
    return found


@pytest.mark.parametrize(("path", "p"), COMMANDS, ids=IDS)
def test_the_examples_are_command_lines_the_grammar_takes(path: tuple[str, ...],
                                                         p: argparse.ArgumentParser) -> None:
    lines = _example_commands(helptext.EXAMPLES[" ".join(path)])
    assert lines, "an example runs sfcred"
    for argv in lines:
        try:
            parser().parse_args(argv)
        except (SfcredError, SystemExit) as e:
            raise AssertionError(f"example 'sfcred {shlex.join(argv)}': {e}") from None


def test_the_top_level_lists_the_environment_and_the_docs(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, _ in helptext.ENVIRONMENT:
        assert f"\n  {name} " in out
    assert "environment variables:" in out
    assert "documentation, in the sfcred source:\n  docs/index.md " in out


def _read_variables() -> set[str]:
    """Every SFCRED_ name in the package's code (this help module aside)."""
    found: set[str] = set()
    for path in Path(sfcred.__file__).parent.rglob("*.py"):
        if path.name != "helptext.py":
            found |= set(re.findall(r"\bSFCRED_[A-Z_]*", path.read_text(encoding="utf-8")))
    return found


def test_the_listed_variables_are_the_ones_sfcred_reads() -> None:
    listed = {n for row, _ in helptext.ENVIRONMENT for n in row.split(", ")
              if n.startswith("SFCRED_")}
    read = _read_variables() - helptext.INTERNAL
    assert listed - read == set(), "listed in --help but read nowhere"
    assert read - listed == set(), "read but not in --help: add to helptext.ENVIRONMENT"


def _words(path: tuple[str, ...], p: argparse.ArgumentParser) -> list[list[str]]:
    """Command lines that each end in a usage error of ``path``'s parser."""
    lines = [[*path, "--no-such-option"]]
    for a in _shown(p):
        if a.option_strings and a.nargs != 0 and a.nargs != "?":
            lines.append([*path, a.option_strings[-1]])  # the value is missing
        if a.choices and not isinstance(a, argparse._SubParsersAction):
            bad = "no-such-choice"
            lines.append([*path, *(a.option_strings[-1:]), bad])
    return lines


@pytest.mark.parametrize(("path", "p"), COMMANDS, ids=IDS)
def test_usage_errors_have_one_prefix(path: tuple[str, ...], p: argparse.ArgumentParser,
                                      capsys) -> None:
    for argv in _words(path, p):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("sfcred: "), (argv, err)
        assert not err.startswith("sfcred: sfcred"), (argv, err)
        assert f" {PROG} {' '.join(path)}".rstrip() + ":" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, (argv, err)


def test_profile_without_an_action_names_every_action(capsys) -> None:
    actions = {path[1] for path, _ in COMMANDS if len(path) == 2 and path[0] == "profile"}
    assert {"add", "set", "import-sf", "import-keyring"} <= actions
    assert main(["profile"]) == 2
    err = capsys.readouterr().err
    assert all(a in err for a in actions), err
