"""Where the token cache lives and what it holds, through the INSTALLED program: corrupt files
survived, no token outside the cache, the sealed on-disk mode with its keyring key written
once, invalidation of one profile only, and FRESH / STALE / EXPIRED as `sfcred get` shows
them. Then the lock itself, in process.

The end-to-end tests use the real Secret Service (each `sfcred` is its own process, so only a
keyring shared between processes lets `get` find what `profile add` stored).
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from _e2e import setup_org
from _support import files_under

from sfcred import fsutil
from sfcred.cache import Entry, State, TokenCache, open_cache
from sfcred.errors import ConfigError
from sfcred.keystore import KeyStore
from sfcred.secret import Secret
from sfcred.testing.keyrings import MemoryKeyring
from sfcred.testing.server import FakeSalesforce

USERNAME = "integration@example.com"
ss = pytest.mark.secret_service


def add_profile(run_sfcred, sf: FakeSalesforce, tmp_path: Path, name: str,
                *extra: str, client_id: str | None = None) -> str:
    """`sfcred profile add NAME` with a generated key whose certificate the stand-in's app
    holds, the user pre-authorized; returns the client id."""
    org = setup_org(run_sfcred, sf, tmp_path, name, username=USERNAME, extra=extra,
                    client_id=client_id)
    return org.client_id


def runtime_cache() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"], "sfcred")


def sealed_cache() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"], "sfcred", "tokens")


def get_token(run_sfcred, name: str, **kw: object) -> str:
    done = run_sfcred("get", "-p", name, "--format", "token", **kw)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token
    return str(token)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def assert_private_entry(path: Path, name: str, token: str) -> None:
    """``path`` is a regular 0600 file in a 0700 folder holding ``token`` for ``name``."""
    assert stat.S_ISREG(path.lstat().st_mode), f"{path} is not a regular file"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    entry = Entry.from_bytes(path.read_bytes(), name)
    assert entry is not None
    assert entry.access_token.reveal() == token


def forged(name: str, token: str, instance_url: str, *, minted: float, expires: float,
           margin: float = 60) -> bytes:
    return Entry(name, USERNAME, Secret(token), instance_url, minted, expires, margin).to_bytes()


def fake_token() -> str:
    return "00D" + secrets.token_hex(6) + "!" + secrets.token_urlsafe(40)


@pytest.fixture
def acme(run_sfcred, secret_service, standin: FakeSalesforce, tmp_path: Path) -> str:
    add_profile(run_sfcred, standin, tmp_path, "acme")
    return "acme"


# ---------------------------------------------------------------- corrupt files


@ss
def test_a_corrupt_cache_file_is_a_miss_minted_once_and_replaced(
    run_sfcred, acme: str, standin: FakeSalesforce, tmp_path: Path
) -> None:
    path = runtime_cache() / f"{acme}.token"
    now = time.time()
    foreign = fake_token()
    truncated = forged(acme, fake_token(), standin.url, minted=now, expires=now + 900)
    victim = tmp_path / "victim"
    victim.write_bytes(b"not sfcred's to overwrite")
    cases: dict[str, bytes | None] = {
        "garbage": b"this is not a cache file\n{[}\n",
        "truncated": truncated[: len(truncated) // 2],
        "empty": b"",
        "another profile": forged("other", foreign, standin.url, minted=now, expires=now + 900),
        "binary junk": bytes(range(256)) + os.urandom(512),
        "symlink out": None,
    }
    runtime_cache().mkdir(mode=0o755, exist_ok=True)
    runtime_cache().chmod(0o755)  # a folder loosened by hand is tightened again
    for requests, (case, content) in enumerate(cases.items(), start=1):
        path.unlink(missing_ok=True)
        if content is None:
            path.symlink_to(victim)
        else:
            path.write_bytes(content)
            path.chmod(0o644)

        done = run_sfcred("get", "-p", acme, "--format", "token")

        assert done.returncode == 0, (case, done.stderr)
        token = done.stdout.strip()
        assert token != foreign, case
        assert standin.valid_token(token), case
        assert standin.token_requests == requests, case
        assert_private_entry(path, acme, token)
        assert sorted(p.name for p in runtime_cache().iterdir()) == ["acme.lock", "acme.token"]
    assert victim.read_bytes() == b"not sfcred's to overwrite"


# ---------------------------------------------------------------- no token outside the cache




def holding(tokens: list[str], roots: list[Path], skip: Path | None = None) -> list[str]:
    """Files under ``roots`` (but not under ``skip``) holding any of ``tokens``, or its part
    after the org id, in any form a file would keep it (raw, URL-quoted)."""
    from urllib.parse import quote

    needles = set()
    for t in tokens:
        needles |= {t.encode(), t.split("!", 1)[-1].encode(), quote(t, safe="").encode()}
    found = []
    for p in files_under(*roots):
        if skip is not None and p.is_relative_to(skip):
            continue
        data = p.read_bytes()
        if any(n in data for n in needles):
            found.append(str(p))
    return found


def scan_roots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    env_dirs = [os.environ[v] for v in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                                        "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR")]
    return [tmp_path_factory.getbasetemp(), *map(Path, env_dirs)]


@ss
def test_no_token_is_written_outside_the_runtime_cache(
    run_sfcred, acme: str, standin: FakeSalesforce, tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    add_profile(run_sfcred, standin, tmp_path, "beta")
    tokens = []
    for _ in range(2):
        for name in (acme, "beta"):
            assert run_sfcred("erase", "-p", name).returncode == 0
            tokens.append(get_token(run_sfcred, name))
            for fmt in ("git", "json", "env"):
                assert run_sfcred("get", "-p", name, "--format", fmt).returncode == 0
    assert standin.token_requests == 4
    assert len(set(tokens)) == 4
    roots = scan_roots(tmp_path_factory)
    # The scan finds what is there: the two live tokens sit in their cache files.
    assert sorted(holding(tokens[2:], [runtime_cache()])) == sorted(
        str(runtime_cache() / f"{n}.token") for n in (acme, "beta")
    )
    assert holding(tokens, roots, skip=runtime_cache()) == []


@ss
def test_sealed_cache_holds_no_plain_token_and_its_keyring_key_is_written_once(
    run_sfcred, acme: str, secret_service, keyring_service: str, standin: FakeSalesforce,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import secretstorage

    no_runtime: dict[str, str | None] = {"XDG_RUNTIME_DIR": None}
    first = get_token(run_sfcred, acme, env=no_runtime)
    path = sealed_cache() / f"{acme}.token"
    raw = path.read_bytes()
    assert raw.startswith(b"SFC1")
    assert Entry.from_bytes(raw, acme) is None  # not the plain format
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert not (runtime_cache() / f"{acme}.token").exists()
    assert get_token(run_sfcred, acme, env=no_runtime) == first  # answered from the cache
    assert standin.token_requests == 1

    def items() -> dict[str, tuple[str, int, bytes]]:
        """path -> (username attribute, modified, secret) of every item of this test."""
        with closing(secretstorage.dbus_init()) as conn:
            found = secretstorage.search_items(conn, {"service": keyring_service})
            return {
                i.item_path: (i.get_attributes()["username"], i.get_modified(), i.get_secret())
                for i in found
            }

    before = items()
    assert [u for u, _, _ in before.values()].count("cache-key") == 1
    time.sleep(1.1)  # Secret Service times are in seconds: a rewrite would now show
    tokens = [first]
    for _ in range(3):
        assert run_sfcred("erase", "-p", acme, env=no_runtime).returncode == 0
        assert not path.exists()
        tokens.append(get_token(run_sfcred, acme, env=no_runtime))
    assert standin.token_requests == 4
    assert len(set(tokens)) == 4
    assert items() == before, "keyring items were rewritten by a mint"
    assert get_token(run_sfcred, acme, env=no_runtime) == tokens[-1]
    assert standin.token_requests == 4

    # A sealed file that was tampered with is a miss, minted again, never a crash.
    flipped = bytearray(path.read_bytes())
    flipped[-1] ^= 1
    path.write_bytes(bytes(flipped))
    tampered = get_token(run_sfcred, acme, env=no_runtime)
    assert tampered != tokens[-1]
    assert standin.token_requests == 5
    assert holding([*tokens, tampered], scan_roots(tmp_path_factory)) == []

    # The check above can fail: rewriting the cache key, even with the same value, shows.
    key_path, (_, modified, value) = next(
        (p, v) for p, v in before.items() if v[0] == "cache-key")
    secret_service.set_password(keyring_service, "cache-key", value.decode())
    assert items()[key_path][1] > modified


# ---------------------------------------------------------------- invalidation


@ss
def test_erase_change_rotation_and_removal_drop_that_profiles_token_only(
    run_sfcred, secret_service, standin: FakeSalesforce, tmp_path: Path
) -> None:
    acme_id = add_profile(run_sfcred, standin, tmp_path, "acme")
    add_profile(run_sfcred, standin, tmp_path, "beta")
    beta_token = get_token(run_sfcred, "beta")
    beta_file = runtime_cache() / "beta.token"
    beta_bytes = beta_file.read_bytes()
    acme_file = runtime_cache() / "acme.token"
    has_rotate = run_sfcred("rotate", "--help").returncode == 0

    def erase() -> None:
        done = run_sfcred("erase", "-p", "acme")
        assert done.returncode == 0, done.stderr

    def change_profile() -> None:
        add_profile(run_sfcred, standin, tmp_path, "acme", "--force", client_id=acme_id)

    def rotate() -> None:
        done = run_sfcred("rotate", "acme")
        assert done.returncode == 0, done.stderr
        assert "BEGIN CERTIFICATE" in done.stdout

    def remove() -> None:
        done = run_sfcred("profile", "remove", "acme")
        assert done.returncode == 0, done.stderr

    steps = {
        "erase": erase,
        "profile add --force": change_profile,
        "rotate": rotate if has_rotate else None,
        "profile remove": remove,
    }
    requests = 1
    for step, act in steps.items():
        if act is None:
            continue
        get_token(run_sfcred, "acme")
        requests += 1
        assert standin.token_requests == requests, step
        assert acme_file.exists()
        act()
        assert not acme_file.exists(), f"{step} left the token of acme"
        assert beta_file.read_bytes() == beta_bytes, f"{step} touched the token of beta"
    assert get_token(run_sfcred, "beta") == beta_token
    assert standin.token_requests == requests
    gone = run_sfcred("get", "-p", "acme", "--format", "token")
    assert gone.returncode == 1
    assert gone.stdout == ""
    assert has_rotate, "`sfcred rotate` is missing: its sub-case was skipped"


# ---------------------------------------------------------------- states at the CLI


@ss
def test_fresh_is_served_without_a_token_request(
    run_sfcred, acme: str, standin: FakeSalesforce
) -> None:
    token = get_token(run_sfcred, acme)
    for _ in range(3):
        assert get_token(run_sfcred, acme) == token
    assert standin.token_requests == 1


@ss
def test_an_expired_token_is_never_served(
    run_sfcred, acme: str, standin: FakeSalesforce
) -> None:
    now = time.time()
    dead = fake_token()
    path = runtime_cache() / f"{acme}.token"
    fsutil.atomic_write(path, forged(acme, dead, standin.url, minted=now - 1000, expires=now - 1))
    assert Entry.from_bytes(path.read_bytes(), acme).state(now) == State.EXPIRED  # type: ignore[union-attr]
    token = get_token(run_sfcred, acme)
    assert token != dead
    assert standin.valid_token(token)
    assert standin.token_requests == 1
    assert_private_entry(path, acme, token)


@ss
@pytest.mark.parametrize("state", [State.STALE, State.EXPIRED])
def test_salesforce_unreachable_serves_a_stale_token_never_an_expired_one(
    run_sfcred, acme: str, standin: FakeSalesforce, state: str
) -> None:
    now = time.time()
    old = fake_token()
    expires = now + 300 if state == State.STALE else now - 1
    path = runtime_cache() / f"{acme}.token"
    raw = forged(acme, old, standin.url, minted=now - 600, expires=expires, margin=600)
    fsutil.atomic_write(path, raw)
    assert Entry.from_bytes(raw, acme).state(now) == state  # type: ignore[union-attr]
    standin.fail_next("503", count=10)

    done = run_sfcred("get", "-p", acme, "--format", "token")

    assert standin.token_requests >= 1  # it did try to refresh
    if state == State.STALE:
        assert done.returncode == 0, done.stderr
        assert done.stdout == old + "\n"
        assert "unreachable" in done.stderr
        assert "serving the cached token" in done.stderr
    else:
        assert done.returncode == 4, done.stderr
        assert done.stdout == ""
    assert old not in done.stderr
    assert path.read_bytes() == raw  # a failed refresh leaves the entry as it was


# ---------------------------------------------------------------- the lock, in process


def test_a_second_taker_waits_for_the_holder_thread(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "p.lock"
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with fsutil.file_lock(path, timeout=5):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(5)
        threading.Timer(0.4, release.set).start()
        t0 = time.monotonic()
        with fsutil.file_lock(path, timeout=5):
            waited = time.monotonic() - t0
            assert release.is_set()  # not before the holder was told to let go
    finally:
        release.set()
        t.join(5)
    assert 0.3 <= waited < 3
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Another process holding ``tmp_path/c/acme.lock`` (the cache's lock for acme)."""
    path = tmp_path / "c" / "acme.lock"
    code = (
        "import sys, time\n"
        "from sfcred import fsutil\n"
        "with fsutil.file_lock(sys.argv[1], timeout=5):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n"
        yield proc, path
    finally:
        proc.kill()
        proc.wait()


def test_a_held_lock_is_adopted_by_the_next_with_and_refused_while_another_holds_it(
    tmp_path: Path, lock_holder: tuple[subprocess.Popen[str], Path],
) -> None:
    """``Lock.hold`` (the warm path, on finding no FRESH token): the lock is taken at once and
    kept, the object's next ``with`` (the full path, handed the object) adopts it without
    waiting, and releasing that frees it; while another process holds it, hold answers False
    without waiting."""
    _holder, taken = lock_holder
    t0 = time.monotonic()
    assert fsutil.file_lock(taken, timeout=5).hold() is False
    assert time.monotonic() - t0 < 1  # never waits
    path = tmp_path / "locks" / "p.lock"
    lock = fsutil.file_lock(path, timeout=0)
    assert lock.hold() is True
    assert lock.hold() is True  # ours already
    assert lock.held()
    probe = [sys.executable, "-c",
             "import sys\nfrom sfcred import fsutil\n"
             "print(fsutil.file_lock(sys.argv[1]).hold())", str(path)]
    assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout == "False\n"
    with pytest.raises(ConfigError), fsutil.file_lock(path, timeout=0):  # another object waits
        pass
    with lock:  # adopted: a second take would time out at once
        pass
    assert not lock.held()
    assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout == "True\n"


def test_a_taker_times_out_with_a_clear_error_after_the_given_timeout(
    lock_holder: tuple[subprocess.Popen[str], Path],
) -> None:
    _, path = lock_holder
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as caught, fsutil.file_lock(path, timeout=0.5):
        pytest.fail("took a lock another process holds")
    took = time.monotonic() - t0
    assert 0.45 <= took < 2
    assert caught.value.exit_code == 1
    assert "timed out after 0.5s" in caught.value.message
    assert str(path) in caught.value.message
    assert caught.value.hint is not None
    assert "another sfcred process" in caught.value.hint


def test_a_killed_holders_lock_is_free_at_once(
    lock_holder: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = lock_holder
    cache = TokenCache(path.parent)
    with cache.lock("beta", timeout=0.5):  # one profile's lock never blocks another's
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    t0 = time.monotonic()
    with cache.lock("acme", timeout=5):
        took = time.monotonic() - t0
    assert took < 0.5


def test_atomic_write_is_private_from_creation_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        cache = TokenCache(tmp_path / "c")
        now = time.time()
        entry = Entry("p", USERNAME, Secret(fake_token()), "https://a.my.salesforce.com",
                      now, now + 900, 60)
        cache.write(entry)
        cache.write(entry)
    finally:
        os.umask(old)
    assert mode(tmp_path / "c") == 0o700
    assert mode(tmp_path / "c" / "p.token") == 0o600
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["p.token"]  # no temp file left
    assert cache.read("p") == entry


class _LaggingKeyring(MemoryKeyring):
    """The shared in-memory keyring, answering reads ``lag`` seconds late (a slow D-Bus)."""

    def __init__(self, lag: float) -> None:
        super().__init__()
        self.lag = lag

    def get_password(self, service: str, username: str) -> str | None:
        value = super().get_password(service, username)
        time.sleep(self.lag)
        return value


def test_two_first_uses_of_the_sealed_cache_at_once_agree_on_one_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two profiles minting at once on a machine with no cache key yet: both must seal with
    the key that stays in the keyring, else one's token is unreadable and minted again."""
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    now = time.time()
    entries = {
        lag: Entry(f"p{i}", USERNAME, Secret(fake_token()), "https://a.my.salesforce.com",
                   now, now + 900, 60)
        for i, lag in enumerate((0.3, 0.0))
    }

    def first_use(lag: float) -> None:
        cache = open_cache(KeyStore(_LaggingKeyring(lag)).cache_key)
        assert cache.encrypted
        cache.write(entries[lag])

    slow = threading.Thread(target=first_use, args=(0.3,))
    slow.start()  # reads "no key" at once, hears it 0.3 s later, then creates one
    time.sleep(0.05)
    first_use(0.0)  # meanwhile: reads "no key", creates one, seals with it
    slow.join(10)

    later = open_cache(KeyStore(MemoryKeyring()).cache_key)
    assert {e.profile: later.read(e.profile) for e in entries.values()} == {
        e.profile: e for e in entries.values()
    }
