"""Real ``git`` against a server that is not Salesforce: it must never receive the token.

The outside review's finding: with the README's unscoped ``credential.helper = "sfcred -p
prod"``, ``git ls-remote`` against an unrelated server that answers 401 got ``Authorization:
Basic <username>:<access token>``. Here a loopback HTTP server on another port answers every
request with 401 and records every Authorization header; git runs against it with sfcred
configured globally in the three ways users configure it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _e2e import Org, setup_org

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.authorizations: list[str] = []
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if "Authorization" in self.headers:
            self.server.authorizations.append(self.headers["Authorization"])
        body = b"authentication required\n"
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="not salesforce"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def foreign() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def ls_remote(
    url: str, helper: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "credential.helper=", "-c", f"credential.helper={helper}",
         "ls-remote", f"{url}/repo.git"],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=60, check=False,
    )  # fmt: skip


def basic_secrets(headers: list[str]) -> list[str]:
    out = []
    for header in headers:
        scheme, _, value = header.partition(" ")
        assert scheme == "Basic", header
        out.append(base64.b64decode(value).decode())
    return out


@pytest.fixture
def git_env(sfcred_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    env = dict(sfcred_env)
    trace = tmp_path / "git-trace"
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_TRACE=str(trace))
    for name in ("GIT_ASKPASS", "SSH_ASKPASS"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize(
    ("helper", "extra"),
    [("sfcred", {}), ("sfcred -p acme", {}), ("sfcred", {"SFCRED_PROFILE": "acme"})],
    ids=["host routing", "pinned -p acme", "SFCRED_PROFILE"],
)
def test_a_foreign_server_answering_401_never_receives_the_token(
    git_env: dict[str, str], foreign: Recorder, org: Org, tmp_path: Path,
    helper: str, extra: dict[str, str],
) -> None:
    token = org.sf  # the stand-in: a token minted for acme would be valid there
    env = {**git_env, **extra}
    done = ls_remote(foreign.url, helper, env, tmp_path)
    assert done.returncode != 0  # nobody answered, prompts are off: git gives up
    assert foreign.paths, "git never reached the foreign server"
    assert basic_secrets(foreign.authorizations) == []  # no credentials were sent at all
    assert "sfcred" not in done.stderr  # and sfcred said nothing on git's stderr
    trace = Path(env["GIT_TRACE"]).read_text()
    assert "credential-sfcred" in trace  # sfcred was asked, and declined
    assert " get" in trace
    assert token.token_requests == 0  # nothing was even minted


def test_the_recorder_sees_credentials_when_a_helper_gives_them(
    git_env: dict[str, str], foreign: Recorder, tmp_path: Path
) -> None:
    """The check above has teeth: a helper that answers makes git send its password."""
    helper = "!f() { echo username=someone; echo password=CONTROL-PASSWORD; }; f"
    done = ls_remote(foreign.url, helper, git_env, tmp_path)
    assert done.returncode != 0
    assert basic_secrets(foreign.authorizations) == ["someone:CONTROL-PASSWORD"]


def test_a_scoped_helper_serves_only_its_url(
    git_env: dict[str, str], foreign: Recorder, org: Org, tmp_path: Path
) -> None:
    """The README's recommended form: the helper configured for the org's URL only."""
    env = {**git_env, "GIT_CONFIG_COUNT": "1",
           "GIT_CONFIG_KEY_0": f"credential.{org.sf.url}.helper", "GIT_CONFIG_VALUE_0": "sfcred"}
    fill = subprocess.run(["git", "credential", "fill"], input=f"url={org.sf.url}\n\n",
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
                          check=False)
    assert fill.returncode == 0, fill.stderr
    assert "password=" in fill.stdout
    done = subprocess.run(["git", "ls-remote", f"{foreign.url}/repo.git"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    assert done.returncode != 0
    assert foreign.authorizations == []
    assert org.sf.token_requests == 1
