"""git's helper battery, run against ``git-credential-sfcred`` through the real ``git``.

The cases are those of ``t/lib-credential.sh`` in git's source tree (``helper_test``,
``helper_test_timeout``, ``helper_test_password_expiry_utc``, ``helper_test_oauth_refresh_token``),
as ``t/t0303-credential-external.sh`` drives them: ``git credential fill|approve|reject`` with
the helper configured, an askpass that answers ``askpass-username`` / ``askpass-password`` and
says so on stderr, and exact expectations for stdout and stderr. They are re-stated here as
data (the cases, not git's shell code), and run in the three ways sfcred is configured:
host routing (``credential.helper = sfcred``), a pinned profile (``sfcred -p acme``) and
``SFCRED_PROFILE=acme``. A profile ``acme`` exists in every run, so a pinned profile is really
pinned: it must still answer nothing for hosts it does not own.

sfcred mints; it does not store. The cases that approve a password and then expect ``fill``
to return it are expected to differ (``STORE_THEN_GET``, each with its reason). Every other
case must pass. Then come sfcred's own cases on the host it serves.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from _e2e import Org, parse_git, setup_org

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

ASKPASS = """#!/bin/sh
echo >&2 askpass: $*
what=$(echo $1 | cut -d" " -f1 | tr A-Z a-z | tr -cd a-z)
echo "askpass-$what"
"""


@dataclass(frozen=True)
class Step:
    action: str  # fill | approve | reject
    stdin: str
    stdout: str = ""
    stderr: str = ""
    config: tuple[str, ...] = ()


def fill(stdin: str, stdout: str, stderr: str = "", config: tuple[str, ...] = ()) -> Step:
    return Step("fill", stdin, stdout, stderr, config)


def approve(stdin: str, config: tuple[str, ...] = ()) -> Step:
    return Step("approve", stdin, config=config)


def reject(stdin: str) -> Step:
    return Step("reject", stdin)


def asked(url: str, user: str | None = None) -> str:
    """askpass's stderr lines for a URL (both prompts, or the password one for a user)."""
    scheme, rest = url.split("://", 1)
    lines = [] if user else [f"askpass: Username for '{url}':"]
    lines.append(f"askpass: Password for '{scheme}://{user or 'askpass-username'}@{rest}':")
    return "\n".join(lines)


ASKED_PASSWORD = "askpass-password"


def creds(proto: str, host: str, user: str = "askpass-username",
          password: str = ASKED_PASSWORD, path: str | None = None) -> str:
    lines = [f"protocol={proto}", f"host={host}"]
    if path:
        lines.append(f"path={path}")
    return "\n".join([*lines, f"username={user}", f"password={password}"])


