"""Shell completion, in process: the shipped files are the generator's output, the generator
sees every option of the grammar, and a value completes to what its option expects.

The real shells run the scripts in test_completion_e2e.py.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from sfcred.argspec import commands, parser
from sfcred.commands.completion import SHELLS, script
from sfcred.usage.grammar import DIRS, FILES, PROFILES, TEXT, WORDS, grammar, value_of

ROOT = Path(__file__).resolve().parent.parent
FILES_SHIPPED = {"bash": "sfcred.bash", "zsh": "_sfcred", "fish": "sfcred.fish"}
PATH_WORDS = ("file", "out", "dir", "path")
NEW_NAMES = {("profile", "add")}  # where a positional NAME is a new profile's


@pytest.mark.parametrize("shell", SHELLS)
def test_shipped_completion_files_are_current(shell: str) -> None:
    shipped = ROOT / "completions" / FILES_SHIPPED[shell]
    assert shipped.read_text() == script(shell), (
        f"regenerate: sfcred completion {shell} > completions/{FILES_SHIPPED[shell]}")


def _options(p: argparse.ArgumentParser) -> set[str]:
    return {f for a in p._actions if a.help != argparse.SUPPRESS for f in a.option_strings}


def test_the_model_has_every_command_and_option_of_the_grammar() -> None:
    model = {c.path: c for c in grammar()}
    walked = dict(commands(parser()))
    assert set(model) == set(walked)
    for path, p in walked.items():
        assert {f for o in model[path].options for f in o.flags} == _options(p), path


def test_hidden_options_are_not_completed() -> None:
    authorize = next(c for c in grammar() if c.path == ("authorize",))
    assert "--timeout" not in {f for o in authorize.options for f in o.flags}
    assert "--timeout" in _options_all(dict(commands(parser()))[("authorize",)])


def _options_all(p: argparse.ArgumentParser) -> set[str]:
    return {f for a in p._actions for f in a.option_strings}


@pytest.mark.parametrize("shell", SHELLS)
def test_every_option_of_every_command_is_in_each_script(shell: str) -> None:
    text = script(shell)
    for c in grammar():
        for o in c.options:
            for flag in o.flags:
                word = f"-l {flag[2:]}" if shell == "fish" and flag.startswith("--") else (
                    f"-s {flag[1:]}" if shell == "fish" else flag)
                assert word in text, (shell, c.key, flag)


def _actions() -> list[tuple[tuple[str, ...], argparse.Action]]:
    return [(path, a) for path, p in commands(parser()) for a in p._actions
            if a.help != argparse.SUPPRESS and a.nargs != 0
            and not isinstance(a, argparse._SubParsersAction)]


def test_a_path_option_completes_to_files() -> None:
    """An option named for a file or folder (--key-file, --cert-out, --sf-dir, and any added
    later) takes a PATH / FILE / DIR metavar, which is what makes it complete to paths."""
    named = [(path, a) for path, a in _actions()
             if any(re.search(rf"-{w}\b", f) for f in a.option_strings for w in PATH_WORDS)]
    assert len(named) >= 4
    wrong = [(path, a.option_strings) for path, a in named
             if value_of(a).kind not in (FILES, DIRS)]
    assert wrong == [], "give these metavar='PATH' (or FILE / DIR) in argspec"


def test_a_profile_option_or_positional_completes_to_profile_names() -> None:
    profile_opts = [(path, a) for path, a in _actions()
                    if any(f.endswith("profile") for f in a.option_strings)]
    assert len(profile_opts) >= 5
    assert [(p, a.option_strings) for p, a in profile_opts if value_of(a).kind != PROFILES] == []
    kinds = {path: value_of(a).kind for path, a in _actions() if not a.option_strings}
    for path in (("cert",), ("rotate",), ("doctor",), ("authorize",), ("profile", "show"),
                 ("profile", "remove"), ("profile", "default")):
        assert kinds[path] == PROFILES, path
    assert kinds[("profile", "add")] == TEXT  # a new name: nothing to offer
    named = [path for path, a in _actions()
             if not a.option_strings and a.dest == "name" and path not in NEW_NAMES]
    wrong = [path for path in named if kinds[path] != PROFILES]
    assert wrong == [], "a positional NAME that names an existing profile: metavar='PROFILE'"


def test_choices_complete_to_the_choices() -> None:
    by_flag = {(path, a.option_strings[-1]): value_of(a) for path, a in _actions()
               if a.option_strings}
    assert by_flag[(("get",), "--format")].kind == WORDS
    assert set(by_flag[(("get",), "--format")].words) == {"git", "token", "json", "env"}
    assert by_flag[(("rotate",), "--key-size")].words == ("2048", "3072", "4096")


def test_exec_completes_a_command_then_files() -> None:
    ex = next(c for c in grammar() if c.path == ("exec",))
    assert [s.kind for s in ex.slots] == ["command"]
    assert ex.more is not None
    assert ex.more.kind == FILES


def test_the_scripts_ask_only_the_index_for_profile_names() -> None:
    for shell in SHELLS:
        calls = re.findall(r"(?:\$\(|^\s+)sfcred ([a-z][^)\n]*?) 2>/dev/null", script(shell),
                           re.M)
        assert set(calls) == {"profile list --names"}, (shell, calls)
