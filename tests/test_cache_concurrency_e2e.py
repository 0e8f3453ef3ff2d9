"""Single flight across processes: many `sfcred get` at once mint ONE token, and a holder that
dies mid-mint (even by SIGKILL) never blocks the others.

Every test runs the INSTALLED program as real, concurrent processes against the real Secret
Service (each process is its own keyring client) and the local Salesforce stand-in, which
counts the token requests. A swarm of `get` processes is started blocked on stdin (sfcred
reads a request from a non-terminal stdin before it looks at the cache), and released by
writing the blank line that ends the request to every one of them at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from _e2e import setup_org

from sfcred import fsutil
from sfcred.deadline import lock_wait
from sfcred.errors import ConfigError
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.entry import Entry, State

pytestmark = pytest.mark.secret_service

SWARM = 32
USERNAME = "integration@example.com"
MINT_DELAY = 1.0  # the stand-in answers the first token request this late: the swarm overlaps


def add_profile(run_sfcred, sf: FakeSalesforce, tmp_path: Path, name: str,
                *extra: str) -> str:
    """`sfcred profile add NAME` with a generated key whose certificate the stand-in's app
    holds, the user pre-authorized; returns the client id."""
    org = setup_org(run_sfcred, sf, tmp_path, name, username=USERNAME, extra=extra)
    return org.client_id


def cache_dir() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"], "sfcred")


def get_argv(sfcred_bin: Sequence[str], name: str) -> list[str]:
    return [*sfcred_bin, "get", "-p", name, "--format", "token"]


def spawn(sfcred_bin: Sequence[str], env: Mapping[str, str], name: str,
          stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        get_argv(sfcred_bin, name), env=dict(env), cwd=env["HOME"],
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _wchan(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/wchan").read_text(encoding="ascii").strip()
    except OSError:
        return None


def wait_blocked_on_stdin(procs: Sequence[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    """Until every process sleeps in a pipe read (its stdin), as /proc/PID/wchan tells; where
    the kernel does not say, a few seconds for the interpreters to start."""
    if _wchan(procs[0].pid) in (None, "", "0"):
        time.sleep(5)
        return
    deadline = time.monotonic() + timeout
    pending = list(procs)
    while pending:
        for p in pending:
            if p.poll() is not None:  # read stderr only then: a live process would block it
                err = p.stderr.read() if p.stderr is not None else b""
                raise AssertionError(f"a get exited before its release: {err!r}")
        pending = [p for p in pending if "pipe_read" not in (_wchan(p.pid) or "")]
        assert time.monotonic() < deadline, f"{len(pending)} processes never reached stdin"
        time.sleep(0.02)


@dataclass
class SwarmResult:
    tokens: list[str]
    returncodes: list[int]
    stderrs: list[str]
    release_took: float  # seconds to hand the blank line to all of them
    alive_at_release: int  # processes still running once the last one was released
    first_exit: float  # seconds from the release to the first exit seen
    last_exit: float  # ... to the last exit


def swarm(sfcred_bin: Sequence[str], env: Mapping[str, str], name: str,
          n: int = SWARM) -> SwarmResult:
    """``n`` concurrent `sfcred get -p NAME --format token`, released together."""
    procs = [spawn(sfcred_bin, env, name, stdin=subprocess.PIPE) for _ in range(n)]
    try:
        wait_blocked_on_stdin(procs)
        t0 = time.monotonic()
        for p in procs:  # the blank line that ends a request: all of them get going
            assert p.stdin is not None
            p.stdin.write(b"\n")
            p.stdin.close()
        released = time.monotonic()
        alive = sum(p.poll() is None for p in procs)
        exits: dict[int, float] = {}
        deadline = released + 60
        while len(exits) < n:
            for i, p in enumerate(procs):
                if i not in exits and p.poll() is not None:
                    exits[i] = time.monotonic() - t0
            assert time.monotonic() < deadline, "the swarm did not finish within 60 s"
            time.sleep(0.005)
        outs = [(p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return SwarmResult(
        tokens=[out.decode().strip() for out, _ in outs],
        returncodes=[p.returncode for p in procs],
        stderrs=[err.decode() for _, err in outs],
        release_took=released - t0,
        alive_at_release=alive,
        first_exit=min(exits.values()),
        last_exit=max(exits.values()),
    )


def assert_single_flight(result: SwarmResult, n: int = SWARM) -> str:
    assert result.returncodes == [0] * n, result.stderrs
    assert result.stderrs == [""] * n
    assert all(result.tokens), "a get printed no token"
    assert len(set(result.tokens)) == 1, f"{len(set(result.tokens))} different tokens"
    # Overlap: all n were running, each with its request in hand, once the last was released;
    # the token they all print was answered at least MINT_DELAY after a release, so all n
    # were inside `get` at the same time for most of that second.
    assert result.alive_at_release == n
    assert result.release_took < MINT_DELAY / 2
    assert result.first_exit >= MINT_DELAY
    return result.tokens[0]


def read_entry(name: str) -> Entry:
    entry = Entry.from_bytes((cache_dir() / f"{name}.token").read_bytes(), name)
    assert entry is not None, "the cache file does not hold an entry for this profile"
    return entry


# ---------------------------------------------------------------- the swarm


def test_32_gets_on_an_empty_cache_mint_once_and_print_the_same_token(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path
) -> None:
    add_profile(run_sfcred, standin, tmp_path, "acme")
    assert not (cache_dir() / "acme.token").exists()
    standin.fail_next("slow", delay=MINT_DELAY)

    result = swarm(sfcred_bin, sfcred_env, "acme")

    token = assert_single_flight(result)
    assert standin.token_requests == 1
    assert standin.valid_token(token)
    assert read_entry("acme").access_token.reveal() == token
    print(f"\n32 gets on an empty cache: first exit {result.first_exit:.2f}s, last "
          f"{result.last_exit:.2f}s after the release ({result.release_took * 1000:.1f} ms)")


def test_32_gets_on_a_stale_cache_refresh_once_and_print_the_new_token(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path
) -> None:
    # FRESH for 4 s after a mint, then STALE until 60 s.
    add_profile(run_sfcred, standin, tmp_path, "acme", "--token-ttl", "60",
                "--refresh-margin", "56")
    first = run_sfcred("get", "-p", "acme", "--format", "token")
    assert first.returncode == 0, first.stderr
    old = first.stdout.strip()
    entry = read_entry("acme")
    assert entry.access_token.reveal() == old
    assert entry.expires_at - entry.minted_at == 60
    time.sleep(max(0.0, entry.expires_at - entry.margin - time.time()) + 0.1)
    assert entry.state(time.time()) == State.STALE
    assert standin.token_requests == 1
    standin.fail_next("slow", delay=MINT_DELAY)

    result = swarm(sfcred_bin, sfcred_env, "acme")

    new = assert_single_flight(result)
    assert new != old
    assert standin.token_requests == 2
    assert read_entry("acme").access_token.reveal() == new
    print(f"\n32 gets on a stale cache: first exit {result.first_exit:.2f}s, last "
          f"{result.last_exit:.2f}s after the release")


# ---------------------------------------------------------------- a holder that dies


def _start_hung_holder(sfcred_bin, sfcred_env, standin: FakeSalesforce,
                       name: str) -> subprocess.Popen[bytes]:
    """A get that takes the lock and hangs in its token request; returned once the stand-in
    has the request and the lock is proven held (another taker times out)."""
    standin.fail_next("timeout", delay=30)
    holder = spawn(sfcred_bin, sfcred_env, name)
    deadline = time.monotonic() + 20
    while standin.token_requests < 1:
        assert holder.poll() is None, holder.communicate()
        assert time.monotonic() < deadline, "the holder never asked for a token"
        time.sleep(0.02)
    with pytest.raises(ConfigError, match="timed out"), \
            fsutil.file_lock(cache_dir() / f"{name}.lock", timeout=0.3):
        pass
    return holder


def test_a_holder_killed_mid_mint_does_not_block_the_next_gets(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path
) -> None:
    add_profile(run_sfcred, standin, tmp_path, "acme")
    holder = _start_hung_holder(sfcred_bin, sfcred_env, standin, "acme")
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=10) == -signal.SIGKILL

    t0 = time.monotonic()
    others = [spawn(sfcred_bin, sfcred_env, "acme") for _ in range(4)]
    outs = [p.communicate(timeout=lock_wait(None) + 10) for p in others]
    took = time.monotonic() - t0

    assert [p.returncode for p in others] == [0] * 4, [err for _, err in outs]
    tokens = {out.decode().strip() for out, _ in outs}
    assert len(tokens) == 1
    assert standin.token_requests == 2  # the killed holder's, then one for the four
    assert took < 10, f"took {took:.1f}s: the dead holder's lock held them up"
    print(f"\n4 gets after a SIGKILLed holder finished in {took:.2f}s")


def test_a_waiter_behind_a_holder_that_is_killed_proceeds(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path
) -> None:
    add_profile(run_sfcred, standin, tmp_path, "acme")
    holder = _start_hung_holder(sfcred_bin, sfcred_env, standin, "acme")
    waiter = spawn(sfcred_bin, sfcred_env, "acme")
    time.sleep(1.5)
    assert waiter.poll() is None, "the waiter did not wait for the holder"
    assert standin.token_requests == 1  # the waiter did not mint around the lock

    holder.send_signal(signal.SIGKILL)
    t0 = time.monotonic()
    out, err = waiter.communicate(timeout=lock_wait(None) + 10)
    took = time.monotonic() - t0
    holder.wait(timeout=10)

    assert waiter.returncode == 0, err
    assert standin.valid_token(out.decode().strip())
    assert standin.token_requests == 2
    assert took < 10, f"the waiter needed {took:.1f}s after the holder died"
    print(f"\nthe waiter finished {took:.2f}s after its holder was SIGKILLed")
