"""keyring's backend choice, remembered (``keyfind``), and reads that skip keyring itself
(``store.secretservice``): the user's choice always wins, and every answer is keyring's own.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_keyfind_e2e.py.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from sfcred.store import keyfind, keyrecord
from sfcred.store.secretservice import Reads
from sfcred.testing.keyrings import FailKeyring, MemoryKeyring

MEMORY = "sfcred.testing.keyrings.MemoryKeyring"


class Discovery:
    """keyring's discovery, replaced: answers ``chosen`` and counts the calls."""

    def __init__(self, chosen: Any) -> None:
        self.chosen, self.calls = chosen, 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.chosen


@pytest.fixture
def discovery(monkeypatch: pytest.MonkeyPatch) -> Discovery:
    """A process that has not loaded keyring (as the sfcred command), no
    PYTHON_KEYRING_BACKEND: keyfind decides, every call as a new process would."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyfind, "_loaded", lambda: False)
    # the test backend stands for a secure one (the Secret Service) in records
    monkeypatch.setattr(keyfind, "SECURE", keyfind.SECURE | {MEMORY})
    found = Discovery(MemoryKeyring())
    monkeypatch.setattr(keyfind, "_keyring_choice", found)
    return found


def record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(keyrecord.record_path()).read_text(encoding="utf-8"))
    return data


def test_the_choice_is_remembered_and_reused_without_discovery(discovery: Discovery) -> None:
    first = keyfind.backend()
    assert discovery.calls == 1
    assert type(first) is MemoryKeyring
    path = Path(keyrecord.record_path())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert record()["backend"] == MEMORY
    again = keyfind.backend()
    assert discovery.calls == 1  # no discovery the second time
    assert type(again) is MemoryKeyring
    assert keyring.get_keyring() is again  # keyring agrees, in this process


def test_a_package_installed_since_means_discovery_again(discovery: Discovery,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # after sys.path[0], the script's own folder, which the basis leaves out
    monkeypatch.setattr(sys, "path", [sys.path[0], str(site), *sys.path[1:]])
    keyfind.backend()
    (site / "keyrings_new-1.0.dist-info").mkdir()  # what pip install does to the folder
    os.utime(site, ns=(site.stat().st_atime_ns, site.stat().st_mtime_ns + 10**9))
    keyfind.backend()
    assert discovery.calls == 2


def test_two_installs_keep_a_record_each_and_old_ones_are_pruned(
    discovery: Discovery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two programs with different sys.path (two venvs, say) each keep their own record, so
    alternating between them never rediscovers; at most KEEP records stay."""
    base = list(sys.path)
    installs = []
    for n in range(keyrecord.KEEP + 2):
        site = tmp_path / f"venv{n}"
        site.mkdir()
        installs.append([base[0], str(site), *base[1:]])
    for path in installs[:2]:
        monkeypatch.setattr(sys, "path", path)
        keyfind.backend()
    assert discovery.calls == 2
    for _ in range(3):  # alternating: no discovery
        for path in installs[:2]:
            monkeypatch.setattr(sys, "path", path)
            keyfind.backend()
    assert discovery.calls == 2
    for path in installs[2:]:
        monkeypatch.setattr(sys, "path", path)
        keyfind.backend()
    folder = Path(keyrecord.record_path()).parent
    assert len(list(folder.glob(f"{keyrecord.RECORD}*.json"))) == keyrecord.KEEP
    keyrecord.forget()
    assert not list(folder.glob(f"{keyrecord.RECORD}*.json"))


