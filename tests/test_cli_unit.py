"""cli.py in-process: the hand-parsed warm path agrees with argparse; formats; exit codes."""

from __future__ import annotations

import io
import json
import shlex
import subprocess

import pytest

from sfcred.argspec import parser
from sfcred.cli import main
from sfcred.helper.formats import render
from sfcred.helper.warm import helper_args as simple_helper_args
from sfcred.secret import Secret
from sfcred.tokens.entry import Entry


@pytest.mark.parametrize(
    "argv",
    [
        ["get"],
        ["get", "-p", "prod"],
        ["erase", "--profile", "prod"],
        ["get", "--profile=prod", "--format=json"],
        ["store", "--format", "env", "-p", "x"],
        ["get", "-p", "a", "-p", "b"],
        ["get", "-p", ""],  # parsed alike; refused later as an empty name
        ["get", "--profile="],
    ],
)
def test_hand_parser_agrees_with_argparse(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    assert simple_helper_args(argv) == (args.command, args.profile, args.format)


@pytest.mark.parametrize(
    "argv",
    [["get", "--help"], ["get", "-p"], ["get", "--format", "yaml"], ["get", "extra"],
     ["profile", "list"], [], ["get", "-x"]],
)
def test_anything_unusual_goes_to_argparse(argv: list[str]) -> None:
    assert simple_helper_args(argv) is None


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["get", "--format", "yaml"], stdin=io.StringIO("")) == 2
    assert main(["nonsense"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("sfcred ")
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("profile", "get", "exec", "rotate", "doctor", "authorize", "demo"):
        assert command in out


ENTRY = Entry("p", "u@x.com", Secret("00Dx!a'b$c"), "https://a.my.salesforce.com",
              0.0, 1_800_000_000.0, 60)


def test_git_format_with_and_without_authtype() -> None:
    plain = render(ENTRY, "git")
    assert plain == ("protocol=https\nhost=a.my.salesforce.com\nusername=u@x.com\n"
                     "password=00Dx!a'b$c\npassword_expiry_utc=1800000000\n")
    with_auth = render(ENTRY, "git", frozenset({"authtype"}))
    assert with_auth.endswith("capability[]=authtype\nauthtype=Bearer\ncredential=00Dx!a'b$c\n")


def test_json_and_token_formats() -> None:
    data = json.loads(render(ENTRY, "json"))
    assert data == {"access_token": "00Dx!a'b$c", "instance_url": "https://a.my.salesforce.com",
                    "token_type": "Bearer", "expires_at": "2027-01-15T08:00:00Z",
                    "profile": "p", "username": "u@x.com"}
    assert render(ENTRY, "token") == "00Dx!a'b$c\n"


def test_env_format_survives_a_shell() -> None:
    script = render(ENTRY, "env") + 'printf %s "$SF_ACCESS_TOKEN|$SF_INSTANCE_URL"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "00Dx!a'b$c|https://a.my.salesforce.com"
    assert shlex.split(render(ENTRY, "env").splitlines()[0])[1] == "SF_ACCESS_TOKEN=00Dx!a'b$c"


def test_malformed_input_exits_1_with_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["get"], stdin=io.StringIO("host=a\nbroken\n\n")) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "line 2" in captured.err


def test_unknown_named_profile_is_exit_1_without_touching_the_keyring(
    capsys: pytest.CaptureFixture[str], fail_keyring: object
) -> None:
    assert main(["get", "-p", "nope"], stdin=io.StringIO("")) == 1
    assert "no profile named 'nope'" in capsys.readouterr().err


class Exited(BaseException):
    def __init__(self, how: str, code: int) -> None:
        super().__init__(how, code)
        self.how, self.code = how, code


@pytest.mark.parametrize("case", ["nothing pending", "no such CPython step", "a thread",
                                  "stdout fails"])
def test_teardown_is_skipped_only_when_nothing_depends_on_it(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """``cli._exit``: os._exit (no teardown) after the atexit callbacks ran and stdout and
    stderr were flushed, when no thread but the main one exists; else the usual sys.exit."""
    import atexit
    import os
    import sys
    import threading

    from sfcred import cli

    def fast(code: int) -> None:
        raise Exited("os._exit", code)

    def usual(code: int) -> None:
        raise Exited("sys.exit", code)

    ran: list[str] = []
    monkeypatch.setattr(os, "_exit", fast)
    monkeypatch.setattr(sys, "exit", usual)
    if case == "no such CPython step":
        monkeypatch.delattr(atexit, "_run_exitfuncs")
    else:
        monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: ran.append("callbacks"))
    release = threading.Event()
    worker = threading.Thread(target=release.wait, args=(10,), daemon=True)
    if case == "a thread":
        worker.start()
    else:
        monkeypatch.setattr(threading, "active_count", lambda: 1)  # pytest's own threads
    if case == "stdout fails":
        class ClosedPipe(io.StringIO):
            def flush(self) -> None:
                raise BrokenPipeError(32, "Broken pipe")

        monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        with pytest.raises(Exited) as done:
            cli._exit(3)
    finally:
        release.set()
    assert done.value.code == 3
    fast_exit = case == "nothing pending"
    assert done.value.how == ("os._exit" if fast_exit else "sys.exit")
    assert ran == (["callbacks"] if fast_exit else [])  # exit's callbacks, before os._exit
