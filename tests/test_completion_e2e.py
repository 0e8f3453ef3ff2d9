"""Shell completion in the real shells, compared with the grammar.

The script is what the installed ``sfcred completion SHELL`` prints. Each shell is asked what
it offers, and the answer is compared with the argparse grammar itself (``argspec``): for every
command, ``-`` offers exactly the parser's options; a command with subcommands offers them;
after each option that takes a value, the value's candidates (files where a path is expected,
profile names where a profile is, the choices, nothing for free text); and each positional
slot likewise. Profile names come from two profiles the test adds.

How each shell is asked: bash runs the completion function with COMP_WORDS set as readline
would; zsh runs its real completion system (compinit, the script autoloaded from $fpath on the
first Tab) in a pseudo-terminal, a fresh shell for every line; fish answers ``complete -C``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from _support import require

from sfcred.argspec import commands, parser
from sfcred.usage.grammar import COMMAND, DIRS, FILES, PROFILES, TEXT, WORDS, value_of

PROFILE_NAMES = {"alpha", "beta"}
CWD_ENTRIES = {"a.pem", "b.crt", "sub"}  # what the folder the shells run in holds


def _shell(name: str) -> str:
    found = shutil.which(name) or ""
    require(found, f"{name} is not installed", ".ci/test.sh installs it")
    return found


def _expected(kind: str, words: tuple[str, ...]) -> set[str] | None:
    """The candidates for a value of this kind; None: only checked to hold a command."""
    return {FILES: CWD_ENTRIES, DIRS: {"sub"}, PROFILES: PROFILE_NAMES, WORDS: set(words),
            TEXT: set()}.get(kind)


def cases() -> list[tuple[str, set[str] | None]]:
    """(command line before the cursor, the candidates the grammar expects)."""
    out: list[tuple[str, set[str] | None]] = []
    for path, p in commands(parser()):
        line = " ".join(["sfcred", *path])
        shown = [a for a in p._actions if a.help != argparse.SUPPRESS]
        out.append((f"{line} -", {f for a in shown for f in a.option_strings}))
        subs = [a for a in shown if isinstance(a, argparse._SubParsersAction)]
        for group in subs:
            out.append((f"{line} ", set(group.choices)))
        for a in shown:
            if a.option_strings and a.nargs != 0:
                value = value_of(a)
                for flag in a.option_strings:
                    out.append((f"{line} {flag} ", _expected(value.kind, value.words)))
        positionals = [a for a in shown if not a.option_strings and not subs]
        if positionals:
            value = value_of(positionals[0])
            if value.kind == COMMAND:
                out.append((f"{line} -- l", None))
            else:
                out.append((f"{line} ", _expected(value.kind, value.words)))
    return out


def _normal(candidate: str) -> str:
    return candidate.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def world(run_sfcred, tmp_path: Path) -> Path:
    """Two profiles in the index, and a folder with two files and a subfolder to run in."""
    for name in sorted(PROFILE_NAMES):
        done = run_sfcred("profile", "add", name, "--client-id", "c", "--username",
                          f"{name}@x", "--generate-key")
        assert done.returncode == 0, done.stderr
    folder = tmp_path / "cwd"
    (folder / "sub").mkdir(parents=True)
    for name in CWD_ENTRIES - {"sub"}:
        (folder / name).write_text("x")
    return folder


def _script(run_sfcred, shell: str, where: Path) -> Path:
    done = run_sfcred("completion", shell)
    assert done.returncode == 0, done.stderr
    where.mkdir(exist_ok=True)
    path = where / {"bash": "sfcred.bash", "zsh": "_sfcred", "fish": "sfcred.fish"}[shell]
    path.write_text(done.stdout)
    return path


def _compare(answers: dict[str, list[str]]) -> list[str]:
    wrong = []
    for line, expected in cases():
        got = {_normal(c) for c in answers[line] if c}
        # None: exec's command, any command (ls among them)
        ok = "ls" in got if expected is None else got == expected
        if not ok:
            wrong.append(f"{line!r}: offered {sorted(got)}, grammar {sorted(expected or [])}")
    return wrong


def test_bash_offers_what_the_grammar_says(run_sfcred, world: Path, sfcred_env,
                                          tmp_path: Path) -> None:
    lines = [line for line, _ in cases()]
    assert len(lines) == len(set(lines)) > 60  # the cases cover the grammar
    assert {"sfcred profile add --key-file ", "sfcred get -p ", "sfcred rotate -"} <= set(lines)
    script = _script(run_sfcred, "bash", tmp_path / "bash")
    probe = [f"source {shlex.quote(str(script))}",
             'complete -p sfcred >/dev/null || exit 9',
             'ask() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ));'
             ' COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _sfcred;'
             ' printf "%s\\n" "${COMPREPLY[@]}"; printf "\\036\\n"; }']
    probe += ["ask " + " ".join(shlex.quote(w) for w in line.split(" ")) for line in lines]
    # readline splits --format=j at COMP_WORDBREAKS' "=": three words
    probe += ["ask sfcred get --format = j", "ask sfcred get --format = json -p ''"]
    done = subprocess.run([_shell("bash"), "-c", "\n".join(probe)], env=sfcred_env, cwd=world,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("\x1e\n")
    assert len(blocks) == len(lines) + 3
    answers = dict(zip(lines, (b.splitlines() for b in blocks[:-3]), strict=True))
    assert _compare(answers) == []
    assert blocks[-3].split() == ["json"]
    assert set(blocks[-2].split()) == PROFILE_NAMES


ZSH_PROBE = r"""
# zsh -f probe.zsh COMPDIR LINE: what zsh's completion system offers for LINE<Tab>, one per
# line. A fresh interactive zsh in a pty, compinit with COMPDIR on $fpath, one Tab.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "COMPDIR=${(q)1}; source ${(q)0:A:h}/init.zsh"
local line
repeat 50; do
    zpty -r z line
    [[ $line == ok* ]] && break
