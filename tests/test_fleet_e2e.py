"""Fleet mode end to end, through the INSTALLED program: simulated machines (each its own HOME,
XDG folders and runtime cache, no OS keyring) share one real OpenBao and one integration
user at the Salesforce stand-in.

What issue 13 must show: 4 machines x 8 processes on an empty cache get one token with one
token request, and one more after it goes stale; a 401's erase costs the fleet one mint; a
lease holder killed mid-mint is taken over within the lease; a stopped or silent store still
serves FRESH and STALE local tokens, and is otherwise exit 5 within 10 s; nothing is ever
revoked; no key or token lands in a file outside the store and the runtime cache.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from _e2e import Org, fleet_machine, parse_git, setup_org

from sfcred.fleet.shared import SharedTokens
from sfcred.secret import Secret
from sfcred.store.vault import Location, VaultKV
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry

pytestmark = pytest.mark.slow

MACHINES, PROCESSES = 4, 8
USER = "fleet@example.com"


def machines(tmp_path: Path, fleet: dict[str, str], count: int = MACHINES,
             first: int = 0) -> list[dict[str, str]]:
    return [fleet_machine(tmp_path, f"m{i}", fleet) for i in range(first, first + count)]


def add_fleet_profile(run_sfcred, standin: FakeSalesforce, tmp_path: Path,
                      env: dict[str, str]) -> Org:
    def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = run_sfcred(*args, env=env, **kw)
        return done

    return setup_org(run, standin, tmp_path, "acme", username=USER)


def spawn(sfcred_bin: list[str], sfcred_env: dict[str, str], env: dict[str, str],
          *args: str, stdin: str | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*sfcred_bin, *args], env={**sfcred_env, **env},
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=env["HOME"])


def gets_at_once(sfcred_bin: list[str], sfcred_env: dict[str, str],
                 envs: Sequence[dict[str, str]], per_machine: int = PROCESSES) -> list[str]:
    """``get -p acme`` from ``per_machine`` processes on each machine, all started at once;
    their tokens (every one must succeed)."""
    procs = [spawn(sfcred_bin, sfcred_env, env, "get", "-p", "acme", "--format", "token")
             for env in envs for _ in range(per_machine)]
    tokens, failures = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=120)  # hang guard
        if proc.returncode != 0:
            failures.append((proc.returncode, err.decode(errors="replace")))
        tokens.append(out.decode().strip())
    assert failures == []
    return tokens


def kv_of(fleet: dict[str, str]) -> VaultKV:
    return VaultKV(Location.parse(fleet["SFCRED_STORE"]), fleet)


def make_stale(fleet: dict[str, str], envs: Sequence[dict[str, str]], token: str,
               instance_url: str) -> None:
    """Every copy of the token (the fleet's and each machine's) as if minted 14.5 min ago:
    within the 60 s refresh margin of the 900 s TTL, still live at Salesforce."""
    now = time.time()
    stale = Entry("acme", USER, Secret(token), instance_url, now - 870, now + 30, 60)
    SharedTokens(kv_of(fleet)).publish(stale)
    for env in envs:
        TokenCache(Path(env["XDG_RUNTIME_DIR"], "sfcred")).write(stale)


def revokes(standin: FakeSalesforce) -> list[tuple[str, str, str]]:
    return [r for r in standin.requests if r[2].startswith("/services/oauth2/revoke")]


def machine_files(envs: Sequence[dict[str, str]], *, runtime: bool) -> Iterator[Path]:
    """Every file in the machines' home, config, cache and data folders, and with ``runtime``
    in their runtime folders (where the token cache lives) too."""
    folders = ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME") + \
        (("XDG_RUNTIME_DIR",) if runtime else ())
    for env in envs:
        for var in folders:
            yield from (p for p in Path(env[var]).rglob("*") if p.is_file())


def assert_nothing_secret_on_disk(envs: Sequence[dict[str, str]], tokens: set[str]) -> None:
    """No key and no token in any file of a machine but its runtime cache."""
    assert tokens
    for path in machine_files(envs, runtime=False):
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data, path
        assert not any(t.encode() in data for t in tokens), path


def test_32_processes_on_4_machines_one_token_request_then_one_per_stale_window(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path,
    fleet: dict[str, str],
) -> None:
    envs = machines(tmp_path, fleet)
    add_fleet_profile(run_sfcred, standin, tmp_path, envs[0])
    standin.reset_counts()

    first = gets_at_once(sfcred_bin, sfcred_env, envs)
    assert standin.token_requests == 1
    assert len(first) == MACHINES * PROCESSES
    assert len(set(first)) == 1
    assert standin.valid_token(first[0])

    make_stale(fleet, envs, first[0], standin.url)
    second = gets_at_once(sfcred_bin, sfcred_env, envs)
    assert standin.token_requests == 2  # the stale token refreshed once for the whole fleet
    assert len(set(second)) == 1
    assert second[0] != first[0]
    assert standin.valid_token(second[0])

    # And warm: every machine answers from its own cache, no request anywhere.
    third = gets_at_once(sfcred_bin, sfcred_env, envs, per_machine=2)
    assert set(third) == {second[0]}
    assert standin.token_requests == 2
    assert revokes(standin) == []
    assert_nothing_secret_on_disk(envs, set(first) | set(second))


def test_a_401_on_every_machine_costs_the_fleet_one_mint(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    envs = machines(tmp_path, fleet)
    add_fleet_profile(run_sfcred, standin, tmp_path, envs[0])
    old = {run_sfcred("get", "-p", "acme", "--format", "token", env=env).stdout.strip()
           for env in envs}
    assert len(old) == 1
    refused = old.pop()
    standin.reset_counts()
    host = standin.url.split("://")[1]
    for env in envs:  # git's reject after a 401, on each machine in turn, then a new get
        erased = run_sfcred("erase", input=f"protocol=http\nhost={host}\npassword={refused}\n\n",
                            env=env)
        assert erased.returncode == 0, erased.stderr
        got = run_sfcred("get", input=f"protocol=http\nhost={host}\n\n", env=env)
        assert got.returncode == 0, got.stderr
        assert parse_git(got.stdout)["password"] != refused
    assert standin.token_requests == 1
    assert revokes(standin) == []


def test_a_lease_holder_killed_mid_mint_is_taken_over_within_the_lease(
    run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path,
    fleet: dict[str, str],
) -> None:
    lease = 4  # seconds (SFCRED_LEASE_SECONDS; 30 by default, never more)
    fleet = {**fleet, "SFCRED_LEASE_SECONDS": str(lease)}
    one, two = machines(tmp_path, fleet, 2)
    add_fleet_profile(run_sfcred, standin, tmp_path, one)
    standin.reset_counts()
    standin.fail_next("timeout", delay=60)  # the first mint hangs: its process is killed
    holder = spawn(sfcred_bin, sfcred_env, one, "get", "-p", "acme", "--format", "token")
    try:
        deadline = time.monotonic() + 30
        while standin.token_requests == 0:  # the holder has the lease and is minting
            assert time.monotonic() < deadline, "the first get never reached Salesforce"
            time.sleep(0.05)
        found = kv_of(fleet).read("leases/acme")
        assert found is not None
        assert found.data["holder"].startswith(f"{holder.pid}-")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    killed = time.monotonic()
    got = run_sfcred("get", "-p", "acme", "--format", "token", env=two, timeout=60)
    took = time.monotonic() - killed
    assert got.returncode == 0, got.stderr
    assert standin.valid_token(got.stdout.strip())
    assert standin.token_requests == 2  # the killed one's, and the taker's
    assert took < lease + 20, took  # waited out the lease, not the 60 s hang (hang guard)
    taker = kv_of(fleet).read("leases/acme")
    assert taker is not None
    assert taker.data["holder"] == ""  # released after publishing


@pytest.fixture
def silent_store() -> Iterator[str]:
    """An address that accepts connections and never answers (a Vault hung or firewalled)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_stopped_store_serves_fresh_and_stale_local_tokens_else_exit_5_fast(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, own_openbao, silent_store: str,
) -> None:
    fleet = {**own_openbao.env, "SFCRED_STORE": "vault://secret/sfcred",
             "PYTHON_KEYRING_BACKEND": "sfcred.testing.keyrings.FailKeyring"}
    fresh_m, stale_m, empty_m, never_m = machines(tmp_path, fleet)
    add_fleet_profile(run_sfcred, standin, tmp_path, fresh_m)
    token = run_sfcred("get", "-p", "acme", "--format", "token", env=fresh_m).stdout.strip()
    assert run_sfcred("profile", "list", "--names", env=stale_m).stdout == "acme\n"
    assert run_sfcred("profile", "list", "--names", env=empty_m).stdout == "acme\n"
    stale = Entry("acme", USER, Secret(token), standin.url, time.time() - 870,
                  time.time() + 30, 60)
    TokenCache(Path(stale_m["XDG_RUNTIME_DIR"], "sfcred")).write(stale)
    own_openbao.stop()
    standin.reset_counts()

    served = run_sfcred("get", "-p", "acme", "--format", "token", env=fresh_m)
    assert (served.returncode, served.stdout.strip()) == (0, token)

    started = time.monotonic()
    stale_got = run_sfcred("get", "-p", "acme", "--format", "token", env=stale_m)
    assert (stale_got.returncode, stale_got.stdout.strip()) == (0, token), stale_got.stderr
    assert "fleet store is unavailable; serving the cached token until it expires" \
        in stale_got.stderr

    for env in (empty_m, never_m):  # a profile it knows, and a machine never configured
        failed = run_sfcred("get", "-p", "acme", env=env, timeout=60)
        assert failed.returncode == 5, failed.stderr
        assert failed.stdout == ""
        assert "cannot reach the store" in failed.stderr

    for env in (stale_m, empty_m):  # the same against a store that never answers
        hung = {**env, "VAULT_ADDR": silent_store}
        began = time.monotonic()
        got = run_sfcred("get", "-p", "acme", "--format", "token", env=hung, timeout=60)
        spent = time.monotonic() - began
        assert spent < 10, spent  # docs/fleet.md: exit 5 within 10 s (one 5 s request timeout)
        if env is stale_m:
            assert (got.returncode, got.stdout.strip()) == (0, token), got.stderr
        else:
            assert (got.returncode, got.stdout) == (5, ""), got.stderr
    assert time.monotonic() - started < 60  # hang guard over the whole run
    assert standin.token_requests == 0  # nothing minted behind the fleet's back
    assert revokes(standin) == []

    own_openbao.start()  # the store back (a dev server starts empty): a clear error, no crash
    back = run_sfcred("get", "-p", "acme", env=empty_m)
    assert back.returncode == 1, back.stderr
    assert "no profile" in back.stderr


