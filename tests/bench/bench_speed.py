"""Every speed figure of docs/speed.md in one run, as ratios to baselines measured alongside:

    warm get -p / routed (FRESH cache)       vs  python -c pass
    cold get (keyring read + mint)           vs  a bare pyjwt + httpx script minting with
                                                 the same key from a file
    the same, reading through keyring's backend  (what the direct Secret Service reads save)
    32 concurrent gets on an empty cache     vs  one cold get (and its token requests)
    peak memory (max RSS) of each

Whole processes, interleaved run by run (so a noisy machine slows both sides alike), medians
after 3 warm-up runs. Needs a Secret Service, as a server would have one; the test suite's
own recipe, for instance:

    dbus-run-session -- bash -c 'export XDG_DATA_HOME=$(mktemp -d);
      eval "$(printf %s x | gnome-keyring-daemon --unlock --components=secrets)"; sleep 1;
      .venv/bin/python tests/bench/bench_speed.py --runs 20'

No ``PYTHON_KEYRING_BACKEND``: the first get runs keyring's discovery and remembers its
choice (``keyfind``), as on a user's machine; the timed gets use the record.

Benchmark a regular ``pip install .`` made by pip 25.2 or later (older pips write console
scripts that import ``re``). Uses the keyring service ``sfcred-bench-speed`` and removes
what it made.
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

BARE = """
import sys, time, httpx, jwt
key = open(sys.argv[1], "rb").read()
now = int(time.time())
claims = {"iss": sys.argv[2], "sub": sys.argv[3], "aud": "https://login.salesforce.com",
          "exp": now + 170}
assertion = jwt.encode(claims, key, algorithm="RS256")
r = httpx.post(sys.argv[4] + "/services/oauth2/token",
               data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                     "assertion": assertion})