done
zpty -w z "$2"$'\t'
integer marks=0
while zpty -r z line; do
    if [[ $line == *$'\0'* ]]; then (( marks++ )) && break || continue; fi
    (( marks )) && [[ $line == '<cand>'* ]] && print -r -- ${${line#<cand>}%$'\r'}
done
zpty -d z
"""

ZSH_INIT = r"""
PROMPT=
fpath=($COMPDIR $fpath)
autoload -Uz compinit && compinit -u -d $COMPDIR/.zcompdump
bindkey '^I' complete-word
_probe_mark() { echo -E - $'\0' }
compprefuncs=(_probe_mark)
comppostfuncs=(_probe_mark exit)
# Every candidate offered, as the completion system matched it (-A), printed; then added for
# real, so that the completers see what they added (a fallback such as _files' all-files
# runs only when nothing was).
compadd() {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
    local -a hits
    builtin compadd -A hits "$@"
    local h; for h in $hits; do print -r -- "<cand>$h"; done
    builtin compadd "$@"
}
echo ok
"""


def test_zsh_offers_what_the_grammar_says(run_sfcred, world: Path, sfcred_env,
                                         tmp_path: Path) -> None:
    zsh = _shell("zsh")
    compdir = _script(run_sfcred, "zsh", tmp_path / "zfunc").parent
    (tmp_path / "probe.zsh").write_text(ZSH_PROBE)
    (tmp_path / "init.zsh").write_text(ZSH_INIT)
    answers = {}
    for line, _ in cases():
        done = subprocess.run([zsh, "-f", str(tmp_path / "probe.zsh"), str(compdir), line],
                              env=sfcred_env, cwd=world, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, (line, done.stderr)
        answers[line] = done.stdout.splitlines()
    assert _compare(answers) == []


def test_zsh_completes_on_the_first_tab_and_after_an_equals_sign(
        run_sfcred, world: Path, sfcred_env, tmp_path: Path) -> None:
    zsh = _shell("zsh")
    compdir = _script(run_sfcred, "zsh", tmp_path / "zfunc").parent
    (tmp_path / "probe.zsh").write_text(ZSH_PROBE)
    (tmp_path / "init.zsh").write_text(ZSH_INIT)

    def ask(line: str) -> list[str]:
        return subprocess.run([zsh, "-f", str(tmp_path / "probe.zsh"), str(compdir), line],
                              env=sfcred_env, cwd=world, capture_output=True, text=True,
                              timeout=60, check=True).stdout.split()

    assert ask("sfcred ro") == ["rotate"]  # a fresh shell: the very first Tab
    assert ask("sfcred get --format=j") == ["json"]
    assert sorted(ask("sfcred doctor --offline ")) == sorted(PROFILE_NAMES)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_fish_offers_what_the_grammar_says(run_sfcred, world: Path, sfcred_env,
                                          tmp_path: Path) -> None:
    script = _script(run_sfcred, "fish", tmp_path / "fish")
    lines = [line for line, _ in cases()]
    probe = [f"source {_fish_quote(str(script))}"]
    probe += [f"complete -C {_fish_quote(line)}; printf '\\036\\n'" for line in lines]
    done = subprocess.run([_shell("fish"), "--no-config", "-c", "\n".join(probe)],
                          env=sfcred_env, cwd=world, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("\x1e\n")
    assert len(blocks) == len(lines) + 1
    answers = {line: [row.split("\t")[0] for row in block.splitlines()]
               for line, block in zip(lines, blocks[:-1], strict=True)}
    assert _compare(answers) == []
