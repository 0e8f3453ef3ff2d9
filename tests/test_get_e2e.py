"""End to end through the installed program: add a profile, upload its certificate to the
stand-in, then `sfcred get` (and `git-credential-sfcred get`) as a client would call it.

Every test here uses the real Secret Service: each `sfcred` run is its own process, so only a
keyring shared between processes lets `get` find what `profile add` stored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _e2e import Org, get_json, parse_git, setup_org, userinfo

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

TTL = 900  # the default --token-ttl (docs/reference/commands.md)


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


@pytest.fixture
def other_standin() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as sf:
        yield sf


def _assert_live(org: Org, token: str, username: str | None = None) -> None:
    reply = userinfo(org.sf.url, token)
    assert reply.status_code == 200, reply.text
    assert reply.json()["preferred_username"] == (username or org.username)


# ---------------------------------------------------------------- the main job


def test_add_then_get_by_host_returns_a_token_salesforce_accepts(run_sfcred, org: Org) -> None:
    assert "SHA256:" in org.added.stderr  # the key's fingerprint, the only trace of the key
    assert "PRIVATE KEY" not in org.added.stderr
    before = time.time()
    done = run_sfcred("get", input=f"host={org.host}\n\n")
    assert done.returncode == 0, done.stderr
    out = parse_git(done.stdout)
    assert list(out) == ["protocol", "host", "username", "password", "password_expiry_utc"]
    # A loopback http stand-in: the instance URL's own scheme is reported.
    assert out["protocol"] == "http"
    assert out["host"] == org.host
    assert out["username"] == org.username
    assert before + TTL - 5 <= int(out["password_expiry_utc"]) <= time.time() + TTL + 1
    assert org.sf.token_requests == 1
    assert org.sf.last_assertion_claims is not None
    assert org.sf.last_assertion_claims["sub"] == org.username
    assert org.sf.last_assertion_claims["iss"] == org.client_id
    _assert_live(org, out["password"])


def test_second_get_is_served_from_the_cache(run_sfcred, org: Org) -> None:
    first = run_sfcred("get", "-p", "acme", "--format", "token")
    second = run_sfcred("get", "-p", "acme", "--format", "token")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert org.sf.token_requests == 1


def test_erase_makes_the_next_get_mint_and_keeps_the_profile(run_sfcred, org: Org) -> None:
    first = run_sfcred("get", "-p", "acme", "--format", "token").stdout.strip()
    assert first
    erased = run_sfcred("erase", input=f"host={org.host}\n\n")
    assert (erased.returncode, erased.stdout) == (0, ""), erased.stderr
    again = run_sfcred("get", "-p", "acme", "--format", "token")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() != first
    assert org.sf.token_requests == 2
    _assert_live(org, again.stdout.strip())
    shown = run_sfcred("profile", "show", "acme", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["client_id"] == org.client_id


def test_store_does_nothing_and_succeeds(run_sfcred, org: Org) -> None:
    token = run_sfcred("get", "-p", "acme", "--format", "token").stdout.strip()
    request = f"protocol=http\nhost={org.host}\nusername={org.username}\npassword=other\n\n"
    stored = run_sfcred("store", input=request)
    assert (stored.returncode, stored.stdout, stored.stderr) == (0, "", "")
    after = run_sfcred("get", "-p", "acme", "--format", "token")
    assert after.stdout.strip() == token  # the cache was not touched either
    assert org.sf.token_requests == 1


# ---------------------------------------------------------------- profile choice


@pytest.fixture
def two_orgs(run_sfcred, standin, other_standin, tmp_path) -> tuple[Org, Org]:
    """acme (the default: added first) on one stand-in, beta on another."""
    acme = setup_org(run_sfcred, standin, tmp_path, "acme", username="a@example.com")
    beta = setup_org(run_sfcred, other_standin, tmp_path, "beta", username="b@example.com")
    return acme, beta


def _username(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return parse_git(done.stdout)["username"]


def test_profile_choice_flag_field_env_default_and_host(run_sfcred, two_orgs) -> None:
    acme, beta = two_orgs
    assert _username(run_sfcred("get")) == acme.username  # the default, no host named
    assert _username(run_sfcred("get", "-p", "beta")) == beta.username
    assert _username(run_sfcred("get", input="profile=beta\n\n")) == beta.username
    assert _username(run_sfcred("get", env={"SFCRED_PROFILE": "beta"})) == beta.username
    assert _username(run_sfcred("get", input=f"host={beta.host}\n\n")) == beta.username
    assert _username(run_sfcred("get", input=f"host={acme.host}\n\n")) == acme.username
    # First match wins: -p over profile= over SFCRED_PROFILE over host=.
    env = {"SFCRED_PROFILE": "acme"}
    assert _username(run_sfcred("get", "-p", "beta", input="profile=acme\n\n", env=env)) == (
        beta.username
    )
    assert _username(run_sfcred("get", input="profile=beta\n\n", env=env)) == beta.username
    # ... but a chosen profile answers only for its own host: acme does not own beta's.
    foreign = run_sfcred("get", input=f"host={beta.host}\n\n", env=env)
    assert (foreign.returncode, foreign.stdout) == (1, "")
    assert "does not serve" in foreign.stderr
    assert _username(run_sfcred("get", input=f"host={acme.host}\n\n", env=env)) == acme.username
    tokens = [
        parse_git(run_sfcred("get", "-p", name).stdout)["password"] for name in ("acme", "beta")
    ]
    _assert_live(acme, tokens[0])
    _assert_live(beta, tokens[1])
    assert not beta.sf.valid_token(tokens[0])


def test_host_and_username_pick_between_profiles_of_one_host(run_sfcred, standin, tmp_path) -> None:
    one = setup_org(run_sfcred, standin, tmp_path, "one", username="one@example.com")
    two = setup_org(run_sfcred, standin, tmp_path, "two", username="two@example.com")
    picked = run_sfcred("get", input=f"host={one.host}\nusername={two.username}\n\n")
    assert _username(picked) == two.username
    _assert_live(two, parse_git(picked.stdout)["password"], two.username)
    ambiguous = run_sfcred("get", input=f"host={one.host}\n\n")
    assert ambiguous.returncode == 1
    assert ambiguous.stdout == ""
    assert "one" in ambiguous.stderr
    assert "two" in ambiguous.stderr
    nobody = run_sfcred("get", input=f"host={one.host}\nusername=nobody@example.com\n\n")
    assert (nobody.returncode, nobody.stdout) == (1, "")


@pytest.mark.parametrize(
    "request_text",
    ["host=github.com\n\n", "protocol=https\nhost=example.com:443\n\n",
     "url=https://gitlab.example.org/group/repo.git\n\n"],
)  # fmt: skip
def test_a_host_that_matches_no_profile_never_gets_the_default(
    run_sfcred, org: Org, request_text: str
) -> None:
    done = run_sfcred("get", input=request_text)
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no profile" in done.stderr
    assert org.sf.token_requests == 0


def test_an_empty_host_is_refused(run_sfcred, org: Org) -> None:
    done = run_sfcred("get", input="protocol=https\nhost=\n\n")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "host" in done.stderr
    assert org.sf.token_requests == 0


# ---------------------------------------------------------------- formats


def test_all_four_formats_give_the_same_live_token(run_sfcred, sfcred_env, org: Org) -> None:
    git = parse_git(run_sfcred("get", "-p", "acme").stdout)
    token = git["password"]
    _assert_live(org, token)

    plain = run_sfcred("get", "-p", "acme", "--format", "token")
    assert plain.returncode == 0
    assert plain.stdout == token + "\n"

    data = get_json(run_sfcred, "-p", "acme")
    assert set(data) == {
        "access_token", "instance_url", "token_type", "expires_at", "profile", "username",
    }  # fmt: skip
    assert data["access_token"] == token
    assert data["instance_url"] == org.sf.url
    assert data["token_type"] == "Bearer"
    assert (data["profile"], data["username"]) == ("acme", org.username)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["expires_at"])
    expires = dt.datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
    assert expires.tzinfo is not None
    assert int(expires.timestamp()) == int(git["password_expiry_utc"])

    env = run_sfcred("get", "-p", "acme", "--format", "env")
    assert env.returncode == 0
    lines = env.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "export SF_ACCESS_TOKEN", "export SF_INSTANCE_URL",
    ]  # fmt: skip
    # Real tokens hold '!': the value must be quoted for the shell.
    assert "!" in token
    assert lines[0] != f"export SF_ACCESS_TOKEN={token}"
    shell = subprocess.run(
        ["bash", "-c", 'eval "$(sfcred get -p acme --format env)" && '
         'printf "%s\\n%s\\n" "$SF_ACCESS_TOKEN" "$SF_INSTANCE_URL"'],
        capture_output=True, text=True, env=sfcred_env, timeout=60, check=False,
    )  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines() == [token, org.sf.url]
    assert org.sf.token_requests == 1


def test_capability_authtype_adds_a_bearer_credential(run_sfcred, org: Org) -> None:
    done = run_sfcred("get", input=f"capability[]=authtype\nhost={org.host}\n\n")
    assert done.returncode == 0, done.stderr
    out = parse_git(done.stdout)
    assert out["capability[]"] == "authtype"
    assert out["authtype"] == "Bearer"
    assert out["credential"] == out["password"]
    _assert_live(org, out["credential"])
    plain = parse_git(run_sfcred("get", input=f"host={org.host}\n\n").stdout)
    assert "authtype" not in plain
    assert "credential" not in plain


# ---------------------------------------------------------------- git's naming convention


def test_git_credential_sfcred_answers_like_sfcred(sfcred_env, org: Org) -> None:
    def helper(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git-credential-sfcred", *args], input=stdin, capture_output=True, text=True,
            env=sfcred_env, timeout=60, check=False,
        )  # fmt: skip

    by_host = helper("get", stdin=f"protocol=http\nhost={org.host}\n\n")
    assert by_host.returncode == 0, by_host.stderr
    out = parse_git(by_host.stdout)
    assert (out["protocol"], out["host"], out["username"]) == ("http", org.host, org.username)
    # The loopback stand-in is plain http: asked over https, it is not this profile's.
    over_https = helper("get", stdin=f"protocol=https\nhost={org.host}\n\n")
    assert (over_https.returncode, over_https.stdout, over_https.stderr) == (0, "", "")
    _assert_live(org, out["password"])

    by_flag = helper("-p", "acme", "get")
    assert by_flag.returncode == 0, by_flag.stderr
    assert parse_git(by_flag.stdout)["password"] == out["password"]

    stored = helper("store", stdin=f"host={org.host}\npassword=x\n\n")
    assert (stored.returncode, stored.stdout) == (0, "")
    unknown = helper("frobnicate", stdin=f"host={org.host}\n\n")  # future git actions: ignored
    assert (unknown.returncode, unknown.stdout) == (0, "")
    assert org.sf.token_requests == 1

    erased = helper("erase", stdin=f"host={org.host}\n\n")
    assert (erased.returncode, erased.stdout) == (0, "")
    fresh = helper("get", stdin=f"host={org.host}\n\n")
    assert parse_git(fresh.stdout)["password"] != out["password"]
    assert org.sf.token_requests == 2


# ---------------------------------------------------------------- the protocol's edges


def test_unknown_keys_and_path_are_ignored(run_sfcred, org: Org) -> None:
    request = (
        f'protocol=http\nhost={org.host}\npath=services/data\nwwwauth[]=Bearer realm="sf"\n'
        "capability[]=state\nstate[]=sfcred:1\nfuture-key=value\n\n"
    )
    done = run_sfcred("get", input=request)
    assert done.returncode == 0, done.stderr
    out = parse_git(done.stdout)
    assert out["username"] == org.username
    assert "state[]" not in out
    assert "authtype" not in out


def test_a_terminal_on_stdin_is_never_waited_on(sfcred_env, org: Org) -> None:
    primary, secondary = pty.openpty()
    try:
        start = time.monotonic()
        done = subprocess.run(
            ["sfcred", "get", "--format", "token"], stdin=secondary, capture_output=True,
            env=sfcred_env, timeout=30, check=False,
        )  # fmt: skip
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 20
    _assert_live(org, done.stdout.decode().strip())  # the default profile, no input read


def test_an_empty_erase_erases_nothing(run_sfcred, org: Org) -> None:
    token = run_sfcred("get", "--format", "token").stdout
    erased = run_sfcred("erase", input="\n")
    assert (erased.returncode, erased.stdout) == (0, "")
    assert run_sfcred("get", "--format", "token").stdout == token
    assert org.sf.token_requests == 1


def test_login_host_and_instance_host_both_route_once_known(run_sfcred, standin, tmp_path) -> None:
    """Through login.salesforce.com: the token's instance is the My Domain, another host."""
    org = setup_org(
        run_sfcred, standin, tmp_path, "acme", login_url=standin.login_url,
        extra=["--audience", "https://login.salesforce.com"],
    )  # fmt: skip
    login_host = urlsplit(standin.login_url).netloc
    assert login_host != org.host
    by_login = run_sfcred("get", input=f"protocol=http\nhost={login_host}\n\n")
    out = parse_git(by_login.stdout)
    # The answer keeps the request's host: a helper does not redirect git elsewhere.
    assert (out["protocol"], out["host"]) == ("http", login_host)
    _assert_live(org, out["password"])
    assert standin.last_assertion_claims is not None
    assert standin.last_assertion_claims["aud"] == "https://login.salesforce.com"
    # Once minted, the instance host is known and routes too (and is listed).
    by_instance = run_sfcred("get", input=f"url={standin.url}/services/data\n\n")
    assert parse_git(by_instance.stdout)["password"] == out["password"]
    listed = json.loads(run_sfcred("profile", "list", "--json").stdout)
    assert [(r["login_host"], r["instance_host"]) for r in listed] == [(login_host, org.host)]


