"""A warm ``sfcred get`` under every installer, side by side in one run.

    python tests/bench/bench_installers.py [--runs 100]

Builds a wheel of this checkout, installs it four ways into a temporary folder:

- ``pip 23``: a venv made by ``python -m venv`` (the pip Python 3.11 ships, 23.2);
- ``pip >= 25.2``: a venv whose pip was upgraded first;
- ``pipx install``;
- ``uv tool install``;

(pipx and uv are taken from PATH, else installed into a throwaway venv), makes a profile and
a FRESH token in each (``bench_compare.setup``), then times ``sfcred get -p bench`` through
each install's own ``bin/sfcred``, interleaved with ``python -c pass``, and prints the median
of each and its ratio to ``python -c pass``. sfcred ships its own console wrapper
(``sfcred/bin/sfcred``), so every row should be about the same.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_compare import setup  # this folder is on sys.path when the script runs
from bench_get import interleaved

CHECKOUT = Path(__file__).resolve().parents[2]


def run(*argv: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def tool(name: str, tmp: Path) -> Path:
    found = shutil.which(name)
    if found:
        return Path(found)
    tools = tmp / "tools"
    if not tools.exists():
        run(sys.executable, "-m", "venv", tools)
        run(tools / "bin" / "pip", "install", "-q", "pipx", "uv")
    return tools / "bin" / name


def installs(tmp: Path, wheel: Path) -> dict[str, Path]:
    """label -> the venv whose bin/sfcred and bin/python are that install's."""
    out = {}
    pip23 = tmp / "pip23"
    run(sys.executable, "-m", "venv", pip23)
    version = run(pip23 / "bin" / "pip", "--version").split()[1]
    run(pip23 / "bin" / "pip", "install", "-q", wheel)
    out[f"pip {version}"] = pip23
    new = tmp / "pipnew"
    run(sys.executable, "-m", "venv", new)
    run(new / "bin" / "pip", "install", "-q", "--upgrade", "pip>=25.2")
    version = run(new / "bin" / "pip", "--version").split()[1]
    run(new / "bin" / "pip", "install", "-q", wheel)
    out[f"pip {version}"] = new
    env = dict(os.environ, PIPX_HOME=str(tmp / "pipx"), PIPX_BIN_DIR=str(tmp / "pipx-bin"))
    run(tool("pipx", tmp), "install", "--python", sys.executable, wheel, env=env)
    out["pipx"] = tmp / "pipx" / "venvs" / "sfcred"
    env = dict(os.environ, UV_TOOL_DIR=str(tmp / "uv"), UV_TOOL_BIN_DIR=str(tmp / "uv-bin"))
    run(tool("uv", tmp), "tool", "install", "--python", sys.executable, wheel, env=env)
    out["uv tool"] = tmp / "uv" / "sfcred"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sfcred-installers-") as name:
        tmp = Path(name)
        run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist",
            CHECKOUT)
        wheel = next((tmp / "dist").glob("sfcred-*.whl"))
        envs: dict[str, tuple[Path, dict[str, str], str]] = {}
        for label, venv in installs(tmp, wheel).items():
            root = tmp / f"home-{len(envs)}"
            root.mkdir()
            env, host = setup(venv, root)
            # As on a user's machine: uv writes no .pyc at install (pip does), so its first
            # run writes them; with PYTHONDONTWRITEBYTECODE (set on CI machines) every run
            # would compile sfcred again (`uv tool install --compile-bytecode` avoids it).
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            envs[label] = (venv, env, host)
        interleaved("warm get -p bench",
                    {label: ([str(venv / "bin" / "sfcred"), "get", "-p", "bench"], env, b"")
                     for label, (venv, env, _host) in envs.items()},
                    args.runs, next(iter(envs.values()))[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
