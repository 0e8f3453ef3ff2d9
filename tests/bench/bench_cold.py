"""Whole-process timing of a cold ``sfcred get`` (erase, then get: keyring read + mint) and of
a warm one, with the real Secret Service and the local stand-in.

Run it inside a throwaway Secret Service, e.g.:

    dbus-run-session -- bash -c 'export XDG_DATA_HOME=$(mktemp -d);
      eval "$(printf %s x | gnome-keyring-daemon --unlock --components=secrets)"; sleep 1;
      .venv/bin/python tests/bench/bench_cold.py'

Uses the keyring service ``sfcred-bench-cold`` and removes what it made.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sfcred.testing.server import FakeSalesforce


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    here = str(Path(sys.executable).parent)
    parser.add_argument("--sfcred", default=shutil.which("sfcred", path=here))
    args = parser.parse_args()
    sfcred = args.sfcred
    with tempfile.TemporaryDirectory(prefix="sfcred-cold-") as tmp:
        for sub in ("home", "config", "runtime"):
            Path(tmp, sub).mkdir(mode=0o700)
        env = dict(os.environ, HOME=f"{tmp}/home", XDG_CONFIG_HOME=f"{tmp}/config",
                   XDG_RUNTIME_DIR=f"{tmp}/runtime", SFCRED_KEYRING_SERVICE="sfcred-bench-cold",
                   PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring")

        def run(*argv: str) -> None:
            subprocess.run([sfcred, *argv], env=env, check=True, capture_output=True,
                           stdin=subprocess.DEVNULL)

        def timed(*argv: str) -> float:
            start = time.perf_counter()
            run(*argv)
            return (time.perf_counter() - start) * 1000

        with FakeSalesforce() as sf:
            run("profile", "add", "cold", "--client-id", "bench-cold", "--username", "b@x.com",
                "--login-url", sf.url, "--audience", "https://login.salesforce.com",
                "--generate-key", "--cert-out", f"{tmp}/cold.crt")
            try:
                sf.add_app("bench-cold", Path(tmp, "cold.crt").read_text(encoding="ascii"))
                sf.add_user("b@x.com")
                sf.preauthorize("bench-cold", "b@x.com")
                cold = []
                for _ in range(args.runs + 3):
                    run("erase", "-p", "cold")
                    cold.append(timed("get", "-p", "cold"))
                warm = [timed("get", "-p", "cold") for _ in range(args.runs + 3)]
                requests = sf.token_requests
            finally:
                run("profile", "remove", "cold")
    print(f"median of {args.runs} runs after 3 warm-up runs; {requests} token requests")
    print(f"  cold sfcred get (keyring + mint)  {statistics.median(cold[3:]):7.1f} ms")
    print(f"  warm sfcred get (FRESH cache)     {statistics.median(warm[3:]):7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
