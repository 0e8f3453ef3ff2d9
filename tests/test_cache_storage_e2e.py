"""Where the token cache lives and what it holds, through the INSTALLED program: corrupt files
survived, no token outside the cache, the sealed on-disk mode with its keyring key written
once, invalidation of one profile only, and FRESH / STALE / EXPIRED as `sfcred get` shows
them. Then the lock itself, in process.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_cache_storage.py).
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from contextlib import closing
from pathlib import Path

import pytest
from _e2e import setup_org
from _support import files_under

from sfcred import fsutil
from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.entry import Entry, State

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
        # Beside the token: the login count of its user (tokens/budget.py) and that lock.
        assert sorted(p.name for p in runtime_cache().iterdir()
                      if not p.name.startswith("logins-")) == ["acme.lock", "acme.token"]
        assert len([p for p in runtime_cache().iterdir() if p.suffix == ".count"]) == 1
    assert victim.read_bytes() == b"not sfcred's to overwrite"


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
        done = run_sfcred("profile", "remove", "acme", "--yes")
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
