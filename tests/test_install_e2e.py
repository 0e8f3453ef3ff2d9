"""sfcred's console wrappers are its own under any installer: the pip Python ships (23.x on
3.11, whose generated wrapper imported ``re``, 1.6x a cached get's start-up) writes them as
they are in ``sfcred/bin``, with only the interpreter line changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sfcred

CHECKOUT = Path(__file__).resolve().parents[1]


def _body(text: str) -> str:
    first, _, rest = text.partition("\n")
    assert first.startswith("#!")
    return rest


@pytest.mark.slow  # builds a wheel and a venv
def test_the_pip_python_ships_installs_sfcreds_own_wrappers(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path / "dist"), str(CHECKOUT)], check=True, timeout=300,
                   capture_output=True)
    wheel = next((tmp_path / "dist").glob("sfcred-*.whl"))
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "--version"], capture_output=True,
                         text=True, check=True).stdout
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(wheel)],
                   check=True, timeout=300, capture_output=True)
    ours = Path(sfcred.__file__).parent / "bin"
    for name in ("sfcred", "git-credential-sfcred"):
        installed = (venv / "bin" / name).read_text(encoding="utf-8")
        assert installed.startswith(f"#!{venv}/bin/python"), (pip, installed[:80])
        assert _body(installed) == _body((ours / name).read_text(encoding="utf-8")), pip
        assert "import re" not in installed


def test_the_test_venvs_wrappers_are_sfcreds_own(sfcred_bin: list[str]) -> None:
    ours = Path(sfcred.__file__).parent / "bin"
    assert Path(sfcred_bin[0]).name == "sfcred"
    for name in ("sfcred", "git-credential-sfcred"):
        installed = Path(sfcred_bin[0]).with_name(name).read_text(encoding="utf-8")
        assert _body(installed) == _body((ours / name).read_text(encoding="utf-8"))
