"""`sfcred demo` as a user runs it, and the warm path's promise: no heavy imports."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _support import counting_imports

from sfcred import __version__
from sfcred.secret import Secret
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry

STEPS = [f"{n}. " for n in range(1, 11)]


def _files_under(*roots: str) -> set[Path]:
    return {p for root in roots for p in Path(root).rglob("*")}


def _check_demo(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in STEPS:
        assert f"\n{step}" in "\n" + out, f"missing step {step!r}"
    assert "user hasn't approved this consumer" in out
    assert "sfcred authorize" in out  # the error comes with its fix
    for fmt in ("git", "token", "json", "env"):
        assert f"--format {fmt}:" in out
    assert "same token, no new request" in out
    assert "minted a new token" in out
    assert "the app now holds the new key's certificate: yes; the old key is kept as " \
        "previous; get works." in out
    assert "PRIVATE KEY" not in out + done.stderr
    # Tokens are shown shortened only: nothing token-shaped follows "password=" whole.
    for value in re.findall(r"password=(\S+)", out):
        assert value.endswith("…(redacted)")
    # The README tells a new user how many steps to expect.
    steps = [int(n) for n in re.findall(r"^(\d+)\. ", out, re.M)]
    assert steps == list(range(1, len(steps) + 1)), steps
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"It prints {len(steps)} steps" in " ".join(readme.split())


def test_demo_on_a_machine_without_a_keyring(run_sfcred, sfcred_env) -> None:
    before = _files_under(sfcred_env["HOME"], sfcred_env["XDG_CONFIG_HOME"],
                          sfcred_env["XDG_RUNTIME_DIR"], sfcred_env["XDG_CACHE_HOME"])
    done = run_sfcred("demo", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    _check_demo(done)
    assert "in-memory keyring" in done.stdout
    after = _files_under(sfcred_env["HOME"], sfcred_env["XDG_CONFIG_HOME"],
                         sfcred_env["XDG_RUNTIME_DIR"], sfcred_env["XDG_CACHE_HOME"])
    assert after == before  # it leaves nothing behind


@pytest.mark.secret_service
def test_demo_uses_the_os_keyring_and_removes_what_it_made(run_sfcred) -> None:
    import secretstorage

    def demo_items() -> list[object]:
        conn = secretstorage.dbus_init()
        try:
            collection = secretstorage.get_default_collection(conn)
            return list(collection.search_items({"service": "sfcred-demo"}))
        finally:
            conn.close()

    assert demo_items() == []
    done = run_sfcred("demo")
    _check_demo(done)
    assert "the OS keyring (keyring.backends.SecretService.Keyring)" in done.stdout
    assert demo_items() == []


@pytest.mark.parametrize("routed", [False, True], ids=["-p", "host="])
def test_a_warm_get_imports_nothing_heavy(tmp_path: Path, sfcred_env, routed: bool) -> None:
    """The cached path must not load keyring, httpx, jwt, cryptography, argparse, nor json
    and re (a routed get reads the index: ``sfcred.minijson``)."""
    from sfcred.profiles.index import IndexEntry, IndexFile

    runtime = Path(sfcred_env["XDG_RUNTIME_DIR"], "sfcred")
    now = time.time()
    TokenCache(runtime).write(Entry("warm", "u@x.com", Secret("00Dwarm!token"),
                                    "https://warm.my.salesforce.com", now, now + 900, 60))
    index = IndexFile(str(Path(sfcred_env["XDG_CONFIG_HOME"], "sfcred", "profiles.json")))
    with index.edit() as idx:
        idx.profiles["warm"] = IndexEntry.for_login("https://warm.my.salesforce.com", "u@x.com")
    args = ["get", "--format", "token"] if routed else ["get", "-p", "warm", "--format", "token"]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(Path(sys.executable).parent / "sfcred"),
         *args],  # the installed script, as users run it
        env=counting_imports(sfcred_env), capture_output=True, text=True, timeout=60, check=False,
        input="protocol=https\nhost=warm.my.salesforce.com\n\n" if routed else "", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "00Dwarm!token\n"
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "sfcred.tokens.cache" in imported  # the measurement itself works
    heavy = {"keyring", "httpx", "jwt", "cryptography", "argparse", "dataclasses", "typing",
             "filelock", "platformdirs", "json", "shlex", "re", "enum", "contextlib",
             # the full path: a FRESH token is answered by sfcred.helper.warm before these load
             "sfcred.tokens.flight", "sfcred.app", "sfcred.helper.serve", "sfcred.commands"}
    assert not heavy & imported
    assert "sfcred.helper.warm" in imported
    assert ("sfcred.minijson" in imported) == routed
    # `get -p NAME` with no host never needs the index (nor its package)
    assert ("sfcred.profiles.index" in imported) == routed


def test_git_helper_ignores_actions_it_does_not_know(sfcred_env) -> None:
    helper = Path(sys.executable).parent / "git-credential-sfcred"
    done = subprocess.run([str(helper), "capability"], env=sfcred_env, capture_output=True,
                          text=True, input="", timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "")


def test_a_get_waiting_on_another_mint_imports_nothing_heavy(tmp_path: Path,
                                                             sfcred_env) -> None:
    """A stampede's loser: the cache is empty and another process holds the profile's lock
    (it is minting). The loser waits on the warm path, then answers the token the holder
    cached, having imported no more than a warm get (not the mint path: keyring, httpx...)."""
    from sfcred.profiles.index import IndexEntry, IndexFile

    runtime = Path(sfcred_env["XDG_RUNTIME_DIR"], "sfcred")
    cache = TokenCache(runtime)
    index = IndexFile(str(Path(sfcred_env["XDG_CONFIG_HOME"], "sfcred", "profiles.json")))
    with index.edit() as idx:
        idx.profiles["warm"] = IndexEntry.for_login("https://warm.my.salesforce.com", "u@x.com")
    with cache.lock("warm"):
        waiter = subprocess.Popen(
            [sys.executable, "-X", "importtime", str(Path(sys.executable).parent / "sfcred"),
             "get", "-p", "warm", "--format", "token"],
            env=counting_imports(sfcred_env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )  # fmt: skip
        time.sleep(1.0)  # it is waiting on the lock by now (a warm get takes 20-40 ms)
        assert waiter.poll() is None  # still waiting: it did not mint nor fail
        now = time.time()
        cache.write(Entry("warm", "u@x.com", Secret("00Dheld!token"),
                          "https://warm.my.salesforce.com", now, now + 900, 60))
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert out == "00Dheld!token\n"
    imported = {line.split("|")[-1].strip() for line in err.splitlines()
                if line.startswith("import time:")}
    assert "sfcred.helper.warm" in imported  # the measurement itself works
    heavy = {"keyring", "httpx", "jwt", "cryptography", "argparse", "dataclasses", "typing",
             "json", "re", "contextlib", "threading",
             "sfcred.tokens.flight", "sfcred.app", "sfcred.helper.serve", "sfcred.store.keystore"}
    assert not heavy & imported


def test_the_exit_runs_atexit_callbacks_and_skips_only_the_teardown(tmp_path: Path,
                                                                    sfcred_env) -> None:
    """The console scripts exit through ``cli._exit``: the answer and the exit status are as
    before, atexit callbacks still run, and the interpreter's teardown (here: an object's
    ``__del__`` at exit) is skipped."""
    code = (
        "import atexit, sys\n"
        "class Teardown:\n"
        "    def __del__(self):\n"
        "        print('torn down', flush=True)\n"
        "keep = Teardown()\n"
        "atexit.register(lambda: print('callback ran', flush=True))\n"
        "sys.argv = ['sfcred', *sys.argv[1:]]\n"
        "from sfcred.cli import run\n"
        "run()\n"
    )
    for args, status, shown in ((["--version"], 0, __version__), (["get", "-p", "x"], 1, "")):
        done = subprocess.run([sys.executable, "-c", code, *args], env=sfcred_env,
                              capture_output=True, text=True, timeout=60, cwd=tmp_path,
                              stdin=subprocess.DEVNULL, check=False)
        assert done.returncode == status, done.stderr
        assert shown in done.stdout
        assert done.stdout.rstrip().endswith("callback ran")
        assert "torn down" not in done.stdout
