"""Fleet records are claims to check, not facts (issue 20), through the INSTALLED program
against the real OpenBao: a hostile token record (a foreign instance, an expiry in the year
5138, minted in the future, 20 MiB) is refused, cached nowhere, and the real token minted and
served in its place; a machine's copy of the fleet's token is dropped once the record is
erased or replaced; docs/fleet.md's consumer policy serves fleet tokens and reads no key; a
lease writer that keeps renewing is taken over."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _e2e import Org, fleet_machine, setup_org

from sfcred.fleet.shared import SharedTokens
from sfcred.secret import Secret
from sfcred.store.vault import Location, StoreRefused, VaultKV
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry

pytestmark = pytest.mark.slow

USER = "fleet@example.com"
PLANTED = "00DPLANTED!" + "p" * 40


def kv_of(env: dict[str, str]) -> VaultKV:
    return VaultKV(Location.parse(env["SFCRED_STORE"]), env)


def add_profile(run_sfcred, standin: FakeSalesforce, tmp_path: Path,
                env: dict[str, str]) -> Org:
    return setup_org(lambda *a, **k: run_sfcred(*a, env=env, **k), standin, tmp_path, "acme",
                     username=USER)


def local(env: dict[str, str]) -> TokenCache:
    return TokenCache(Path(env["XDG_RUNTIME_DIR"], "sfcred"))


def record(token: str = PLANTED, instance: str = "", minted: float | None = None,
           ttl: float = 900) -> dict[str, str]:
    now = time.time() if minted is None else minted
    return Entry("acme", USER, Secret(token), instance, now, now + ttl, 60).to_fields()


def hostile(kind: str, standin_url: str) -> dict[str, str]:
    if kind == "attacker":
        return record(instance="https://attacker.example.net")
    if kind == "github":
        return record(instance="https://github.com")
    if kind == "year-5138":
        return {**record(instance=standin_url), "expires_at": repr(99_999_999_000.0)}
    if kind == "minted-ahead":  # a writer whose clock is an hour ahead
        return record(instance=standin_url, minted=time.time() + 3600)
    assert kind == "20MiB"
    return record(token="00DBIG!" + "b" * (20 * 1024 * 1024), instance=standin_url)


REASONS = {
    "attacker": "its instance https://attacker.example.net is not a Salesforce host",
    "github": "its instance https://github.com is not a Salesforce host",
    "year-5138": "past the profile's token TTL of 900 s",
    "minted-ahead": "s in the future",
    "20MiB": "it is over 2048 KiB",
}


@pytest.mark.parametrize("kind", list(REASONS))
def test_a_hostile_fleet_record_is_refused_not_cached_and_the_real_token_served(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str], kind: str,
) -> None:
    one = fleet_machine(tmp_path, "one", fleet)
    add_profile(run_sfcred, standin, tmp_path, one)
    two = fleet_machine(tmp_path, "two", fleet)  # never configured: no instance known yet
    kv = kv_of(fleet)
    kv.write("tokens/acme", hostile(kind, standin.url))
    standin.reset_counts()

    got = run_sfcred("get", "-p", "acme", "--format", "json", env=two, timeout=60)
    assert got.returncode == 0, got.stderr[:2000]
    answer = json.loads(got.stdout)
    assert answer["access_token"] != PLANTED
    assert not answer["access_token"].startswith("00DBIG!")
    assert standin.valid_token(answer["access_token"])  # the real token, minted
    assert answer["instance_url"] == standin.url
    assert standin.token_requests == 1
    assert "the fleet's token for profile acme is refused: " in got.stderr
    assert REASONS[kind] in got.stderr
    assert PLANTED not in got.stderr
    assert "bbbbbbbbbb" not in got.stderr
    cached = local(two).read("acme")
    assert cached is not None
    assert cached.access_token.reveal() == answer["access_token"]  # never the planted one
    shared = SharedTokens(kv).read("acme", USER)  # the hostile record replaced
    assert shared is not None
    assert shared.access_token.reveal() == answer["access_token"]

    again = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert again.stdout.strip() == answer["access_token"]
    assert standin.token_requests == 1


def test_an_instance_that_is_not_the_profiles_known_one_is_refused(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    """A machine that has minted knows the profile's instance: even a Salesforce host that
    is not it (another org's) is refused there."""
    one = fleet_machine(tmp_path, "one", fleet)
    add_profile(run_sfcred, standin, tmp_path, one)
    first = run_sfcred("get", "-p", "acme", "--format", "token", env=one)
    assert first.returncode == 0, first.stderr
    local(one).drop("acme")
    kv_of(fleet).write("tokens/acme", record(instance="https://other.my.salesforce.com"))
    standin.reset_counts()
    got = run_sfcred("get", "-p", "acme", "--format", "json", env=one)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["instance_url"] == standin.url
    assert json.loads(got.stdout)["access_token"] != PLANTED
    assert standin.token_requests == 1
    assert (f"its instance https://other.my.salesforce.com is not the profile's "
            f"({standin.url})") in got.stderr


def age_the_copy(env: dict[str, str], seconds: float) -> Entry:
    """The machine's copy of the fleet's token, as if last confirmed ``seconds`` ago."""
    copy = local(env).read("acme")
    assert copy is not None
    assert copy.fleet_seen is not None  # marked as the fleet's
    aged = copy.seen(time.time() - seconds)
    local(env).write(aged)
    return aged


def test_a_copy_of_the_fleet_token_is_dropped_when_the_record_is_erased_or_replaced(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    one, two = (fleet_machine(tmp_path, n, fleet) for n in ("one", "two"))
    add_profile(run_sfcred, standin, tmp_path, one)
    token = run_sfcred("get", "-p", "acme", "--format", "token", env=one).stdout.strip()
    copied = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert copied.stdout.strip() == token, copied.stderr
    assert (local(one).read("acme") or pytest.fail("no cache")).fleet_seen is None  # minted
    kv = kv_of(fleet)
    standin.reset_counts()

    # Unchanged: confirmed (the mark moves on), no mint.
    aged = age_the_copy(two, 61)
    same = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert same.stdout.strip() == token
    confirmed = local(two).read("acme")
    assert confirmed is not None
    assert confirmed.fleet_seen is not None
    assert confirmed.fleet_seen > (aged.fleet_seen or 0) + 30
    assert standin.token_requests == 0

    # Erased: within the re-check time the copy still serves (the documented bound) ...
    kv.delete("tokens/acme")
    assert run_sfcred("get", "-p", "acme", "--format", "token",
                      env=two).stdout.strip() == token
    # ... after it, the copy is dropped and the fleet's flight mints a new one.
    age_the_copy(two, 61)
    after_erase = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert after_erase.returncode == 0, after_erase.stderr
    assert after_erase.stdout.strip() not in ("", token)
    assert standin.valid_token(after_erase.stdout.strip())
    assert standin.token_requests == 1

    # Replaced by another (good) token: after the re-check time the copy follows the fleet.
    replaced, now = "00DREPLACED!" + "r" * 40, time.time()
    SharedTokens(kv).publish(Entry("acme", USER, Secret(replaced), standin.url, now,
                                   now + 900, 60))
    local(two).write(Entry("acme", USER, Secret(after_erase.stdout.strip()), standin.url,
                           now, now + 900, 60, fleet_seen=now - 61))
    followed = run_sfcred("get", "-p", "acme", "--format", "token", env=two)
    assert followed.stdout.strip() == replaced, followed.stderr
    assert standin.token_requests == 1


def policy_blocks() -> tuple[str, str]:
    """docs/fleet.md's minter and consumer policies (its first two hcl blocks)."""
    text = (Path(__file__).parents[1] / "docs" / "fleet.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```hcl\n")[1:3]]
    assert 'path "secret/data/sfcred/*"' in blocks[0]
    assert 'path "secret/data/sfcred/tokens/*"' in blocks[1]
    return blocks[0], blocks[1]


def token_with(fleet: dict[str, str], name: str, policy: str) -> str:
    prefix = Location.parse(fleet["SFCRED_STORE"]).prefix
    kv = kv_of(fleet)
    kv.client.sys.create_or_update_policy(name=name, policy=policy.replace(
        "secret/data/sfcred/", f"secret/data/{prefix}/").replace(
        "secret/metadata/sfcred/", f"secret/metadata/{prefix}/"))
    token: str = kv.client.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]
    return token