def test_concurrent_gets_on_a_cold_cache_mint_once(sfcred_env, org: Org) -> None:
    procs = [
        subprocess.Popen(
            ["sfcred", "get", "-p", "acme", "--format", "token"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=sfcred_env,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1  # one token for all of them
    assert org.sf.token_requests == 1


def test_token_ttl_sets_the_expiry(run_sfcred, standin, tmp_path) -> None:
    setup_org(run_sfcred, standin, tmp_path, "short", extra=["--token-ttl", "120"])
    before = time.time()
    out = parse_git(run_sfcred("get", "-p", "short").stdout)
    assert before + 115 <= int(out["password_expiry_utc"]) <= time.time() + 121


def test_a_cold_get_does_not_load_httpxs_own_command_line(run_sfcred, org: Org,
                                                          sfcred_env, tmp_path: Path) -> None:
    """httpx imports its command line (click, rich, pygments) whenever they are installed, as
    they are in the test venv (mkdocs, twine): 45 ms of every cold get. The program marks it
    absent; the token still comes."""
    import importlib.util

    from _support import counting_imports

    assert importlib.util.find_spec("click")  # installed here: the test can fail
    assert importlib.util.find_spec("rich")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(Path(sys.executable).parent / "sfcred"),
         "get", "-p", "acme", "--format", "token"],
        env=counting_imports(sfcred_env), capture_output=True, text=True, timeout=60,
        check=False, stdin=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert org.sf.valid_token(done.stdout.strip())
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "httpx" in imported
    assert not {"click", "rich", "pygments"} & imported