r.raise_for_status()
print(r.json()["access_token"])
"""


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time: a small C program


def timed(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> tuple[float, int]:
    """(milliseconds, max RSS in KiB, or 0 without GNU time) of one whole process, started
    through GNU time (a Python parent's fork would count the parent's pages as the child's);
    a failure stops the benchmark."""
    wrapped = [TIME, "-f", "%M", *argv] if TIME else argv
    start = time.perf_counter()
    done = subprocess.run(wrapped, env=env, input=stdin, capture_output=True, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.decode(errors='replace')}")
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    kib = int(lines[-1]) if TIME and lines and lines[-1].isdigit() else 0
    return elapsed, kib


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--stampede", type=int, default=32)
    here = str(Path(sys.executable).parent)
    parser.add_argument("--sfcred", default=shutil.which("sfcred", path=here))
    parser.add_argument("--against", metavar="VENV",
                        help="also time a cold get of another install, interleaved (A/B)")
    args = parser.parse_args()
    sfcred, python = args.sfcred, sys.executable
    if not sfcred:
        raise SystemExit("sfcred is not installed next to this Python")
    with tempfile.TemporaryDirectory(prefix="sfcred-speed-") as tmp:
        for sub in ("home", "config", "runtime"):
            Path(tmp, sub).mkdir(mode=0o700)
        env = dict(os.environ, HOME=f"{tmp}/home", XDG_CONFIG_HOME=f"{tmp}/config",
                   XDG_RUNTIME_DIR=f"{tmp}/runtime", SFCRED_KEYRING_SERVICE="sfcred-bench-speed")
        key_file = Path(tmp, "key.pem")
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_file.chmod(0o600)
        with FakeSalesforce() as sf:
            host = sf.url.split("://", 1)[1]
            subprocess.run([sfcred, "profile", "add", "speed", "--client-id", "bench-speed",
                            "--username", "b@x.com", "--login-url", sf.url, "--audience",
                            "https://login.salesforce.com", "--key-file", str(key_file),
                            "--cert-out", f"{tmp}/speed.crt", "--default"],
                           env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
            sf.add_app("bench-speed", Path(tmp, "speed.crt").read_text(encoding="ascii"))
            sf.add_user("b@x.com")
            sf.preauthorize("bench-speed", "b@x.com")
            try:
                report(args, sfcred, python, env, sf, host, key_file)
            finally:
                subprocess.run([sfcred, "profile", "remove", "speed"], env=env,
                               capture_output=True, stdin=subprocess.DEVNULL, check=False)
    return 0


def report(args: argparse.Namespace, sfcred: str, python: str, env: dict[str, str],
           sf: FakeSalesforce, host: str, key_file: Path) -> None:
    erase = [sfcred, "erase", "-p", "speed"]
    get = [sfcred, "get", "-p", "speed", "--format", "token"]
    bare = [python, "-c", BARE, str(key_file), "bench-speed", "b@x.com", sf.url]
    routed = ([sfcred, "get", "--format", "token"], f"protocol=http\nhost={host}\n\n".encode())
    rows: dict[str, list[tuple[float, int]]] = {k: [] for k in (
        "python -c pass", "warm get -p", "warm get host=", "bare pyjwt+httpx mint",
        "cold get -p (keyring + mint)")}
    other = [str(Path(args.against, "bin", "sfcred")), *get[1:]] if args.against else None
    if other:
        rows[f"cold get -p, {args.against}"] = []
    # What the direct Secret Service reads (store.secretservice) save: any KEYRING_PROPERTY_*
    # variable sends the reads through keyring's backend instead.
    through = dict(env, KEYRING_PROPERTY_SFCRED_BENCH="1")
    rows["cold get -p, through the backend"] = []
    timed(get, env)  # the instance is learned, the token cached
    for i in range(args.runs + 3):
        pairs = [("python -c pass", [python, "-c", "pass"], b""), ("warm get -p", get, b""),
                 ("warm get host=", routed[0], routed[1]),
                 ("bare pyjwt+httpx mint", bare, b"")]
        for label, argv, stdin in pairs:
            result = timed(argv, env, stdin)
            if i >= 3:
                rows[label].append(result)
        colds = [("cold get -p (keyring + mint)", get, env),
                 ("cold get -p, through the backend", get, through)]
        if other:
            colds.append((f"cold get -p, {args.against}", other, env))
        # Each in turn goes first: a fixed order showed a steady few percent between two
        # identical installs.
        for label, argv, cold_env in colds[i % len(colds):] + colds[:i % len(colds)]:
            timed(erase, env)
            result = timed(argv, cold_env)
            if i >= 3:
                rows[label].append(result)
    timed(erase, env)
    sf.reset_counts()
    started = time.perf_counter()
    procs = [subprocess.Popen(get, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(args.stampede)]
    outs = {p.communicate(timeout=120)[0] for p in procs}
    stampede = (time.perf_counter() - started) * 1000
    failed = sum(1 for p in procs if p.returncode)
    med = {k: statistics.median(ms for ms, _ in v) for k, v in rows.items()}
    rss = {k: max(kib for _, kib in v) for k, v in rows.items()}
    base, bare_ms, cold_ms = med["python -c pass"], med["bare pyjwt+httpx mint"], \
        med["cold get -p (keyring + mint)"]
    print(f"median of {args.runs} interleaved runs after 3 warm-up runs; {os.cpu_count()} "
          f"cores; Python {sys.version.split()[0]}")
    print(f"  {'':34} {'median':>9} {'ratio':>18} {'max RSS':>9}")
    for label in rows:
        if label.startswith("warm") or label == "python -c pass":
            ratio = f"{med[label] / base:5.2f}x python"
        elif label.startswith("cold"):
            ratio = f"{med[label] / bare_ms:5.2f}x bare"
        else:
            ratio = ""
        print(f"  {label:<34} {med[label]:7.1f} ms {ratio:>18} {rss[label] / 1024:6.1f} MB")
    print(f"  {args.stampede} concurrent gets, empty cache  {stampede:7.0f} ms "
          f"{stampede / cold_ms:5.2f}x cold get; {sf.token_requests} token request(s), "
          f"{len(outs)} distinct answer(s), {failed} failed")


if __name__ == "__main__":
    sys.exit(main())