def test_the_readme_consumer_policy_serves_fleet_tokens_and_reads_no_key(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
) -> None:
    minter_hcl, consumer_hcl = policy_blocks()
    fleet = {**fleet, "SFCRED_LEASE_SECONDS": "2"}
    prefix = Location.parse(fleet["SFCRED_STORE"]).prefix
    minter = {**fleet, "VAULT_TOKEN": token_with(fleet, f"m-{prefix}", minter_hcl)}
    consumer = {**fleet, "VAULT_TOKEN": token_with(fleet, f"c-{prefix}", consumer_hcl)}
    mint_m = fleet_machine(tmp_path, "minter", minter)
    add_profile(run_sfcred, standin, tmp_path, mint_m)
    token = run_sfcred("get", "-p", "acme", "--format", "token", env=mint_m).stdout.strip()
    assert standin.valid_token(token)  # the minter policy mints
    standin.reset_counts()

    # A consumer serves the fleet's FRESH token: with a runtime cache, and without one (the
    # sealed cache's key is not its to read: it caches nothing and still serves).
    with_cache = fleet_machine(tmp_path, "c1", consumer)
    no_runtime = {**fleet_machine(tmp_path, "c2", consumer), "XDG_RUNTIME_DIR": None}
    for env in (with_cache, no_runtime):
        for _ in range(2):
            got = run_sfcred("get", "-p", "acme", "--format", "token", env=env)
            assert (got.returncode, got.stdout.strip()) == (0, token), got.stderr
    assert standin.token_requests == 0
    assert (local(with_cache).read("acme") or pytest.fail("not cached")).fleet_seen

    # It reads no key item and no cache key, and may not write a token or take the lease.
    root = kv_of(fleet)
    service = root.list("items")[0].rstrip("/")
    keys = [n for n in root.list(f"items/{service}") if n.startswith("key%3A")]
    assert keys
    as_consumer = kv_of(consumer)
    for item in [*keys, "cache-key"]:
        with pytest.raises(StoreRefused, match="permission denied"):
            as_consumer.read(f"items/{service}/{item}")
    with pytest.raises(StoreRefused):
        as_consumer.write("tokens/acme", record(instance=standin.url))
    with pytest.raises(StoreRefused):
        as_consumer.write("leases/acme", {"holder": "c", "until": "0"})

    # Nothing FRESH in the fleet: a STALE token is served with a note; none at all is exit 5
    # naming the consumer policy, after the lease's whole life (2 s + 2 s + 1 s), no longer.
    now = time.time()
    SharedTokens(root).publish(Entry("acme", USER, Secret(token), standin.url, now - 870,
                                     now + 30, 60))
    fresh_consumer = fleet_machine(tmp_path, "c3", consumer)
    stale = run_sfcred("get", "-p", "acme", "--format", "token", env=fresh_consumer)
    assert (stale.returncode, stale.stdout.strip()) == (0, token), stale.stderr
    assert "serving the fleet's token until it expires" in stale.stderr
    root.delete("tokens/acme")
    began = time.monotonic()
    none = run_sfcred("get", "-p", "acme", "--format", "token",
                      env=fleet_machine(tmp_path, "c4", consumer), timeout=60)
    assert time.monotonic() - began < 20
    assert (none.returncode, none.stdout) == (5, ""), none.stderr
    assert "consumer policy" in none.stderr
    assert standin.token_requests == 0

    # The minter mints again; the consumer then serves that.
    again = run_sfcred("get", "-p", "acme", "--format", "token",
                       env=fleet_machine(tmp_path, "m2", minter))
    assert again.returncode == 0, again.stderr
    assert standin.token_requests == 1
    served = run_sfcred("get", "-p", "acme", "--format", "token",
                        env=fleet_machine(tmp_path, "c5", consumer))
    assert served.stdout.strip() == again.stdout.strip()