@pytest.mark.parametrize("variable", ["DBUS_SESSION_BUS_ADDRESS", "XDG_CURRENT_DESKTOP"])
def test_another_session_or_desktop_means_discovery_again(
    discovery: Discovery, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    keyfind.backend()
    monkeypatch.setenv(variable, "unix:path=/elsewhere" if "DBUS" in variable else "KDE")
    keyfind.backend()
    assert discovery.calls == 2


def test_the_users_choice_wins_over_the_record(discovery: Discovery,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    keyfind.backend()  # remembers MemoryKeyring
    # keyringrc.cfg appears: keyring reads it (the record is not used, nor rewritten)
    config = Path(os.environ["XDG_CONFIG_HOME"], "python_keyring", "keyringrc.cfg")
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring=sfcred.testing.keyrings.FailKeyring\n")
    discovery.chosen = FailKeyring()
    assert type(keyfind.backend()) is FailKeyring
    assert discovery.calls == 2
    assert keyfind.secret_service_assumed() is False
    config.unlink()
    # PYTHON_KEYRING_BACKEND: keyring loads it, whatever the record says
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "sfcred.testing.keyrings.FailKeyring")
    keyfind.backend()
    assert discovery.calls == 3  # keyring's own choice (here: its env variable)
    assert record()["backend"] == MEMORY  # and the record is left as it was
    # a backend set in this process (keyring.set_keyring) is never replaced
    chosen = MemoryKeyring()
    keyring.set_keyring(chosen)
    monkeypatch.setattr(keyfind, "_loaded", lambda: True)  # the program loaded keyring
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyfind, "_keyring_choice", lambda: keyring.get_keyring())
    assert keyfind.backend() is chosen


