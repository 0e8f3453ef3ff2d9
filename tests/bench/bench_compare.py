"""Two installs of sfcred side by side: a warm ``get``, interleaved run by run.

    python tests/bench/bench_compare.py OLD_VENV NEW_VENV [--runs 200]

Each venv needs sfcred installed with ``pip install .`` (not editable) and its checkout's
``tests/bench/bench_get.py`` next to nothing in particular: the profile and its FRESH token
are made by each venv's own Python (``bench_get.prepare``, run from that install), in its own
temporary HOME. Then the timed commands alternate (old, new, ``python -c pass``) so that a
noisy machine slows all three alike; the report is the median of each and its ratio to
``python -c pass``. Use it to show that a change made the warm path no slower.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_get import interleaved  # this folder is on sys.path when the script runs

PREPARE = """
import io, sys
from contextlib import redirect_stderr, redirect_stdout
from sfcred.cli import main
from sfcred.testing.server import FakeSalesforce
sf = FakeSalesforce().start()
try:
    with redirect_stderr(io.StringIO()):
        assert main(["profile", "add", "bench", "--client-id", "bench-app", "--username",
                     "bench@example.com", "--login-url", sf.url, "--audience",
                     "https://login.salesforce.com", "--generate-key"]) == 0
    try:
        from sfcred.profiles import manage
    except ImportError:  # an install from before the package layout
        from sfcred import manage
    from sfcred.app import keystore
    sf.add_app("bench-app", manage.cert("bench", keystore()))
    sf.add_user("bench@example.com")
    sf.preauthorize("bench-app", "bench@example.com")
    with redirect_stdout(io.StringIO()):
        assert main(["get", "-p", "bench"], stdin=io.StringIO("")) == 0
    print(sf.url.split("://", 1)[1])
finally:
    sf.stop()
"""


def setup(venv: Path, root: Path) -> tuple[dict[str, str], str]:
    for sub in ("home", "config", "cache", "runtime"):
        (root / sub).mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFCRED_")}
    env.update(HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "config"),
               XDG_CACHE_HOME=str(root / "cache"), XDG_RUNTIME_DIR=str(root / "runtime"),
               SFCRED_KEYRING_SERVICE="sfcred-bench",
               PYTHON_KEYRING_BACKEND="sfcred.testing.keyrings.MemoryKeyring")
    done = subprocess.run([str(venv / "bin" / "python"), "-c", PREPARE], env=env, cwd=root,
                          capture_output=True, text=True, check=True)
    return env, done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sfcred-compare-") as tmp:
        envs = {}
        for label, venv in (("old", args.old), ("new", args.new)):
            root = Path(tmp, label)
            root.mkdir()
            envs[label] = (venv, *setup(venv, root))
        cases = {
            "get -p bench": (["get", "-p", "bench"], lambda host: b""),
            "host= routed get": (["get"], lambda host: f"protocol=http\nhost={host}\n\n".encode()),
        }
        for title, (argv, stdin_of) in cases.items():
            interleaved(title, {label: ([str(venv / "bin" / "sfcred"), *argv], env,
                                        stdin_of(host))
                                for label, (venv, env, host) in envs.items()},
                        args.runs, envs["old"][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
