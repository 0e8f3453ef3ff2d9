"""The release as a user gets it: ``python -m build`` makes the sdist and the wheel, both pass
``twine check --strict``, and the sdist carries its own tests: installed with its ``test``
extra into a fresh venv, its unit suite passes when run from the unpacked sdist.

Slow (a few minutes: two builds, a venv, the unit suite): pip's downloads come from the
runner's own pip cache when it has one.
"""

from __future__ import annotations

import faulthandler
import os
import pwd
import re
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

import sfcred

ROOT = Path(__file__).resolve().parents[1]
# What a copy of the checkout leaves out: VCS data, build output, caches, local tools.
IGNORED = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".venv",
                                 "site", ".hypothesis", ".pytest_cache", ".mypy_cache",
                                 ".ruff_cache", ".coverage", ".coverage.*", "tools")
# The sdist's own test suite needs these, beside the package.
NEEDED = ["tests/conftest.py", "tests/_support.py", "tests/_e2e.py", "tests/mypy.ini",
          "completions/sfcred.bash", "completions/_sfcred", "completions/sfcred.fish",
          "docs/development.md", "mkdocs.yml", "LICENSE", "CHANGELOG.md", "README.md",
          "pyproject.toml"]


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{argv[:4]} exit {done.returncode}:\n{out[-6000:]}"
    return out


def child_env() -> dict[str, str]:
    """This test's (isolated) environment, without coverage's start-up hooks (the child venv
    is not the measured install) and with the runner's own pip cache, if it has one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONSAFEPATH="1")
    cache = Path(pwd.getpwuid(os.getuid()).pw_dir, ".cache", "pip")
    if cache.is_dir():
        env["PIP_CACHE_DIR"] = str(cache)
    return env


@pytest.mark.slow
def test_the_sdist_and_wheel_build_check_and_the_sdists_tests_pass(tmp_path: Path) -> None:
    # Minutes by design: pytest's faulthandler_timeout would dump every thread's stack
    # midway. Each step has its own timeout instead.
    faulthandler.cancel_dump_traceback_later()
    env = child_env()
    # Built from a clean copy, so nothing local (a stale egg-info, build/) can leak in.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], env, tmp_path, 600)
    version = sfcred.__version__
    sdist = dist / f"sfcred-{version}.tar.gz"
    wheel = dist / f"sfcred-{version}-py3-none-any.whl"
    built = sorted(p.name for p in dist.iterdir())
    assert built == sorted([sdist.name, wheel.name]), built

    out = run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
              env, tmp_path, 120)
    assert out.count("PASSED") == 2, out

    # The install instructions and the CI examples name the wheel this build makes.
    for doc in (ROOT / "README.md", ROOT / "docs" / "ci-and-servers.md"):
        assert wheel.name in doc.read_text(encoding="utf-8"), doc

    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
        top = f"sfcred-{version}"
        missing = [n for n in NEEDED if f"{top}/{n}" not in names]
        assert not missing, missing
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        tar.extractall(tmp_path / "unpacked", filter="data")
    unpacked = tmp_path / "unpacked" / top

    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(fresh)
    python = str(fresh / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", "pip>=25.2"], env, tmp_path, 300)
    run([python, "-m", "pip", "install", "-q", f"{sdist}[test]"], env, tmp_path, 900)
    where = run([python, "-c", "import sfcred; print(sfcred.__file__, sfcred.__version__)"],
                env, unpacked, 60).split()
    assert where[0].startswith(str(fresh)), where  # the installed copy, not the unpacked one
    assert where[1] == version

    out = run([python, "-m", "pytest", "-m", "unit", "-q", "-p", "no:cacheprovider"],
              env, unpacked, 1500)
    summary = re.search(r"(\d+) passed", out)
    assert summary, out[-3000:]
    assert int(summary.group(1)) >= 500, out[-3000:]
    assert " failed" not in out.splitlines()[-1], out[-3000:]
