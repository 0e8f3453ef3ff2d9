"""Whole-process timings of a warm ``sfcred get`` against baselines measured in the same run.

    python tests/bench/bench_get.py [--runs 40] [--sfcred PATH]

Benchmark a regular ``pip install .`` (not an editable one: with PYTHONDONTWRITEBYTECODE set,
an editable install recompiles every import on every run). The profile and a FRESH cached
token are made in this process (in-memory keyring, a local stand-in); the timed processes then
only read the cache. Prints the median of each command (after warm-up runs) and its ratio to
``python -c pass``. Target (issue: token cache): warm get within 3x of ``python -c pass``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path


def once(cmd: list[str], env: dict[str, str], stdin: bytes = b"") -> float:
    """One whole-process run of ``cmd``, in milliseconds; a failed run stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(cmd, input=stdin, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed: {done.stderr.decode(errors='replace')}")
    return elapsed * 1000


def interleaved(title: str, commands: dict[str, tuple[list[str], dict[str, str], bytes]],
                runs: int, python_env: dict[str, str]) -> None:
    """Each command (label: argv, env, stdin) and ``python -c pass``, one after another run
    by run after 3 warm-up rounds, so a noisy machine slows them alike; prints the median of
    each and its ratio to ``python -c pass``."""
    for _ in range(3):
        for cmd, env, stdin in commands.values():
            once(cmd, env, stdin)
    times: dict[str, list[float]] = {"python -c pass": [], **{k: [] for k in commands}}
    for _ in range(runs):
        for label, (cmd, env, stdin) in commands.items():
            times[label].append(once(cmd, env, stdin))
        times["python -c pass"].append(once([sys.executable, "-c", "pass"], python_env))
    base = statistics.median(times["python -c pass"])
    print(f"{title}: median of {runs} interleaved runs, {os.cpu_count()} cores")
    for label, values in times.items():
        ms = statistics.median(values)
        print(f"  {label:<16} {ms:6.1f} ms  {ms / base:5.2f}x")


def median_ms(cmd: list[str], env: dict[str, str], runs: int, stdin: bytes = b"") -> float:
    for _ in range(3):
        once(cmd, env, stdin)
    return statistics.median(once(cmd, env, stdin) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    here = str(Path(sys.executable).parent)
    parser.add_argument("--sfcred", default=shutil.which("sfcred", path=here))
    args = parser.parse_args()
    if not args.sfcred:
        raise SystemExit("sfcred is not installed next to this Python")

    with tempfile.TemporaryDirectory(prefix="sfcred-bench-") as tmp:
        for sub in ("home", "config", "cache", "runtime"):
            Path(tmp, sub).mkdir(mode=0o700)
        os.environ.update(
            HOME=f"{tmp}/home", XDG_CONFIG_HOME=f"{tmp}/config", XDG_CACHE_HOME=f"{tmp}/cache",
            XDG_RUNTIME_DIR=f"{tmp}/runtime", SFCRED_KEYRING_SERVICE="sfcred-bench",
            PYTHON_KEYRING_BACKEND="sfcred.testing.keyrings.MemoryKeyring",
        )
        os.environ.pop("SFCRED_PROFILE", None)
        env = dict(os.environ)
        env["GIT_TERMINAL_PROMPT"] = "0"
        host = prepare()
        python = sys.executable
        rows = [
            ("python -c pass", [python, "-c", "pass"], b""),
            ("python -c 'import keyring; keyring.get_keyring()'",
             [python, "-c", "import keyring; keyring.get_keyring()"], b""),
            ("sfcred get -p bench (FRESH)", [args.sfcred, "get", "-p", "bench"], b""),
            ("printf 'host=…' | sfcred get (FRESH)", [args.sfcred, "get"],
             f"protocol=http\nhost={host}\n\n".encode()),
            ("sfcred get -p bench --format json", [args.sfcred, "get", "-p", "bench",
                                                   "--format", "json"], b""),
        ]
        git = shutil.which("git")
        if git:  # what a git user pays: git itself plus the helper
            env["PATH"] = os.pathsep.join([str(Path(args.sfcred).parent), env["PATH"]])
            rows.append(("git credential fill (helper sfcred, FRESH)",
                         [git, "-c", "credential.helper=", "-c", "credential.helper=sfcred",
                          "credential", "fill"], f"protocol=http\nhost={host}\n\n".encode()))
        results = [(label, median_ms(cmd, env, args.runs, stdin)) for label, cmd, stdin in rows]
    base = results[0][1]
    print(f"median of {args.runs} runs after 3 warm-up runs; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}")
    for label, ms in results:
        print(f"  {label:<58} {ms:7.1f} ms  {ms / base:5.2f}x")
    return 0


def prepare() -> str:
    """A profile and a FRESH cached token, made in-process; returns the instance host."""
    from sfcred.cli import main as sfcred_main
    from sfcred.testing.server import FakeSalesforce

    sf = FakeSalesforce().start()
    try:
        with redirect_stderr(io.StringIO()):
            code = sfcred_main(["profile", "add", "bench", "--client-id", "bench-app",
                                "--username", "bench@example.com", "--login-url", sf.url,
                                "--audience", "https://login.salesforce.com", "--generate-key"])
        assert code == 0
        from sfcred.app import keystore
        from sfcred.profiles import manage

        cert = manage.cert("bench", keystore())
        sf.add_app("bench-app", cert)
        sf.add_user("bench@example.com")
        sf.preauthorize("bench-app", "bench@example.com")
        out = io.StringIO()
        with redirect_stdout(out):
            assert sfcred_main(["get", "-p", "bench"], stdin=io.StringIO("")) == 0
        return sf.url.split("://", 1)[1]
    finally:
        sf.stop()


if __name__ == "__main__":
    sys.exit(main())
