"""Everyday use through the INSTALLED program and the real Secret Service: ``profile set``,
``profile remove``'s question at a real terminal (a pty), "did you mean", ``exec --env``,
``--verbose`` / ``SFCRED_TRACE=1`` (with a sentinel in every token, never in the trace), and
the ``rotate --deploy`` wait on a terminal and off one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest
from _e2e import USERNAME, parse_git, setup_deploy_org, setup_org

from sfcred.testing.server import FakeSalesforce

pytestmark = [pytest.mark.secret_service]


class Pty:
    """The installed sfcred with a pty as its stdin and stderr (a person at a terminal)."""

    def __init__(self, argv: list[str], env: dict[str, str], stdin_tty: bool = True) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave if stdin_tty else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=slave, env=env, cwd=env["HOME"], close_fds=True)
        os.close(slave)
        self.seen = b""

    def read_until(self, marker: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                self.seen += chunk
        return self.seen

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout)
        self.read_until(b"\0", timeout=0.5)  # whatever is left
        os.close(self.master)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


def test_profile_set_edits_one_setting_and_get_keeps_working(
        run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme")
    first = run_sfcred("get", "-p", "acme", "--format", "token")
    assert first.returncode == 0, first.stderr
    done = run_sfcred("profile", "set", "acme", "--token-ttl", "1800")
    assert done.returncode == 0, done.stderr
    assert "updated profile acme: token_ttl 900 -> 1800" in done.stderr
    assert done.stdout == ""
    show = run_sfcred("profile", "show", "acme", "--json")
    assert '"token_ttl": 1800' in show.stdout
    again = run_sfcred("get", "-p", "acme", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert first.stdout.strip() not in again.stdout  # the old settings' token was dropped
    bad = run_sfcred("profile", "set", "acme", "--token-ttl", "5")
    assert bad.returncode == 1
    assert "--token-ttl" in bad.stderr
    assert '"token_ttl": 1800' in run_sfcred("profile", "show", "acme", "--json").stdout


def test_remove_asks_at_a_terminal_and_refuses_without_one(
        run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme")
    started = time.monotonic()
    piped = run_sfcred("profile", "remove", "acme", timeout=20)
    assert time.monotonic() - started < 15
    assert piped.returncode == 2
    assert "only copy" in piped.stderr
    assert "--yes" in piped.stderr
    assert run_sfcred("profile", "show", "acme").returncode == 0

    no = Pty([*sfcred_bin, "profile", "remove", "acme"], sfcred_env)
    assert b"Remove the profile? [y/N]" in no.read_until(b"[y/N]")
    os.write(no.master, b"n\n")
    assert no.finish() == 1
    assert b"kept: nothing removed" in no.seen
    assert run_sfcred("profile", "show", "acme").returncode == 0

    yes = Pty([*sfcred_bin, "profile", "remove", "acme"], sfcred_env)
    yes.read_until(b"[y/N]")
    os.write(yes.master, b"y\n")
    assert yes.finish() == 0
    assert b"removed profile acme" in yes.seen
    assert run_sfcred("profile", "show", "acme").returncode == 1

    setup_org(run_sfcred, standin, tmp_path, "acme")
    assert run_sfcred("profile", "remove", "acme", "--yes").returncode == 0


def test_a_mistyped_profile_name_gets_a_suggestion(
        run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> None:
    setup_org(run_sfcred, standin, tmp_path, "production")
    for argv in (["get", "-p", "prodution"], ["exec", "-p", "prodution", "--", "true"],
                 ["profile", "show", "prodcution"], ["rotate", "prodution", "--abort"]):
        done = run_sfcred(*argv)
        assert done.returncode == 1, argv
        assert "did you mean 'production'?" in done.stderr, (argv, done.stderr)


def test_exec_env_sets_only_the_variables_named(
        run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> None:
    setup_org(run_sfcred, standin, tmp_path, "acme")
    script = 'printf "%s|%s|%s|%s" "$TOKEN" "$URL" "$WHO" "${SF_ACCESS_TOKEN-unset}"'
    done = run_sfcred("exec", "-p", "acme", "--env", "TOKEN=access_token",
                      "--env", "URL=instance_url", "--env", "WHO=username", "--",
                      "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    token, url, who, default = done.stdout.split("|")
    assert standin.valid_token(token)
    assert (url, who, default) == (standin.url, USERNAME, "unset")
    plain = run_sfcred("exec", "-p", "acme", "--", "sh", "-c", 'printf %s "$SF_TARGET_ORG"')
    assert plain.stdout == token  # the six stay the default (the cached token)
    bad = run_sfcred("exec", "-p", "acme", "--env", "TOKEN=secret", "--", "true")
    assert bad.returncode == 2
    assert "FIELD is one of" in bad.stderr


def test_the_trace_says_what_happened_and_never_a_secret(
        run_sfcred, standin: FakeSalesforce, tmp_path: Path, sentinel_secret: str) -> None:
    standin.state.token_suffix = sentinel_secret  # every token the org issues holds it
    setup_org(run_sfcred, standin, tmp_path, "acme")
    trace = {"SFCRED_TRACE": "1"}
    standin.fail_next("503")
    cold = run_sfcred("get", "-p", "acme", env=trace)
    assert cold.returncode == 0, cold.stderr
    assert sentinel_secret in parse_git(cold.stdout)["password"]  # the sentinel is real
    lines = cold.stderr.splitlines()
    assert "sfcred: trace: profile acme: named by -p" in lines
    assert any(line.startswith("sfcred: trace: cache: miss: no token cached") for line in lines)
    token_url = f"{standin.url}/services/oauth2/token"
    assert f"sfcred: trace: POST {token_url}: HTTP 503" in lines
    assert any("try 1: HTTP 503; retrying in" in line for line in lines)
    assert f"sfcred: trace: POST {token_url}: HTTP 200" in lines

    warm = run_sfcred("get", "-p", "acme", "--verbose")
    assert "cache: hit: fresh, expires in" in warm.stderr
    host = run_sfcred("get", input=f"protocol=http\nhost={standin.url.split('//')[1]}\n\n",
                      env=trace)
    assert "the only profile whose login or instance host is" in host.stderr
    execd = run_sfcred("exec", "-p", "acme", "--verbose", "--", "true")
    assert "trace: exec: set SF_ACCESS_TOKEN" in execd.stderr
    quiet = run_sfcred("get", "-p", "acme")
    assert quiet.stderr == ""  # off unless asked
    everything = cold.stderr + warm.stderr + host.stderr + execd.stderr
    assert sentinel_secret not in everything
    for token in standin.session_tokens():
        assert token not in everything
    assert "PRIVATE KEY" not in everything
    assert "assertion" not in everything.lower()


def test_the_deploy_wait_is_a_line_per_poll_off_a_terminal(
        run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> None:
    setup_deploy_org(run_sfcred, standin, tmp_path)
    standin.propagation_delay = 4
    done = run_sfcred("rotate", "acme", "--deploy", "--app", "Acme_Sync", "--wait", "60",
                      timeout=120)
    assert done.returncode == 0, done.stderr
    waits = [line for line in done.stderr.splitlines() if "waiting for Salesforce" in line]
    assert len(waits) >= 2, done.stderr
    assert all("s elapsed, " in line and " s left" in line for line in waits)
    assert "\r" not in done.stderr


def test_the_deploy_wait_rewrites_one_line_on_a_terminal(
        run_sfcred, sfcred_bin, sfcred_env, standin: FakeSalesforce, tmp_path: Path) -> None:
    setup_deploy_org(run_sfcred, standin, tmp_path)
    standin.propagation_delay = 4
    term = Pty([*sfcred_bin, "rotate", "acme", "--deploy", "--app", "Acme_Sync", "--wait",
                "60"], sfcred_env, stdin_tty=False)
    term.read_until(b"step 4/4", timeout=90)
    assert term.finish() == 0, term.seen
    text = term.seen.decode()
    waits = text.count("waiting for Salesforce")
    assert waits >= 2, text
    # Each new state goes back to the start of the same line; the next step starts a new one.
    assert text.count("\rsfcred: step 3/4: waiting for Salesforce") == waits
    wait_line = text[text.index("\rsfcred: step 3/4: waiting"):text.index("step 4/4")]
    assert "\n" in wait_line  # ended before the next step's line
    assert wait_line.count("\n") <= 2  # one line on screen however many polls (pty: \r\n)
