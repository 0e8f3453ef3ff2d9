"""tokens/cache.py: FRESH/STALE/EXPIRED in one place, private files, corrupt files are misses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfcred.secret import Secret
from sfcred.tokens.cache import TokenCache, open_cache
from sfcred.tokens.entry import Entry, State
from sfcred.tokens.sealer import Sealer


def entry(name: str = "p", minted: float = 1000.0, ttl: float = 900, margin: float = 60) -> Entry:
    return Entry(name, "u@x", Secret("00Dx!tok"), "https://a.my.salesforce.com",
                 minted, minted + ttl, margin)


@pytest.mark.parametrize(
    ("now", "state"),
    [(1000, State.FRESH), (1839.9, State.FRESH), (1840, State.STALE), (1899.9, State.STALE),
     (1900, State.EXPIRED), (5000, State.EXPIRED)],
)
def test_state_boundaries(now: float, state: str) -> None:
    assert entry().state(now) == state


def test_round_trip_private_files(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "c")
    cache.write(entry())
    got = cache.read("p")
    assert got == entry()
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "c" / "p.token").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"\x00\xff garbage", b'{"v": 2}', b'{"v":1,"profile":"other"}', b"[]",
     b'{"v":1,"profile":"p","username":"u","access_token":"t","instance_url":"i",'
     b'"minted_at":"x","expires_at":1,"margin":1}'],
)
def test_corrupt_or_foreign_files_are_misses_and_get_replaced(tmp_path: Path,
                                                              content: bytes) -> None:
    cache = TokenCache(tmp_path)
    (tmp_path / "p.token").write_bytes(content)
    assert cache.read("p") is None
    cache.write(entry())
    assert cache.read("p") == entry()


def test_repr_of_an_entry_hides_the_token() -> None:
    assert "00Dx!tok" not in repr(entry())


def test_sealed_cache_holds_no_plain_token(tmp_path: Path) -> None:
    key = os.urandom(32)
    cache = TokenCache(tmp_path, Sealer(lambda: key))
    cache.write(entry())
    raw = (tmp_path / "p.token").read_bytes()
    assert b"00Dx!tok" not in raw
    assert cache.read("p") == entry()
    other = TokenCache(tmp_path, Sealer(lambda: os.urandom(32)))
    assert other.read("p") is None  # another key: a miss, not a crash
    (tmp_path / "p.token").write_bytes(raw[:-3])
    assert cache.read("p") is None


def test_runtime_dir_decides_plain_or_sealed(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert not open_cache(lambda: b"k" * 32).encrypted
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    sealed = open_cache(lambda: b"k" * 32)
    assert sealed.encrypted
    assert sealed.directory.startswith(os.environ["XDG_CACHE_HOME"])


def test_drop_forgets_one_profile_only(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    cache.write(entry("a"))
    cache.write(entry("b"))
    cache.drop("a")
    cache.drop("a")
    assert cache.read("a") is None
    assert cache.read("b") is not None


def _raw(**fields: str) -> bytes:
    base = {"v": "sfcred-token-cache-1", "profile": "p", "username": "u@x",
            "access_token": "00Dx!tok", "instance_url": "https://a.my.salesforce.com",
            "minted_at": "1000.0", "expires_at": "1900.0", "margin": "60.0"}
    base.update(fields)
    return "".join(f"{k}={v}\n" for k, v in base.items()).encode()


@pytest.mark.parametrize(
    "fields",
    [{"expires_at": "nan"}, {"expires_at": "inf"}, {"minted_at": "-inf"}, {"margin": "-5"},
     {"expires_at": "1e300"}, {"instance_url": "https://u:p@evil.example.com"},
     {"instance_url": "https://a.my.salesforce.com x=1"}, {"instance_url": "http://evil.example"},
     {"instance_url": "https://a.my.salesforce.com/path"}, {"access_token": "a b"},
     {"access_token": ""}, {"username": "u\x1b[2J"}],
)  # fmt: skip
def test_insane_entries_are_misses(fields: dict[str, str]) -> None:
    assert Entry.from_bytes(_raw(), "p") is not None  # the control: a sane entry reads
    assert Entry.from_bytes(_raw(**fields), "p") is None


def test_the_folder_and_files_must_be_ours_and_private(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    cache = TokenCache(folder)
    cache.write(entry())
    assert cache.check() is None
    (folder / "p.token").chmod(0o644)
    assert cache.read("p") is None  # a file open to others is not trusted
    (folder / "p.token").chmod(0o600)
    folder.chmod(0o777)
    note = cache.check()
    assert note is not None
    assert "open to others" in note[0]
    assert note[1] is True  # ours: tightened, then usable for writes
    assert folder.stat().st_mode & 0o777 == 0o700
    assert cache.read("p") is None  # not read in this process
    assert TokenCache(folder).read("p") == entry()  # the next process reads it again


def test_a_link_or_a_file_as_the_folder_makes_the_cache_unusable(tmp_path: Path) -> None:
    real = tmp_path / "real"
    TokenCache(real).write(entry())
    link = tmp_path / "link"
    link.symlink_to(real)
    note = TokenCache(link).check()
    assert note is not None
    assert note[1] is False
    assert "not a folder" in note[0]
    (tmp_path / "file").write_text("x")
    assert TokenCache(tmp_path / "file").check() is not None


def test_a_fifo_or_a_link_as_the_file_is_a_miss_without_blocking(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "c")
    cache.write(entry())
    target = tmp_path / "c" / "p.token"
    other = tmp_path / "elsewhere.token"
    other.write_bytes(target.read_bytes())
    other.chmod(0o600)
    target.unlink()
    target.symlink_to(other)
    assert cache.read("p") is None
    target.unlink()
    os.mkfifo(target, 0o600)
    assert cache.read("p") is None  # returns at once: O_NONBLOCK
