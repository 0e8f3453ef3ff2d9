"""Helpers for the end-to-end tests: a profile made through the installed ``sfcred`` and the
matching connected app, user and approval at the Salesforce stand-in.

Plain functions (no fixtures), imported as ``from _e2e import ...`` like ``_support``.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from sfcred.testing.server import FakeSalesforce

Run = Callable[..., subprocess.CompletedProcess[str]]
USERNAME = "integration@example.com"


@dataclass(frozen=True)
class Org:
    """A profile added with ``sfcred profile add`` and the stand-in set up to accept it."""

    sf: FakeSalesforce
    name: str
    client_id: str
    username: str
    cert_pem: str
    added: subprocess.CompletedProcess[str]

    @property
    def host(self) -> str:
        """The instance host (host:port) as git would send it."""
        return urlsplit(self.sf.url).netloc


def new_client_id() -> str:
    return "3MVG9" + secrets.token_hex(20)


def add_profile(
    run: Run,
    sf: FakeSalesforce,
    tmp_path: Path,
    name: str = "acme",
    *,
    client_id: str | None = None,
    username: str = USERNAME,
    login_url: str | None = None,
    key_file: Path | None = None,
    extra: Sequence[str] = (),
    check: bool = True,
    input: str | None = None,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``sfcred profile add NAME ... --cert-out PATH``; returns the run and the cert path."""
    cert_out = tmp_path / f"{name}-{secrets.token_hex(3)}.crt"
    args = [
        "profile", "add", name,
        "--client-id", client_id or new_client_id(),
        "--username", username,
        "--login-url", login_url or sf.url,
        "--cert-out", str(cert_out),
    ]  # fmt: skip
    args += ["--key-file", str(key_file)] if key_file is not None else ["--generate-key"]
    args += list(extra)
    done = run(*args, input=input)
    if check:
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""
    return done, cert_out


def setup_org(
    run: Run,
    sf: FakeSalesforce,
    tmp_path: Path,
    name: str = "acme",
    *,
    username: str = USERNAME,
    preauthorize: bool = True,
    app: dict[str, Any] | None = None,
    extra: Sequence[str] = (),
    login_url: str | None = None,
    key_file: Path | None = None,
    client_id: str | None = None,
) -> Org:
    """A profile with a generated (or given) key whose certificate is uploaded to a new app
    (or, given ``client_id`` of an existing app, uploaded again to it)."""
    client_id = client_id or new_client_id()
    added, cert_out = add_profile(
        run, sf, tmp_path, name, client_id=client_id, username=username,
        login_url=login_url, key_file=key_file, extra=extra,
    )  # fmt: skip
    cert_pem = cert_out.read_text(encoding="ascii")
    assert "PRIVATE" not in cert_pem
    sf.add_app(client_id, cert_pem, **(app or {}))
    sf.add_user(username)
    if preauthorize:
        sf.preauthorize(client_id, username)
    return Org(sf, name, client_id, username, cert_pem, added)


def parse_git(text: str) -> dict[str, str]:
    """key=value lines into a dict (later keys win, like git); asserts every line has '='."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line!r}"
        out[key] = value
    return out


def get_json(
    run: Run, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    done = run("get", "--format", "json", *args, input=input, env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert isinstance(data, dict)
    return data


def userinfo(instance_url: str, token: str, verify: Any = True) -> httpx.Response:
    return httpx.get(
        f"{instance_url}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {token}"},
        verify=verify,
        timeout=10,
    )


def fleet_machine(tmp_path: Path, name: str, fleet: dict[str, str]) -> dict[str, str]:
    """The environment of one simulated machine of a fleet: its own HOME and XDG folders
    (the runtime one its local token cache), the fleet's store, no OS keyring."""
    root = tmp_path / name
    env = dict(fleet)
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime"),
                     ("XDG_DATA_HOME", "data")):
        (root / sub).mkdir(parents=True, mode=0o700)
        env[var] = str(root / sub)
    return env


DEPLOY_APP = "Acme_Sync"


def setup_deploy_org(run: Run, sf: FakeSalesforce, tmp_path: Path) -> Org:
    """Profile ``acme`` whose app ``DEPLOY_APP`` its user may change through the Metadata API
    (``rotate --deploy``)."""
    made = setup_org(run, sf, tmp_path, "acme", app={"full_name": DEPLOY_APP})
    sf.grant_metadata(USERNAME)
    return made


def on_terminal(argv: Sequence[str], env: dict[str, str], prompt: bytes,
                answer: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """Run ``argv`` on a pseudo-terminal, type ``answer`` (and Enter) once ``prompt`` shows,
    and return the exit code and everything the terminal showed (what was typed included,
    if it was echoed)."""
    import os
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the program on the terminal
        os.execvpe(argv[0], list(argv), env)  # noqa: S606  # argv, no shell
    seen, sent, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not sent and prompt in seen:
            os.write(fd, answer + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert sent, seen
    return os.waitstatus_to_exitcode(status), seen


@dataclass
class Loop:
    """One loop of "erase; get": its environment, and each get as (start, end, exit code,
    stdout, stderr)."""

    env: dict[str, str]
    private: bool  # a token cache (and lock) of its own: every get mints
    gets: list[tuple[float, float, int, str, str]] = field(default_factory=list)


def get_loops_across(change: Callable[[], None], *, loops: int, profile: str,
                     sfcred_bin: Sequence[str], env: dict[str, str], tmp_path: Path,
                     wait: float) -> tuple[list[Loop], float]:
    """``loops`` loops of "erase; get -p PROFILE" through the installed sfcred: the even ones
    share the user's token cache (single flight), the odd ones have one of their own, so each
    of their gets mints. Once every loop has got a token, ``change()`` (at Salesforce, say);
    then on until every loop has got two more. Returns the loops and when the change was
    made; fails when a stage takes over ``wait`` seconds."""
    import threading
    import time

    from sfcred.tokens.cache import TokenCache

    runs = []
    for i in range(loops):
        loop_env = dict(env)
        if i % 2:
            runtime = tmp_path / f"runtime-{i}"
            runtime.mkdir(mode=0o700)
            loop_env["XDG_RUNTIME_DIR"] = str(runtime)
        runs.append(Loop(loop_env, private=bool(i % 2)))
    stop = threading.Event()

    def work(loop: Loop) -> None:
        cache = TokenCache(Path(loop.env["XDG_RUNTIME_DIR"], "sfcred"))
        while not stop.is_set():
            t0 = time.monotonic()
            cache.drop(profile)  # what `sfcred erase` does, without a process per erase
            got = subprocess.run([*sfcred_bin, "get", "-p", profile, "--format", "token"],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 env=loop.env, timeout=60, check=False)
            loop.gets.append((t0, time.monotonic(), got.returncode, got.stdout, got.stderr))

    def wait_until(ok: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + wait
        while not ok():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)

    threads = [threading.Thread(target=work, args=(lp,), daemon=True) for lp in runs]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: all(lp.gets for lp in runs), "every loop to get once")
        changed = time.monotonic()
        change()
        wait_until(lambda: all(sum(g[0] > changed for g in lp.gets) >= 2 for lp in runs),
                   "every loop to get twice after the change")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=90)
    return runs, changed