EXAMPLE = "protocol=https\nhost=example.com"
CASES: dict[str, list[Step]] = {
    "has no existing data": [
        fill(EXAMPLE, creds("https", "example.com"), asked("https://example.com")),
    ],
    "stores password": [
        approve(f"{EXAMPLE}\nusername=store-user\npassword=store-pass"),
    ],
    "can retrieve password": [
        approve(f"{EXAMPLE}\nusername=store-user\npassword=store-pass"),
        fill(EXAMPLE, creds("https", "example.com", "store-user", "store-pass")),
    ],
    "requires matching protocol": [
        approve(f"{EXAMPLE}\nusername=store-user\npassword=store-pass"),
        fill("protocol=http\nhost=example.com", creds("http", "example.com"),
             asked("http://example.com")),
    ],
    "requires matching host": [
        fill("protocol=https\nhost=other.tld", creds("https", "other.tld"),
             asked("https://other.tld")),
    ],
    "requires matching username": [
        fill(f"{EXAMPLE}\nusername=other", creds("https", "example.com", "other"),
             asked("https://example.com", "other")),
    ],
    "requires matching path": [
        approve("protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass",
                config=("credential.usehttppath=true",)),
        fill("protocol=http\nhost=path.tld\npath=bar.git",
             creds("http", "path.tld", path="bar.git"), asked("http://path.tld/bar.git"),
             config=("credential.usehttppath=true",)),
    ],
    "overwrites on store": [
        approve(f"{EXAMPLE}\nusername=user-overwrite\npassword=pass1"),
        approve(f"{EXAMPLE}\nusername=user-overwrite\npassword=pass2"),
        fill(f"{EXAMPLE}\nusername=user-overwrite",
             creds("https", "example.com", "user-overwrite", "pass2")),
    ],
    "can forget host": [
        reject(EXAMPLE),
        fill(EXAMPLE, creds("https", "example.com"), asked("https://example.com")),
    ],
    "can store multiple users": [
        approve(f"{EXAMPLE}\nusername=user1\npassword=pass1"),
        approve(f"{EXAMPLE}\nusername=user2\npassword=pass2"),
        fill(f"{EXAMPLE}\nusername=user1", creds("https", "example.com", "user1", "pass1")),
        fill(f"{EXAMPLE}\nusername=user2", creds("https", "example.com", "user2", "pass2")),
    ],
    "does not erase a password distinct from input": [
        approve(f"{EXAMPLE}\nusername=user-distinct-pass\npassword=pass1"),
        reject(f"{EXAMPLE}\nusername=user-distinct-pass\npassword=pass2"),
        fill(f"{EXAMPLE}\nusername=user-distinct-pass",
             creds("https", "example.com", "user-distinct-pass", "pass1")),
    ],
    "can forget user": [
        reject(f"{EXAMPLE}\nusername=user1"),
        fill(f"{EXAMPLE}\nusername=user1", creds("https", "example.com", "user1"),
             asked("https://example.com", "user1")),
    ],
    "remembers other user": [
        approve(f"{EXAMPLE}\nusername=user2\npassword=pass2"),
        reject(f"{EXAMPLE}\nusername=user1"),
        fill(f"{EXAMPLE}\nusername=user2", creds("https", "example.com", "user2", "pass2")),
    ],
    "can store empty username": [
        approve("protocol=https\nhost=sso.tld\nusername=\npassword="),
        fill("protocol=https\nhost=sso.tld", creds("https", "sso.tld", "", "")),
    ],
    "erases all matching credentials": [
        approve(f"{EXAMPLE}\nusername=user-erase1\npassword=pass1"),
        approve(f"{EXAMPLE}\nusername=user-erase2\npassword=pass1"),
        reject(EXAMPLE),
        fill(f"{EXAMPLE}\nusername=user-erase1", creds("https", "example.com", "user-erase1"),
             asked("https://example.com", "user-erase1")),
        fill(f"{EXAMPLE}\nusername=user-erase2", creds("https", "example.com", "user-erase2"),
             asked("https://example.com", "user-erase2")),
    ],
    "times out": [
        approve("protocol=https\nhost=timeout.tld\nusername=user\npassword=pass"),
        fill("protocol=https\nhost=timeout.tld", creds("https", "timeout.tld"),
             asked("https://timeout.tld")),
    ],
    "preserves password_expiry_utc": [
        approve(f"{EXAMPLE}\nusername=user-expiry\npassword=pass\n"
                "password_expiry_utc=9999999999"),
        fill(f"{EXAMPLE}\nusername=user-expiry",
             creds("https", "example.com", "user-expiry", "pass")),
    ],
    "preserves oauth_refresh_token": [
        approve(f"{EXAMPLE}\nusername=user4\npassword=pass\noauth_refresh_token=xyzzy"),
        fill(f"{EXAMPLE}\nusername=user4", creds("https", "example.com", "user4", "pass")),
    ],
}
_STORE = "sfcred mints tokens and never stores a client's password, so fill cannot return "
STORE_THEN_GET = {
    "can retrieve password": _STORE + "store-pass",
    "overwrites on store": _STORE + "pass2",
    "can store multiple users": _STORE + "pass1/pass2",
    "does not erase a password distinct from input": _STORE + "pass1 (the erase side holds: "
    "see test_erase_forgets_only_the_token_it_names)",
    "remembers other user": _STORE + "pass2",
    "can store empty username": _STORE + "the empty username and password",
    "preserves password_expiry_utc": _STORE + "pass (sfcred gives its own tokens' expiry)",
    "preserves oauth_refresh_token": _STORE + "pass",
}
CONFIGS = {
    "host routing": ("sfcred", {}),
    "pinned -p acme": ("sfcred -p acme", {}),
    "SFCRED_PROFILE": ("sfcred", {"SFCRED_PROFILE": "acme"}),
}


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


