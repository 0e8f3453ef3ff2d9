"""Shell completion: the shipped files match the command's output, and bash completes names.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_completion_e2e.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sfcred.commands.scripts import script

ROOT = Path(__file__).resolve().parent.parent
FILES = {"bash": "sfcred.bash", "zsh": "_sfcred", "fish": "sfcred.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_shipped_completion_files_are_current(shell: str) -> None:
    shipped = ROOT / "completions" / FILES[shell]
    assert shipped.read_text() == script(shell), f"regenerate: sfcred completion {shell}"
