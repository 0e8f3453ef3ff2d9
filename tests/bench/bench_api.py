"""The Python API's client-side cost per request, against a static Authorization header.

    python tests/bench/bench_api.py [--calls 20000] [--rounds 15]

In one process (an in-memory keyring, a throwaway runtime dir, the stand-in for Salesforce):
one token is minted, then each round times ``calls`` of

- ``static``: setting ``Authorization: Bearer <token>`` on an ``httpx.Request`` by hand;
- ``get_token``: ``sfcred.get_token(PROFILE)``;
- ``auth``: what ``SalesforceAuth`` does per request (its flow's first step on the request:
  the token, the host check, the header).

and prints the median microseconds per call of each, and the auth's overhead over the static
header (what the issue measures: the cost sfcred adds to each request). Run it from an
installed sfcred (``pip install .``), not the checkout.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stderr
from pathlib import Path

import httpx
import keyring

PROFILE = "bench"


def per_call(fn: object, calls: int) -> float:
    assert callable(fn)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("run", "config", "cache"):
            Path(tmp, name).mkdir(mode=0o700)
        os.environ.update(XDG_RUNTIME_DIR=f"{tmp}/run", XDG_CONFIG_HOME=f"{tmp}/config",
                          XDG_CACHE_HOME=f"{tmp}/cache", SFCRED_KEYRING_SERVICE="sfcred-bench")
        os.environ.pop("SFCRED_PROFILE", None)
        from sfcred.testing.keyrings import MemoryKeyring

        keyring.set_keyring(MemoryKeyring())
        import sfcred
        from sfcred.cli import main as cli
        from sfcred.testing.server import FakeSalesforce

        with FakeSalesforce() as sf:
            cert = Path(tmp, "cert.pem")
            with redirect_stderr(io.StringIO()):
                assert cli(["profile", "add", PROFILE, "--client-id", "3MVG9bench",
                            "--username", "bench@example.com", "--login-url", sf.url,
                            "--generate-key", "--cert-out", str(cert)]) == 0
            sf.add_app("3MVG9bench", cert.read_text())
            sf.add_user("bench@example.com")
            sf.preauthorize("3MVG9bench", "bench@example.com")
            token = sfcred.get_token(PROFILE)
            url = f"{token.instance_url}/services/data/v60.0/query"
            auth = sfcred.SalesforceAuth(PROFILE)

            request = httpx.Request("GET", url)  # the same request each time: only the
            # header's cost is measured, not httpx's parsing of the URL

            def static() -> None:
                request.headers["Authorization"] = f"Bearer {token.access_token}"

            def flow() -> None:
                next(auth.sync_auth_flow(request))

            cases = {"static": static, "get_token": lambda: sfcred.get_token(PROFILE),
                     "auth": flow}
            times: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.rounds):  # interleaved: a slow moment hits every case
                for name, fn in cases.items():
                    times[name].append(per_call(fn, args.calls))
            assert sf.token_requests == 1, sf.token_requests
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds of {args.calls} calls")
    for name, value in med.items():
        print(f"  {name:<10} {value:8.2f} µs/call")
    print(f"  auth overhead over a static header: {med['auth'] - med['static']:.2f} µs "
          f"({med['auth'] / med['static']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
