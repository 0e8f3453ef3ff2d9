"""``sfcred standin`` from a shell, through the INSTALLED program: the docs' "Quick start
against the stand-in" run line by line exactly as written (in bash), fixed ports that stay
across a restart with what was added replayed, and the control actions' errors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _e2e import new_client_id

pytestmark = [pytest.mark.secret_service]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "standin.md"
SECTION = "## Quick start against the stand-in"


def quick_start() -> str:
    """The shell lines of the docs' quick start: its ```bash blocks, in order, as written."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end != -1 else None]
    blocks = re.findall(r"^```bash\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    return "".join(blocks)


def free_ports(count: int = 3) -> int:
    """A port N with N .. N+count-1 free now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + count > 65535:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + count):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no free ports")


@contextlib.contextmanager
def stopped_after(folder: Path) -> Iterator[None]:
    """Whatever the test does, the stand-in of ``folder`` is not left running."""
    try:
        yield
    finally:
        control = folder / "control.json"
        if control.exists():
            with contextlib.suppress(OSError, ValueError, KeyError):
                os.kill(json.loads(control.read_text())["pid"], signal.SIGTERM)


def test_the_quick_start_runs_exactly_as_written(
        sfcred_env: dict[str, str], tmp_path: Path) -> None:
    script = quick_start()
    assert script.count("sfcred ") >= 10  # the section's lines were found
    assert "sfcred standin --tls &" in script
    folder = tmp_path / "standin"
    env = {**sfcred_env, "SFCRED_STANDIN_DIR": str(folder),
           "SFCRED_STANDIN_PORT": str(free_ports())}
    work = tmp_path / "work"
    work.mkdir()
    with stopped_after(folder):
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=env,
                              cwd=work, capture_output=True, text=True, timeout=240,
                              stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"My Domain: https://127.0.0.1:{env['SFCRED_STANDIN_PORT']}" in done.stdout
    token = next(json.loads(line) for line in done.stdout.splitlines()
                 if line.startswith('{"access_token"'))
    assert token["profile"] == "demo"
    assert token["instance_url"].startswith("https://127.0.0.1:")
    assert '"preferred_username":"me@example.com"' in done.stdout.replace(" ", "")
    assert "step 4/4: the new key is active" in done.stderr
    assert "removed profile demo" in done.stderr
    assert not (folder / "control.json").exists()  # stopped by the last line
    assert (work / "demo.crt").is_file()


def _standin(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(["sfcred", "standin", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def _urls(run_sfcred, env: dict[str, str]) -> dict[str, str]:
    shown = run_sfcred("standin", "env", env=env)
    assert shown.returncode == 0, shown.stderr
    pairs = (line.removeprefix("export ").split("=", 1) for line in shown.stdout.splitlines())
    return dict(pairs)


def test_fixed_ports_and_what_was_added_survive_a_restart(
        run_sfcred, sfcred_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "standin"
    port = free_ports()
    env = {**sfcred_env, "SFCRED_STANDIN_DIR": str(folder)}
    client_id = new_client_id()
    with stopped_after(folder):
        first = _standin(env, "--port", str(port), "--tls")
        before = _urls(run_sfcred, env)
        assert before["SFCRED_STANDIN_URL"] == f"https://127.0.0.1:{port}"
        assert before["SFCRED_STANDIN_LOGIN_URL"] == f"https://127.0.0.1:{port + 1}"
        assert before["SSL_CERT_FILE"] == str(folder / "ca.pem")
        trust = {k: before[k] for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
        added = run_sfcred("profile", "add", "acme", "--client-id", client_id, "--username",
                           "me@example.com", "--login-url", before["SFCRED_STANDIN_URL"],
                           "--generate-key", "--cert-out", str(tmp_path / "acme.crt"))
        assert added.returncode == 0, added.stderr
        for action in (["add-app", client_id, "--cert", str(tmp_path / "acme.crt")],
                       ["add-user", "me@example.com", "--preauthorize", client_id]):
            done = run_sfcred("standin", *action, env=env)
            assert done.returncode == 0, done.stderr
        assert run_sfcred("get", "-p", "acme", env=trust).returncode == 0
        ca = (folder / "ca.pem").read_bytes()
        assert run_sfcred("standin", "stop", env=env).returncode == 0
        assert first.wait(20) == 0
        assert first.stderr is not None
        assert first.stderr.read() == ""  # quiet: no request log

        second = _standin(env, "--port", str(port), "--tls")
        after = _urls(run_sfcred, env)
        assert after == before  # the same URLs and the same CA file
        assert (folder / "ca.pem").read_bytes() == ca  # clients that trust it keep trusting
        assert run_sfcred("erase", "-p", "acme").returncode == 0
        minted = run_sfcred("get", "-p", "acme", "--format", "json", env=trust)
        assert minted.returncode == 0, minted.stderr  # the app and user were replayed
        status = json.loads(run_sfcred("standin", "status", env=env).stdout)
        assert client_id in status["apps"]

        busy = run_sfcred("standin", "--port", str(port), env=env, timeout=30)
        assert busy.returncode == 1
        assert "already runs" in busy.stderr
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    assert not (folder / "control.json").exists()


def test_actions_say_what_is_wrong(run_sfcred, sfcred_env: dict[str, str],
                                   tmp_path: Path) -> None:
    folder = tmp_path / "standin"
    env = {**sfcred_env, "SFCRED_STANDIN_DIR": str(folder)}
    started = time.monotonic()
    nobody = run_sfcred("standin", "status", env=env, timeout=60)
    assert nobody.returncode == 1
    assert "no stand-in answers" in nobody.stderr
    assert time.monotonic() - started < 40
    with stopped_after(folder):
        proc = _standin(env, "--port", "0")
        _urls(run_sfcred, env)
        unknown = run_sfcred("standin", "add-user", "u@example.com", "--preauthorize", "nope",
                             env=env)
        assert unknown.returncode == 1
        assert "no app with client id 'nope'" in unknown.stderr
        bad = run_sfcred("standin", "grant", "u@example.com", "everything", env=env)
        assert bad.returncode == 1
        assert "unknown permission 'everything'" in bad.stderr
        assert run_sfcred("standin", "stop", env=env).returncode == 0
        assert proc.wait(20) == 0


def test_the_browser_user_decides_what_authorize_gets(
        run_sfcred, sfcred_bin, sfcred_env: dict[str, str], tmp_path: Path) -> None:
    """``sfcred authorize`` against a stand-in driven from the shell: the app's callback and
    secret given to add-app, the browser user denying, then approving."""
    from _authorize import CLIENT_SECRET, URL_RE, browse, free_port

    folder = tmp_path / "standin"
    env = {**sfcred_env, "SFCRED_STANDIN_DIR": str(folder)}
    client_id, port = new_client_id(), free_port()
    with stopped_after(folder):
        proc = _standin(env, "--port", "0")
        url = _urls(run_sfcred, env)["SFCRED_STANDIN_URL"]
        added = run_sfcred("profile", "add", "acme", "--client-id", client_id, "--username",
                           "me@example.com", "--login-url", url, "--generate-key",
                           "--cert-out", str(tmp_path / "acme.crt"))
        assert added.returncode == 0, added.stderr
        for action in (["add-app", client_id, "--cert", str(tmp_path / "acme.crt"), "--secret",
                        CLIENT_SECRET, "--callback", f"http://localhost:{port}/OauthRedirect"],
                       ["add-user", "me@example.com"],
                       ["browser-user", "me@example.com", "--deny"]):
            done = run_sfcred("standin", *action, env=env)
            assert done.returncode == 0, done.stderr
        refused = run_sfcred("get", "-p", "acme")
        assert refused.returncode == 3  # not approved, not pre-authorized
        assert "hasn't approved" in refused.stderr

        def authorize() -> subprocess.CompletedProcess[str]:
            argv = [*sfcred_bin, "authorize", "acme", "--no-browser", "--port", str(port),
                    "--client-secret-stdin"]
            running = subprocess.Popen(argv, env=sfcred_env, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, cwd=tmp_path)
            assert running.stdin is not None
            running.stdin.write(CLIENT_SECRET + "\n")
            running.stdin.close()
            assert running.stderr is not None
            seen = ""
            for line in running.stderr:
                seen += line
                found = URL_RE.search(line)
                if found:
                    browse(found.group(1))
                    break
            assert running.stdout is not None
            rest = running.stderr.read()
            out = running.stdout.read()
            return subprocess.CompletedProcess(argv, running.wait(60), out, seen + rest)

        denied = authorize()
        assert denied.returncode != 0
        assert "denied" in denied.stderr.lower()
        assert run_sfcred("standin", "browser-user", "me@example.com", env=env).returncode == 0
        approved = authorize()
        assert approved.returncode == 0, approved.stderr
        assert run_sfcred("get", "-p", "acme").returncode == 0
        assert run_sfcred("standin", "stop", env=env).returncode == 0
        assert proc.wait(20) == 0


def test_a_client_credentials_app_from_the_shell(run_sfcred, sfcred_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    """add-app --run-as: the client credentials flow on, with its Run As user; a profile of
    that grant then gets tokens acting as that user, its secret given on stdin."""
    folder = tmp_path / "standin"
    env = {**sfcred_env, "SFCRED_STANDIN_DIR": str(folder)}
    client_id = new_client_id()
    with stopped_after(folder):
        proc = _standin(env, "--port", "0")
        urls = _urls(run_sfcred, env)
        added = run_sfcred("standin", "add-app", client_id, "--run-as", "runas@example.com",
                           env=env)
        assert added.returncode == 0, added.stderr
        secret = added.stderr.rsplit("consumer secret ", 1)[1].split()[0]
        made = run_sfcred("profile", "add", "cc", "--grant", "client-credentials",
                          "--client-id", client_id, "--client-secret-stdin", "--login-url",
                          urls["SFCRED_STANDIN_URL"], input=secret + "\n")
        assert made.returncode == 0, made.stderr
        got = run_sfcred("get", "-p", "cc", "--format", "json")
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout)["username"] == "runas@example.com"
        neither = run_sfcred("standin", "add-app", new_client_id(), env=env)
        assert neither.returncode == 1
        assert "--cert PATH (JWT bearer) or --run-as USERNAME" in neither.stderr
        assert run_sfcred("standin", "stop", env=env).returncode == 0
        assert proc.wait(20) == 0