@pytest.mark.parametrize("kind", ["chain", "fail", "plaintext"])
def test_a_chain_no_backend_or_a_file_is_never_remembered_and_replaces_the_record(
    discovery: Discovery, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from keyring.backends.chainer import ChainerBackend
    from keyring.backends.fail import Keyring as Fail
    from keyrings.alt.file import PlaintextKeyring

    keyfind.backend()
    # a stale record (an older sfcred remembered a file backend): ignored, and it goes
    path = Path(keyrecord.record_path())
    path.write_text(json.dumps({**record(), "backend": "keyrings.alt.file.PlaintextKeyring"}))
    # a chain headed by a file backend (the Secret Service gone, two file backends left)
    monkeypatch.setattr(ChainerBackend, "backends", [PlaintextKeyring(), MemoryKeyring()])
    discovery.chosen = {"chain": ChainerBackend, "fail": Fail,
                        "plaintext": PlaintextKeyring}[kind]()
    assert keyfind.backend() is discovery.chosen
    assert discovery.calls == 2
    assert not path.exists()


def test_a_chain_headed_by_a_secure_backend_is_that_backend_alone(
    discovery: Discovery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring's choice with keyrings.alt beside a Secret Service is a chain whose writes go
    to the Secret Service: sfcred uses (and remembers) that backend alone, and never reads an
    item from the plaintext file behind it."""
    from keyring.backends.chainer import ChainerBackend
    from keyrings.alt.file import PlaintextKeyring

    head = MemoryKeyring()
    monkeypatch.setattr(ChainerBackend, "backends", [head, PlaintextKeyring()])
    discovery.chosen = ChainerBackend()
    assert keyfind.backend() is head
    assert keyring.get_keyring() is head
    assert record()["backend"] == MEMORY


@pytest.mark.parametrize("named", ["keyrings.alt.file.PlaintextKeyring",
                                   "keyring.backends.fail.Keyring",
                                   "keyring.backends.chainer.ChainerBackend",
                                   "evilmod.Backend"])
def test_a_record_naming_a_backend_off_the_allow_list_is_never_imported(
    discovery: Discovery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str
) -> None:
    """A stale or planted record: not imported, not used; discovery runs and replaces it."""
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "evilmod.py").write_text(
        "import sys\nsys.stdout.write('planted output\\n')\n"
        "from sfcred.testing.keyrings import MemoryKeyring as Backend\n")
    monkeypatch.setattr(sys, "path", [sys.path[0], str(plant), *sys.path[1:]])
    keyfind.backend()
    Path(keyrecord.record_path()).write_text(json.dumps({**record(), "backend": named}))
    assert keyfind.secret_service_assumed() is False
    chosen = keyfind.backend()
    assert discovery.calls == 2
    assert chosen is discovery.chosen
    assert "evilmod" not in sys.modules
    assert record()["backend"] == MEMORY  # replaced by keyring's own choice


@pytest.mark.parametrize("damage", ["garbage", "not a name", "other basis", "open to others",
                                    "not viable"])
def test_a_damaged_foreign_or_unusable_record_means_discovery(discovery: Discovery,
                                                              damage: str) -> None:
    keyfind.backend()
    path = Path(keyrecord.record_path())
    data = record()
    if damage == "garbage":
        path.write_text("{not json")
    elif damage == "not a name":
        path.write_text(json.dumps({**data, "backend": "os.system('x')"}))
    elif damage == "other basis":
        path.write_text(json.dumps({**data, "basis": "0" * 64}))
    elif damage == "open to others":
        path.chmod(0o644)
    else:  # its priority check fails now (its daemon stopped, say)
        path.write_text(json.dumps({**data, "backend": "keyring.backends.macOS.Keyring"}))
    assert type(keyfind.backend()) is MemoryKeyring
    assert discovery.calls == 2


def test_secret_service_is_assumed_only_as_keyring_would_choose_it(
    discovery: Discovery, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keyfind.secret_service_assumed() is False  # no record yet
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", keyfind.SECRET_SERVICE)
    assert keyfind.secret_service_assumed() is True
    monkeypatch.setenv("KEYRING_PROPERTY_SCHEME", "KeePassXC")  # other attribute names
    assert keyfind.secret_service_assumed() is False
    monkeypatch.delenv("KEYRING_PROPERTY_SCHEME")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY)
    assert keyfind.secret_service_assumed() is False
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    keyfind.backend()  # remembers MemoryKeyring
    assert keyfind.secret_service_assumed() is False
    data = record()
    Path(keyrecord.record_path()).write_text(json.dumps({**data,
                                                       "backend": keyfind.SECRET_SERVICE}))
    assert keyfind.secret_service_assumed() is True
    keyrecord.forget()
    assert keyfind.secret_service_assumed() is False


class FakeItem:
    def __init__(self, locked: bool) -> None:
        self.locked, self.session = locked, None

    def is_locked(self) -> bool:
        return self.locked

    def get_secret(self) -> bytes:
        return b"direct"


class FakeCollection:
    def __init__(self, locked: bool) -> None:
        self.item = FakeItem(locked)
        self.connection = self

    def search_items(self, query: dict[str, str]) -> Iterator[FakeItem]:
        assert query == {"username": "profile:a", "service": "svc"}  # the backend's query
        yield self.item

    def close(self) -> None:
        pass


@pytest.mark.parametrize("locked", [False, True])
def test_a_locked_item_is_left_to_keyring(monkeypatch: pytest.MonkeyPatch,
                                          locked: bool) -> None:
    reads = Reads()

    def open_direct() -> bool:
        reads._collection = FakeCollection(locked)
        return True

    monkeypatch.setattr(reads, "_open_direct", open_direct)
    loads: list[int] = []
    memory = MemoryKeyring()
    memory.set_password("svc", "profile:a", "through keyring")

    def backend() -> MemoryKeyring:
        loads.append(1)
        return memory

    got = reads.get(backend, "svc", "profile:a")
    assert (got, bool(loads)) == (("through keyring", True) if locked else ("direct", False))


def test_a_store_given_its_backend_is_never_read_around_it(monkeypatch: pytest.MonkeyPatch,
                                                            keyring_service: str) -> None:
    """The fleet store (or any backend handed to KeyStore) is read through that backend, even
    where keyring's own choice would be the Secret Service."""
    from sfcred.store.keystore import KeyStore

    monkeypatch.setattr(keyfind, "_loaded", lambda: False)  # as in the sfcred command
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", keyfind.SECRET_SERVICE)
    assert keyfind.secret_service_assumed() is True

    def never() -> bool:
        raise AssertionError("read around the given backend")

    monkeypatch.setattr(Reads, "_open_direct", lambda self: never())
    given = MemoryKeyring()
    given.set_password(keyring_service, "profile:a", "from the given backend")
    assert KeyStore(backend=given)._get("profile:a") == "from the given backend"
