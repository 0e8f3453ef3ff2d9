"""Shell completion: the shipped files match the command's output, and bash completes names."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sfcred.completion import script

ROOT = Path(__file__).resolve().parent.parent
FILES = {"bash": "sfcred.bash", "zsh": "_sfcred", "fish": "sfcred.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_shipped_completion_files_are_current(shell: str) -> None:
    shipped = ROOT / "completions" / FILES[shell]
    assert shipped.read_text() == script(shell), f"regenerate: sfcred completion {shell}"


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
