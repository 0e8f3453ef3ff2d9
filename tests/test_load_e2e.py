"""Load: 200 `sfcred get` processes over 10 s against a profile whose token is fresh for only
3 s (TTL 60 s, refresh margin 57 s), through the INSTALLED program and the real Secret Service.

Every get succeeds, prints a whole token that Salesforce (the stand-in) issued, and the token
requests stay within the number of fresh windows the run spans, plus one: the single flight
holds under load, and no reader ever sees a torn cache file.
"""

from __future__ import annotations

import math
import subprocess
import time
from pathlib import Path

import pytest
from _e2e import setup_org

from sfcred.testing.server import FakeSalesforce

pytestmark = [pytest.mark.secret_service, pytest.mark.slow]

PROCESSES = 200
SECONDS = 10.0
AT_ONCE = 12  # running at the same time, at most: a 2-core machine, as CI's
TTL, MARGIN = 60, 57  # fresh for 3 s, then STALE: refreshed by the next get


def test_200_gets_over_10_seconds(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path
) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme",
              extra=["--token-ttl", str(TTL), "--refresh-margin", str(MARGIN)])
    started = time.monotonic()
    running: list[tuple[subprocess.Popen[bytes], float]] = []
    results: list[tuple[int, bytes, bytes]] = []

    def reap(block: bool) -> None:
        for proc, _ in list(running):
            if block or proc.poll() is not None:
                out, err = proc.communicate(timeout=60)
                results.append((proc.returncode, out, err))
                running.remove((proc, _))

    for i in range(PROCESSES):
        due = started + SECONDS * i / PROCESSES
        while time.monotonic() < due or len(running) >= AT_ONCE:
            reap(block=False)
            time.sleep(0.005)
            assert time.monotonic() - started < 120, "the load did not drain (hang guard)"
        proc = subprocess.Popen([*sfcred_bin, "get", "-p", "acme", "--format", "token"],
                                env=sfcred_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        running.append((proc, time.monotonic()))
    reap(block=True)
    elapsed = time.monotonic() - started

    failures = [(rc, err.decode(errors="replace")) for rc, _, err in results if rc != 0]
    assert failures == []
    tokens = [out.decode().strip() for _, out, _ in results]
    assert len(tokens) == PROCESSES
    issued = set(standin.session_tokens())
    assert set(tokens) <= issued  # every printed token is whole and was issued: none torn
    windows = math.ceil(elapsed / (TTL - MARGIN))
    assert 1 <= standin.token_requests <= windows + 1, (standin.token_requests, elapsed)
    assert len(set(tokens)) == standin.token_requests  # every mint was used, none wasted
