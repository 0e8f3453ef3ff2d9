"""helper/warm.py and the full path agree: the warm path answers exactly the requests the full path
answers from the cache, with the same bytes, and steps aside for everything else."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sfcred.errors import SfcredError
from sfcred.helper import warm
from sfcred.helper.serve import Options, handle
from sfcred.profiles.index import IndexEntry, index_file
from sfcred.secret import Secret
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.entry import Entry
from sfcred.tokens.flight import Tokens

NOW = 1_800_000_000.0


class Minted(Exception):
    """The full path went past the cache."""


@pytest.fixture
def world() -> Path:
    """Two profiles in the index; acme's token FRESH, local's STALE, in the runtime cache."""
    with index_file().edit() as idx:
        idx.profiles["acme"] = IndexEntry("acme.my.salesforce.com", "int@acme.com",
                                          "acme.my.salesforce.com", "https", "https")
        idx.profiles["local"] = IndexEntry("127.0.0.1:9", "dev@example.com", "127.0.0.1:9",
                                           "http", "http")
        idx.default = "acme"
    folder = Path(os.environ["XDG_RUNTIME_DIR"], "sfcred")
    cache = TokenCache(folder)
    cache.write(Entry("acme", "int@acme.com", Secret("00Dacme!fresh"),
                      "https://acme.my.salesforce.com", NOW - 10, NOW + 890, 60))
    cache.write(Entry("local", "dev@example.com", Secret("00Dlocal!stale"),
                      "http://127.0.0.1:9", NOW - 880, NOW + 20, 60))
    return folder


def full_path(action: str, profile: str | None, fmt: str, text: str,
              env: dict[str, str]) -> str | None:
    """What the full path prints when it answers from the cache; None when it does not."""
    from sfcred import app

    def tokens(ci: object) -> Tokens:
        assert ci is None  # no CI-mode variables here
        t = app.tokens(note=lambda _m: None)
        t.clock = lambda: NOW

        def refuse(_name: str) -> Entry:
            raise Minted

        t._mint = refuse  # type: ignore[method-assign,assignment]  # past the cache: not a warm answer
        return t

    try:
        answer = handle(action, text, Options(profile, fmt), env, tokens)
    except (Minted, SfcredError):
        return None
    return answer.stdout or None


REQUESTS = st.lists(st.sampled_from([
    "protocol=https", "protocol=http", "protocol=cert", "host=acme.my.salesforce.com",
    "host=ACME.my.salesforce.com:443", "host=github.com", "host=127.0.0.1:9", "host=",
    "username=int@acme.com", "username=other", "profile=acme", "profile=local", "profile=",
    "capability[]=authtype", "url=https://acme.my.salesforce.com/x.git", "path=x",
    "password=nope", "no equals sign",
]), max_size=4)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=REQUESTS,
    action=st.sampled_from(["get", "get", "erase", "store"]),
    profile=st.sampled_from([None, None, "acme", "local", "nosuch", ""]),
    fmt=st.sampled_from(["git", "token", "json", "env"]),
    env_profile=st.sampled_from([None, None, "acme", "local", ""]),
)
def test_warm_answers_exactly_what_the_full_path_answers_from_the_cache(
    world: Path, lines: list[str], action: str, profile: str | None, fmt: str,
    env_profile: str | None,
) -> None:
    text = "".join(f"{line}\n" for line in lines) + "\n"
    env = {} if env_profile is None else {"SFCRED_PROFILE": env_profile}
    quick, done = warm.answer(action, profile, fmt, text, env, clock=lambda: NOW)
    assert done.waited == 0.0  # no other process holds a lock here
    if done.lock is not None:
        done.lock.release()  # what the full path would have adopted
    slow = full_path(action, profile, fmt, text, env) if action == "get" else None
    assert quick == slow


def test_the_warm_path_answers_fresh_tokens_and_steps_aside_otherwise(world: Path) -> None:
    def quick(text: str = "\n", profile: str | None = None, fmt: str = "token") -> str | None:
        return warm.answer("get", profile, fmt, text, {}, clock=lambda: NOW)[0]

    assert quick() == "00Dacme!fresh\n"  # the default
    assert quick(profile="acme") == "00Dacme!fresh\n"
    assert quick("protocol=https\nhost=acme.my.salesforce.com\n\n", fmt="git") is not None
    assert quick(profile="local") is None  # STALE: the full path refreshes it
    assert quick("host=github.com\n\n", profile="acme") is None  # not acme's host
    # A cache folder open to others is not read, even for a FRESH token.
    world.chmod(0o755)
    assert quick(profile="acme") is None
    world.chmod(0o700)
    assert quick(profile="acme") == "00Dacme!fresh\n"


def test_the_hand_parser_only_takes_plain_helper_calls() -> None:
    assert warm.helper_args(["get", "-p", "x", "--format", "json"]) == ("get", "x", "json")
    assert warm.helper_args(["doctor"]) is None
    assert warm.helper_args(["get", "--bogus"]) is None


def test_every_warm_path_module_stays_light() -> None:
    """The modules a warm get imports do not import typing, dataclasses or json at module
    level (checked statically here, and by the real import in test_demo_and_startup_e2e)."""
    import ast

    import sfcred

    package = Path(sfcred.__file__).parent
    warm_modules = ["cli", "helper/warm", "helper/protocol", "helper/choice", "profiles/index",
                    "tokens/cache", "fsutil", "fsread", "helper/formats", "errors", "secret",
                    "untrusted", "__init__", "__main__", "helper/__init__",
                    "profiles/__init__", "tokens/__init__"]
    heavy = {"typing", "dataclasses", "json", "argparse", "httpx", "keyring", "jwt",
             "cryptography", "filelock", "platformdirs", "shlex", "re", "enum", "urllib",
             "contextlib", "functools", "collections"}
    found = {}
    for name in warm_modules:
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: function-level imports are lazy
            if isinstance(node, ast.Import):
                mods = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mods = {node.module.split(".")[0]}
            else:
                continue
            if mods & heavy:
                found[name] = sorted(mods & heavy)
    assert found == {}


WORDS = ["get", "store", "erase", "exec", "-p", "--profile", "--format", "--format=json",
         "--profile=acme", "-p=acme", "acme", "json", "git", "token", "env", "bogus", "--",
         "-x", "--help"]


@settings(max_examples=600, deadline=None)
@given(st.tuples(st.sampled_from(WORDS[:4]), st.lists(st.sampled_from(WORDS), max_size=5))
       .map(lambda t: [t[0], *t[1]]))
@example(["get", "-p", "--format"])  # the review's case: exit 1 by hand, 2 by argparse
@example(["get", "--profile", "-x"])
@example(["get", "--format", "get", "--format=json"])  # every --format is checked, not the last
def test_the_hand_parser_agrees_with_argparse(argv: list[str]) -> None:
    """What the warm path parses by hand, argparse parses the same way; whatever argparse
    refuses (exit 2), the hand parser leaves to it."""
    from sfcred.argspec import parser

    simple = warm.helper_args(argv)
    if simple is None:
        return  # argparse decides, with its own errors
    try:
        args = parser().parse_args(argv)
    except (SfcredError, SystemExit) as e:
        raise AssertionError(f"{argv}: taken by hand, refused by argparse ({e})") from None
    assert simple == (args.command, args.profile, args.format), argv


def test_a_missing_option_value_is_a_usage_error_whatever_the_command(capsys) -> None:
    from sfcred.cli import main

    for argv in (["get", "-p", "--format"], ["get", "-p", "--format", "json"],
                 ["exec", "-p", "--format", "json"], ["get", "-p"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("sfcred: "), err
        assert "sfcred: sfcred" not in err


def test_a_cold_get_reads_the_index_once_and_the_cache_at_most_twice(
    world: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """One pass per get: the warm path's parse, choice, cache read and lock are handed to the
    full path, and the index is read from disk once however many steps ask for it."""
    import io

    from sfcred import cli
    from sfcred.profiles import index
    from sfcred.tokens import cache, flight

    reads = {"index": 0, "cache": 0}
    real_read, real_cache_read = index.IndexFile.read, cache.TokenCache.read

    def count_index(self: index.IndexFile) -> index.Index:
        reads["index"] += 1
        return real_read(self)

    def count_cache(self: cache.TokenCache, name: str) -> Entry | None:
        reads["cache"] += 1
        return real_cache_read(self, name)

    def minted(self: Tokens, name: str) -> Entry:  # what a mint leaves: a cached token
        now = time.time()
        entry = Entry(name, "int@acme.com", Secret("00Dminted!x"),
                      "https://acme.my.salesforce.com", now, now + 900, 60)
        self._keep(entry)
        return entry

    monkeypatch.setattr(index.IndexFile, "read", count_index)
    monkeypatch.setattr(cache.TokenCache, "read", count_cache)
    monkeypatch.setattr(flight.Tokens, "_mint", minted)
    cache.TokenCache(cache.runtime_dir() or "").drop("acme")
    index._FILES.clear()  # a new process
    request = io.StringIO("protocol=https\nhost=acme.my.salesforce.com\n\n")
    assert cli.cmd_helper("get", None, "token", request) == 0
    assert capsys.readouterr().out == "00Dminted!x\n"
    assert reads == {"index": 1, "cache": 2}


def test_the_plain_value_classes_compare_hash_and_show_their_fields() -> None:
    from sfcred.helper.choice import Choice
    from sfcred.helper.protocol import Request
    from sfcred.profiles.index import IndexEntry

    a, b = Request(host="x", password=Secret("tok")), Request(host="x", password=Secret("tok"))
    assert a == b
    assert hash(a) == hash(b)
    assert a != Request(host="y", password=Secret("tok"))
    assert "tok" not in repr(a)
    assert repr(a).startswith("Request(profile=None, protocol=None, host='x'")
    assert Choice("p", "https") == Choice("p", "https") != Choice("p", "http")
    assert Choice("p") != ("p", None, None)
    entry = IndexEntry("login.salesforce.com", "u@x.com")
    assert entry == IndexEntry("login.salesforce.com", "u@x.com")
    assert len({entry, IndexEntry("login.salesforce.com", "u@x.com")}) == 1
    assert "username='u@x.com'" in repr(entry)
