"""Where the token cache lives and what it holds, through the INSTALLED program: corrupt files
survived, no token outside the cache, the sealed on-disk mode with its keyring key written
once, invalidation of one profile only, and FRESH / STALE / EXPIRED as `sfcred get` shows
them. Then the lock itself, in process.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_cache_storage_e2e.py.
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
from pathlib import Path

import pytest

from sfcred import fsutil
from sfcred.errors import ConfigError
from sfcred.secret import Secret
from sfcred.store.keystore import KeyStore
from sfcred.testing.keyrings import MemoryKeyring
from sfcred.tokens.cache import TokenCache, open_cache
from sfcred.tokens.entry import Entry

USERNAME = "integration@example.com"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def fake_token() -> str:
    return "00D" + secrets.token_hex(6) + "!" + secrets.token_urlsafe(40)


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