@pytest.fixture
def git_env(sfcred_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    askpass = tmp_path / "askpass"
    askpass.write_text(ASKPASS)
    askpass.chmod(askpass.stat().st_mode | stat.S_IXUSR)
    env = dict(sfcred_env)
    env.update(GIT_ASKPASS=str(askpass), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    for name in ("SSH_ASKPASS", "GIT_TERMINAL_PROMPT"):
        env.pop(name, None)
    return env


def git_credential(step: Step, helper: str, env: dict[str, str],
                   cwd: Path) -> subprocess.CompletedProcess[str]:
    config = ["-c", "credential.helper=", "-c", f"credential.helper={helper}"]
    for item in step.config:
        config += ["-c", item]
    return subprocess.run(["git", *config, "credential", step.action], input=step.stdin + "\n",
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=60,
                          check=False)


def run_case(steps: list[Step], helper: str, env: dict[str, str],
             cwd: Path) -> list[tuple[int, str]]:
    """The differences from git's expectations (empty: the case passes), as lib-credential's
    ``check`` finds them: exit status, then stdout exactly, then stderr as text. Each is
    (step number, what differs)."""
    problems: list[tuple[int, str]] = []
    for number, step in enumerate(steps, start=1):
        done = git_credential(step, helper, env, cwd)
        where = f"step {number} ({step.action})"
        if done.returncode != 0:
            problems.append((number, f"{where}: exit {done.returncode}: {done.stderr}"))
            continue
        if done.stdout.strip() != step.stdout.strip():
            problems.append((number, f"{where}: stdout {done.stdout!r}, not {step.stdout!r}"))
        if done.stderr.strip() != step.stderr.strip():
            problems.append((number, f"{where}: stderr {done.stderr!r}, not {step.stderr!r}"))
    return problems


def stored_answers(steps: list[Step]) -> set[int]:
    """The fill steps that expect a password a helper stored (not askpass's)."""
    return {n for n, s in enumerate(steps, start=1)
            if s.action == "fill" and ASKED_PASSWORD not in s.stdout}


@pytest.fixture(params=list(CONFIGS), ids=list(CONFIGS))
def config(request: pytest.FixtureRequest, git_env: dict[str, str]) -> tuple[str, dict[str, str]]:
    helper, extra = CONFIGS[request.param]
    return helper, {**git_env, **extra}


@pytest.mark.parametrize("case", list(CASES))
def test_lib_credential_case(case: str, config, org: Org, tmp_path: Path) -> None:
    helper, env = config
    problems = run_case(CASES[case], helper, env, tmp_path)
    if case in STORE_THEN_GET:
        # Expected to differ, and only at the steps that expect a stored password back
        # (git then asks askpass instead: that is the whole difference).
        assert problems, f"{case} was expected to differ: {STORE_THEN_GET[case]}"
        assert {n for n, _ in problems} <= stored_answers(CASES[case]), problems
        assert not any("exit" in text for _, text in problems), problems
    else:
        assert problems == []
    assert org.sf.token_requests == 0  # nothing was minted for hosts sfcred does not serve


def test_the_expected_differences_are_all_store_then_get_cases() -> None:
    for case, steps in CASES.items():
        first_store = next((n for n, s in enumerate(steps, 1) if s.action == "approve"), None)
        gets_stored = stored_answers(steps)
        expected_to_differ = first_store is not None and any(n > first_store
                                                             for n in gets_stored)
        assert (case in STORE_THEN_GET) == expected_to_differ, case


# ---------------------------------------------------------------- sfcred's own host


def own_request(org: Org, extra: str = "", protocol: str = "http") -> str:
    return f"protocol={protocol}\nhost={org.host}\n{extra}"


def test_fill_answers_its_own_host_with_the_requests_protocol_and_host(
    config, org: Org, tmp_path: Path
) -> None:
    helper, env = config
    done = git_credential(fill(own_request(org), ""), helper, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = parse_git(done.stdout)
    assert (out["protocol"], out["host"], out["username"]) == ("http", org.host, org.username)
    assert org.sf.valid_token(out["password"])
    assert org.sf.token_requests == 1


@pytest.mark.parametrize(
    ("request_extra", "protocol"),
    [("", "https"), ("username=someone-else\n", "http"), ("path=x.git\n", "ftp")],
    ids=["https to an http host", "another user", "another protocol"],
)
def test_its_own_host_with_another_protocol_or_user_gets_askpass(
    config, org: Org, tmp_path: Path, request_extra: str, protocol: str
) -> None:
    helper, env = config
    done = git_credential(fill(own_request(org, request_extra, protocol), ""), helper, env,
                          tmp_path)
    assert done.returncode == 0, done.stderr
    assert parse_git(done.stdout)["password"] == "askpass-password"
    assert "sfcred" not in done.stderr
    assert org.sf.token_requests == 0


def filled_password(org: Org, helper: str, env: dict[str, str], cwd: Path) -> str:
    """The password ``git credential fill`` gets for the org's own host."""
    return parse_git(git_credential(fill(own_request(org), ""), helper, env, cwd).stdout)[
        "password"
    ]


def test_erase_forgets_only_the_token_it_names(config, org: Org, tmp_path: Path) -> None:
    helper, env = config
    token = filled_password(org, helper, env, tmp_path)
    other = reject(own_request(org, f"username={org.username}\npassword=not-the-token\n"))
    assert run_case([other], helper, env, tmp_path) == []
    assert filled_password(org, helper, env, tmp_path) == token
    assert org.sf.token_requests == 1  # still cached: the reject named another password
    named = reject(own_request(org, f"username={org.username}\npassword={token}\n"))
    assert run_case([named], helper, env, tmp_path) == []
    assert filled_password(org, helper, env, tmp_path) != token
    assert org.sf.token_requests == 2  # git's reject after a 401 makes exactly one new mint


def test_store_on_its_own_host_is_silent_and_keeps_the_cache(
    config, org: Org, tmp_path: Path
) -> None:
    helper, env = config
    token = filled_password(org, helper, env, tmp_path)
    stored = approve(own_request(org, f"username={org.username}\npassword=planted\n"))
    assert run_case([stored], helper, env, tmp_path) == []
    assert filled_password(org, helper, env, tmp_path) == token


# ---------------------------------------------------------------- the helper's own argv


def test_unknown_actions_are_ignored_and_the_action_is_the_last_word(
    run_sfcred, git_env: dict[str, str], org: Org
) -> None:
    def helper(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git-credential-sfcred", *argv], input=stdin,
                              capture_output=True, text=True, env=git_env, timeout=60,
                              check=False)

    for action in ("frobnicate", "capability", "list"):
        done = helper(action, stdin=own_request(org))
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), action
    # "-p get get": the profile is "get", the action the last word.
    named_get = helper("-p", "get", "get", stdin=own_request(org))
    assert named_get.returncode == 1
    assert "no profile named 'get'" in named_get.stderr
    pinned = helper("-p", "acme", "get", stdin=own_request(org))
    assert pinned.returncode == 0, pinned.stderr
    assert parse_git(pinned.stdout)["username"] == org.username
    # store: always silent and 0, even for input sfcred would refuse.
    for stdin in ("no equals sign\n", "host=\n", own_request(org)):
        stored = helper("store", stdin=stdin)
        assert (stored.returncode, stored.stdout, stored.stderr) == (0, "", ""), stdin
    # A real error is still reported under git's name: a malformed request.
    bad = helper("get", stdin="no equals sign\n")
    assert bad.returncode == 1
    assert "line 1" in bad.stderr
    assert org.sf.token_requests == 1