@pytest.fixture
def renewer(fleet: dict[str, str]) -> Iterator[None]:
    """A writer of leases/ that rewrites the profile's lease every 0.3 s, each a new version
    with a new until, the same holder: it never mints."""
    kv, stop = kv_of(fleet), threading.Event()

    def renew() -> None:
        while not stop.is_set():
            kv.write("leases/acme", {"holder": "renewer-1", "until": repr(time.time() + 2)})
            stop.wait(0.3)

    thread = threading.Thread(target=renew, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def test_a_lease_writer_that_keeps_renewing_is_taken_over(
    run_sfcred, standin: FakeSalesforce, tmp_path: Path, fleet: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    fleet = {**fleet, "SFCRED_LEASE_SECONDS": "2"}
    one = fleet_machine(tmp_path, "one", fleet)
    add_profile(run_sfcred, standin, tmp_path, one)
    standin.reset_counts()
    request.getfixturevalue("renewer")
    began = time.monotonic()
    got = run_sfcred("get", "-p", "acme", "--format", "token", env=one, timeout=60)
    took = time.monotonic() - began
    assert got.returncode == 0, got.stderr
    assert standin.valid_token(got.stdout.strip())
    assert standin.token_requests == 1
    assert 2 <= took < 15, took  # waited out one life of the lease (2 s + 2 s), then minted