def test_a_store_that_refuses_by_policy_is_named(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    """A worker whose token may read the profiles but not take the lease: exit 5 that says
    which permission is missing (and a STALE local token is still served)."""
    one, two = machines(tmp_path, fleet, 2)
    add_fleet_profile(run_sfcred, standin, tmp_path, one)
    kv = kv_of(fleet)
    location = kv.location
    read_only = (f'path "{location.mount}/data/{location.prefix}/*" '
                 '{ capabilities = ["read"] }\n'
                 f'path "{location.mount}/metadata/{location.prefix}/*" '
                 '{ capabilities = ["list"] }\n')
    kv.client.sys.create_or_update_policy(name=f"ro-{location.prefix}", policy=read_only)
    token = kv.client.auth.token.create(policies=[f"ro-{location.prefix}"],
                                        ttl="5m")["auth"]["client_token"]
    got = run_sfcred("get", "-p", "acme", env={**two, "VAULT_TOKEN": token})
    assert got.returncode == 5, got.stderr
    assert got.stdout == ""
    assert "permission denied" in got.stderr
    assert "policy" in got.stderr


def test_damaged_or_foreign_records_under_the_prefix_are_replaced(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    (one,) = machines(tmp_path, fleet, 1)
    add_fleet_profile(run_sfcred, standin, tmp_path, one)
    kv = kv_of(fleet)
    kv.write("tokens/acme", {"access_token": "planted", "instance_url": "https://evil.test"})
    kv.write("leases/acme", {"holder": ["not", "a", "string"], "until": 1e300})
    standin.reset_counts()
    got = run_sfcred("get", "-p", "acme", "--format", "token", env=one)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() != "planted"
    assert standin.valid_token(got.stdout.strip())
    assert standin.token_requests == 1
    shared = SharedTokens(kv).read("acme", USER)
    assert shared is not None
    assert shared.access_token.reveal() == got.stdout.strip()


def test_a_mint_takes_the_lease_once_and_releases_it(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    (one,) = machines(tmp_path, fleet, 1)
    add_fleet_profile(run_sfcred, standin, tmp_path, one)
    assert run_sfcred("get", "-p", "acme", env=one).returncode == 0
    found = kv_of(fleet).read("leases/acme")  # versions: one take, one release
    assert found is not None
    assert (found.data, found.version) == ({"holder": "", "until": "0"}, 2)
