"""Shell completion: the shipped files match the command's output, and bash completes names.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_completion.py).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from _support import require

from sfcred.commands.scripts import script

ROOT = Path(__file__).resolve().parent.parent
FILES = {"bash": "sfcred.bash", "zsh": "_sfcred", "fish": "sfcred.fish"}


def test_bash_completes_commands_and_profile_names(run_sfcred, sfcred_env, tmp_path) -> None:
    for name in ("alpha", "beta"):
        done = run_sfcred("profile", "add", name, "--client-id", "c", "--username", f"{name}@x",
                          "--generate-key")
        assert done.returncode == 0, done.stderr
    probe = tmp_path / "probe.sh"
    probe.write_text(script("bash") + """
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _sfcred;
                   printf '%s\\n' "${COMPREPLY[@]}"; }
echo "--"; complete_words sfcred ro
echo "--"; complete_words sfcred get -p ""
echo "--"; complete_words sfcred profile s
""")
    out = subprocess.run([shutil.which("bash") or "bash", str(probe)], env=sfcred_env,
                         capture_output=True, text=True, check=True).stdout
    _, commands, names, actions = out.split("--\n")
    assert commands.split() == ["rotate"]
    assert names.split() == ["alpha", "beta"]
    assert actions.split() == ["show"]


def _shell(name: str) -> str:
    found = shutil.which(name) or ""
    require(found, f"{name} is not installed", ".ci/test.sh installs it")
    return found


@pytest.fixture
def two_profiles(run_sfcred) -> None:
    for name in ("alpha", "beta"):
        done = run_sfcred("profile", "add", name, "--client-id", "c", "--username", f"{name}@x",
                          "--generate-key")
        assert done.returncode == 0, done.stderr


def test_zsh_completes_commands_and_profile_names(two_profiles, sfcred_env, tmp_path) -> None:
    """The real zsh runs the shipped function; compadd and compdef, which exist only inside
    zsh's completion system, are replaced by functions that print what they are given."""
    zsh = _shell("zsh")
    probe = tmp_path / "probe.zsh"
    probe.write_text("""
compdef() { : }
_files() { print -- "<files>" }
compadd() {
    if [[ $1 == -a ]]; then print -l -- ${(P)2}; return; fi
    [[ $1 == -- ]] && shift
    print -l -- "$@"
}
""" + script("zsh") + """
complete_words() { words=("$@"); CURRENT=${#words}; _sfcred | grep -- "^${words[-1]}" }
print -- "--"; complete_words sfcred ro
print -- "--"; complete_words sfcred get -p ""
print -- "--"; complete_words sfcred profile i
print -- "--"; complete_words sfcred get --format j
""")
    out = subprocess.run([zsh, "-f", str(probe)], env=sfcred_env, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    _, commands, names, actions, formats = out.split("--\n")
    assert commands.split() == ["rotate"]
    assert names.split() == ["alpha", "beta"]
    assert actions.split() == ["import-sf", "import-keyring"]
    assert formats.split() == ["json"]


def test_fish_completes_commands_and_profile_names(two_profiles, sfcred_env, tmp_path) -> None:
    """fish's own completion engine (`complete -C`) on the shipped file."""
    fish = _shell("fish")
    shipped = ROOT / "completions" / FILES["fish"]
    env = dict(sfcred_env)  # fish keeps its own state under the test's XDG folders

    def complete(line: str) -> list[str]:
        command = f"source {shipped}; complete -C '{line}'"
        done = subprocess.run([fish, "--no-config", "-c", command], env=env,
                              capture_output=True, text=True, check=True, timeout=60)
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert complete("sfcred ro") == ["rotate"]
    assert complete("sfcred get -p ") == ["alpha", "beta"]
    assert sorted(complete("sfcred profile imp")) == ["import-keyring", "import-sf"]
    assert complete("sfcred doctor ") == ["alpha", "beta"]
