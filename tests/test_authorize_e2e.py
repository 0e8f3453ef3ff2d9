"""`sfcred authorize`: the one-time browser approval that cures "user hasn't approved this
consumer", driven against the stand-in.

The end-to-end tests: the installed program, the real Secret Service, real clients (the
in-process ones are in test_authorize.py).
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _authorize import CLIENT_SECRET, URL_RE, browse, free_port
from _e2e import Org, setup_org

from sfcred.testing.server import FakeSalesforce


class Authorizing:
    """A running `sfcred authorize ... --no-browser`; stderr is read line by line."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, stdin: str | None) -> None:
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, text=True, encoding="utf-8",
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        if stdin is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def url(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            found = URL_RE.search(line)
            if found:
                return found.group(1)
        raise AssertionError("no authorize URL on stderr:\n" + "".join(self.stderr))

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc, out, "".join(self.stderr)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def start(sfcred_bin: list[str], sfcred_env: dict[str, str]) -> Iterator[Any]:
    running: list[Authorizing] = []

    def start(name: str, *args: str, stdin: str | None = None) -> Authorizing:
        argv = [*sfcred_bin, "authorize", name, "--no-browser", *args]
        a = Authorizing(argv, sfcred_env, sfcred_env["HOME"], stdin)
        running.append(a)
        return a

    yield start
    for a in running:
        a.kill()


def unapproved_org(run: Any, sf: FakeSalesforce, tmp_path: Path, port: int, **app: Any) -> Org:
    callbacks = [f"http://localhost:{port}/OauthRedirect"]
    org = setup_org(run, sf, tmp_path, "acme", preauthorize=False,
                    app={"require_secret": False, "callback_urls": callbacks, **app})
    sf.browser_user = org.username
    return org


def test_unapproved_user_is_explained_then_fixed_by_authorize(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, start: Any
) -> None:
    port = free_port()
    org = unapproved_org(run_sfcred, standin, tmp_path, port)

    refused = run_sfcred("get", "-p", "acme")
    assert refused.returncode == 3, refused.stderr
    assert refused.stdout == ""
    assert "user hasn't approved this consumer" in refused.stderr
    assert "cause: this user has neither been pre-authorized" in refused.stderr
    fix = next(line for line in refused.stderr.splitlines() if line.startswith("sfcred: fix:"))
    assert "Admin approved users are pre-authorized" in fix
    assert "`sfcred authorize acme`" in fix

    running = start("acme", "--port", str(port))
    url = running.url()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{org.sf.url}/services/oauth2/authorize?")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [org.client_id]
    assert query["redirect_uri"] == [f"http://localhost:{port}/OauthRedirect"]
    assert query["scope"] == ["api refresh_token"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32
    assert "%20" in url  # scope's space, as Salesforce's docs write it

    first = httpx.get(url, follow_redirects=False, timeout=10)
    location = first.headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    page = httpx.get(location, timeout=60)
    assert page.status_code == 200
    assert "You can close this window" in page.text
    rc, out, err = running.finish()
    assert rc == 0, err
    assert out == ""
    assert "callback URL" in err
    assert f"http://localhost:{port}/OauthRedirect" in err
    assert f"✓ approved: the JWT bearer flow now works for {org.username}" in err
    assert code not in err

    got = run_sfcred("get", "-p", "acme", "--format", "json")
    assert got.returncode == 0, got.stderr
    assert org.sf.valid_token(json.loads(got.stdout)["access_token"])
    doctor = run_sfcred("doctor", "acme")
    assert doctor.returncode == 0, doctor.stdout


def test_other_paths_get_404_and_a_stateless_callback_is_refused_without_ending_the_wait(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, start: Any
) -> None:
    port = free_port()
    unapproved_org(run_sfcred, standin, tmp_path, port)
    running = start("acme", "--port", str(port))
    url = running.url()
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/favicon.ico", timeout=10).status_code == 404
    assert httpx.get(f"{base}/", timeout=10).status_code == 404
    assert httpx.get(f"{base}/OauthRedirect?code=abc", timeout=10).status_code == 400
    assert httpx.get(f"{base}/OauthRedirect", timeout=10).status_code == 400
    assert httpx.post(f"{base}/OauthRedirect?state=x&code=y", timeout=10).status_code == 405
    assert running.proc.poll() is None  # still waiting
    assert browse(url).status_code == 200
    rc, _, err = running.finish()
    assert rc == 0, err


def test_denied_consent_exits_3_and_says_why(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, start: Any
) -> None:
    port = free_port()
    unapproved_org(run_sfcred, standin, tmp_path, port)
    standin.consent = "deny"
    running = start("acme", "--port", str(port))
    page = browse(running.url())
    assert page.status_code == 400
    assert "access_denied" in page.text
    assert "You can close this window" in page.text
    rc, out, err = running.finish()
    assert (rc, out) == (3, "")
    assert "access_denied" in err
    assert "sfcred authorize acme" in err
    assert run_sfcred("get", "-p", "acme").returncode == 3


def test_a_forged_state_is_refused_and_the_real_answer_still_counts(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, start: Any
) -> None:
    """Any local process can call the callback port: a callback with another state must not
    cancel the approval in progress (0.1 used up its one callback on it)."""
    port = free_port()
    unapproved_org(run_sfcred, standin, tmp_path, port)
    running = start("acme", "--port", str(port))
    url = running.url()
    for forged in ("code=forged&state=wrong", "error=access_denied&state=wrong"):
        page = httpx.get(f"http://localhost:{port}/OauthRedirect?{forged}", timeout=10)
        assert page.status_code == 400
        assert "another login attempt" in page.text
    assert running.proc.poll() is None  # still waiting for the real answer
    assert not any(path == "/services/oauth2/token" for _, _, path in standin.requests)
    assert browse(url).status_code == 200
    rc, _, err = running.finish()
    assert rc == 0, err
    assert "✓ approved" in err


def test_busy_port_exits_1_at_once(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        unapproved_org(run_sfcred, standin, tmp_path, port)
        done = run_sfcred("authorize", "acme", "--no-browser", "--port", str(port), timeout=30)
    assert done.returncode == 1
    assert f"port {port}" in done.stderr
    assert "in use" in done.stderr
    assert "--port" in done.stderr
    assert "/services/oauth2/authorize" not in done.stderr  # nothing to open without a callback
    assert "no answer from the browser" not in done.stderr  # it failed at once, never waited


def test_timeout_exits_1_with_a_hint(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path
) -> None:
    port = free_port()
    unapproved_org(run_sfcred, standin, tmp_path, port)
    started = time.monotonic()
    done = run_sfcred("authorize", "acme", "--no-browser", "--port", str(port), "--timeout", "2")
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert "no answer from the browser within 2 s" in done.stderr
    assert "callback URLs" in done.stderr
    assert 2 <= elapsed < 15


def test_client_secret_from_stdin_for_an_app_that_requires_one(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, start: Any
) -> None:
    port = free_port()
    org = unapproved_org(run_sfcred, standin, tmp_path, port, require_secret=True,
                         client_secret=CLIENT_SECRET)
    # Without the secret: the exchange is refused, and the fix says how to pass it.
    running = start("acme", "--port", str(port))
    assert browse(running.url()).status_code == 502
    rc, _, err = running.finish()
    assert rc == 3
    assert "invalid_client" in err
    assert "--client-secret-stdin" in err
    # With it:
    running = start("acme", "--port", str(port), "--client-secret-stdin",
                    stdin=CLIENT_SECRET + "\n")
    assert browse(running.url()).status_code == 200
    rc, out, err = running.finish()
    assert rc == 0, err
    assert CLIENT_SECRET not in out + err
    assert f"works for {org.username}" in err


def test_approval_by_another_user_is_named(
    secret_service: Any, run_sfcred: Any, standin: FakeSalesforce, tmp_path: Path, start: Any
) -> None:
    port = free_port()
    unapproved_org(run_sfcred, standin, tmp_path, port)
    standin.add_user("someone.else@example.com")
    standin.browser_user = "someone.else@example.com"
    running = start("acme", "--port", str(port))
    page = browse(running.url())
    assert "someone.else@example.com" in page.text
    rc, _, err = running.finish()
    assert rc == 1
    assert "approved the app as someone.else@example.com" in err
    assert "log out" in err
