"""Everyday edits and help, in process (memory keyring): ``profile set``, the question before
``profile remove`` deletes the only copy of a key, "did you mean", ``exec --env``, the trace
switch. Through the installed program (the real keyring, a pty) in test_everyday_e2e.py."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from _e2e import USERNAME

from sfcred import cli
from sfcred.commands import execute
from sfcred.errors import ConfigError, InputError, UsageError
from sfcred.profiles import edit, suggest
from sfcred.profiles.record import KeySlots, Profile
from sfcred.salesforce import trace
from sfcred.testing.server import FakeSalesforce


def _profile(**kw: object) -> Profile:
    base = {"name": "acme", "client_id": "3MVG9x", "username": USERNAME,
            "login_url": "https://acme.my.salesforce.com", "audience": "https://login.salesforce.com",
            "keys": KeySlots(active="k1")}
    return Profile(**{**base, **kw})  # type: ignore[arg-type]


# ---------------------------------------------------------------- did you mean


def test_close_names_are_suggested_closest_first() -> None:
    names = ["prod", "production-eu", "sandbox", "dev"]
    assert suggest.close("prdo", names)[0] == "prod"
    assert suggest.close("sandbx", names) == ["sandbox"]
    assert suggest.close("PROD", names)[0] == "prod"  # a wrong case is close
    assert suggest.close("zzzzzz", names) == []
    assert suggest.did_you_mean("zzzzzz", names) == ""
    assert "did you mean 'sandbox'?" in suggest.did_you_mean("sandbx", names)
    assert suggest.close("prod", ["prod", "prods"]) == ["prods"]  # never the name itself


def test_a_missing_name_keeps_the_old_words_and_adds_the_suggestion() -> None:
    err = suggest.missing("acmee", ["acme", "other"])
    assert isinstance(err, ConfigError)
    assert err.exit_code == 1
    assert err.message.startswith("no profile named 'acmee' (did you mean 'acme'?)")
    assert "sfcred profile list" in err.message


# ---------------------------------------------------------------- profile set, pure


def test_set_changes_only_what_is_given_and_bumps_the_revision() -> None:
    before = _profile(token_ttl=900, revision=4)
    after, changed = edit.apply(before, edit.Changes(token_ttl=3600))
    assert changed == [("token_ttl", 900, 3600)]
    assert after.token_ttl == 3600
    assert after.revision == 5
    assert (after.keys, after.client_id, after.login_url) == (before.keys, before.client_id,
                                                              before.login_url)


def test_a_derived_audience_follows_the_login_url_a_hand_set_one_stays() -> None:
    derived = _profile()
    after, _ = edit.apply(derived, edit.Changes(login_url="sandbox"))
    assert (after.login_url, after.audience) == ("https://test.salesforce.com",
                                                 "https://test.salesforce.com")
    by_hand = _profile(audience="https://acme.my.salesforce.com")
    after, changed = edit.apply(by_hand, edit.Changes(login_url="sandbox"))
    assert after.audience == "https://acme.my.salesforce.com"
    assert [c[0] for c in changed] == ["login_url"]


def test_set_checks_as_add_does() -> None:
    with pytest.raises(UsageError, match="at least one setting"):
        edit.apply(_profile(), edit.Changes())
    with pytest.raises(InputError, match="--token-ttl"):
        edit.apply(_profile(), edit.Changes(token_ttl=10))
    with pytest.raises(InputError, match="--refresh-margin"):
        edit.apply(_profile(token_ttl=120), edit.Changes(refresh_margin=120))
    with pytest.raises(InputError, match="not a Salesforce host"):
        edit.apply(_profile(), edit.Changes(login_url="https://evil.example.org"))
    with pytest.raises(InputError, match="printable"):
        edit.apply(_profile(), edit.Changes(username="  "))
    after, _ = edit.apply(_profile(), edit.Changes(
        login_url="https://evil.example.org", allow_hosts=("evil.example.org",)))
    assert after.allow_hosts == ("evil.example.org",)


def test_setting_what_is_there_changes_nothing() -> None:
    same = _profile(token_ttl=900)
    after, changed = edit.apply(same, edit.Changes(token_ttl=900))
    assert changed == []
    assert after is same


# ---------------------------------------------------------------- exec --env, trace switch


def test_exec_env_defaults_to_the_six_and_maps_fields() -> None:
    assert set(execute.env_map([])) == {"SF_ACCESS_TOKEN", "SF_INSTANCE_URL",
                                        "SFDX_ACCESS_TOKEN", "SFDX_INSTANCE_URL",
                                        "SF_TARGET_ORG", "SF_ORG_INSTANCE_URL"}
    assert execute.env_map(["TOKEN=access_token", "URL=instance_url"]) == {
        "TOKEN": "access_token", "URL": "instance_url"}


@pytest.mark.parametrize(("spec", "words"), [
    ("TOKEN", "VAR=FIELD"), ("1X=access_token", "VAR=FIELD"), ("X-Y=access_token", "VAR=FIELD"),
    ("T=password", "FIELD is one of"), ("SFCRED_PRIVATE_KEY=access_token", "own secrets"),
])
def test_exec_env_refuses_bad_specs(spec: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        execute.env_map([spec])


def test_trace_is_off_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert not trace.wanted({})
    assert not trace.wanted({"SFCRED_TRACE": "0"})
    assert trace.wanted({"SFCRED_TRACE": "1"})
    cli._tracing(["exec", "-p", "x", "--", "tool", "--verbose"])  # the tool's, not ours
    assert not trace.on()
    cli._tracing(["get", "--verbose"])
    assert trace.on()
    trace.say("hello")
    assert capsys.readouterr().err == "sfcred: trace: hello\n"
    cli._tracing(["get"])
    assert not trace.on()


# ---------------------------------------------------------------- through cli.main


def _add(name: str, standin: FakeSalesforce, tmp_path: Path, *source: str) -> None:
    argv = ["profile", "add", name, "--client-id", f"3MVG9{name}", "--username", USERNAME,
            "--login-url", standin.url, "--cert-out", str(tmp_path / f"{name}.crt"),
            *(source or ("--generate-key",))]
    assert cli.main(argv, stdin=io.StringIO("")) == 0


def test_profile_set_says_updated_and_keeps_the_keys(
        standin: FakeSalesforce, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _add("acme", standin, tmp_path)
    cli.main(["profile", "show", "acme"], stdin=io.StringIO(""))
    before = capsys.readouterr().out
    assert cli.main(["profile", "set", "acme", "--token-ttl", "3600"],
                    stdin=io.StringIO("")) == 0
    err = capsys.readouterr().err
    assert "updated profile acme: token_ttl 900 -> 3600" in err
    assert "added" not in err
    cli.main(["profile", "show", "acme"], stdin=io.StringIO(""))
    after = capsys.readouterr().out
    assert "token_ttl:       3600" in after
    key_lines = [line for line in before.splitlines() if " key:" in line]
    assert key_lines
    assert key_lines == [line for line in after.splitlines() if " key:" in line]
    assert cli.main(["profile", "set", "acme"], stdin=io.StringIO("")) == 2
    assert cli.main(["profile", "set", "acmee", "--token-ttl", "60"],
                    stdin=io.StringIO("")) == 1
    assert "did you mean 'acme'?" in capsys.readouterr().err


def test_remove_without_a_terminal_refuses_at_once_and_keeps_everything(
        standin: FakeSalesforce, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _add("acme", standin, tmp_path)
    capsys.readouterr()
    started = time.monotonic()
    assert cli.main(["profile", "remove", "acme"], stdin=io.StringIO("y\n")) == 2
    assert time.monotonic() - started < 5  # never waits (a pipe is nobody to ask)
    err = capsys.readouterr().err
    assert "only copy of its active key SHA256:" in err
    assert "--yes" in err
    assert cli.main(["profile", "show", "acme"], stdin=io.StringIO("")) == 0
    assert cli.main(["profile", "remove", "acme", "--yes"], stdin=io.StringIO("")) == 0
    assert cli.main(["profile", "show", "acme"], stdin=io.StringIO("")) == 1


def test_remove_of_an_imported_key_does_not_ask_a_rotated_one_does(
        standin: FakeSalesforce, tmp_path: Path, rsa_keypair,
        capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key.pem"
    key.write_text(rsa_keypair.key_pem)
    _add("filed", standin, tmp_path, "--key-file", str(key))
    assert cli.main(["profile", "remove", "filed"], stdin=io.StringIO("")) == 0  # a copy exists
    _add("filed", standin, tmp_path, "--key-file", str(key))
    assert cli.main(["rotate", "filed", "--cert-out", str(tmp_path / "p.crt")],
                    stdin=io.StringIO("")) == 0
    capsys.readouterr()
    assert cli.main(["profile", "remove", "filed"], stdin=io.StringIO("")) == 2
    err = capsys.readouterr().err
    assert "pending key" in err
    assert "active key" not in err


def test_a_mistyped_profile_gets_a_suggestion_in_get_and_show(
        standin: FakeSalesforce, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _add("production", standin, tmp_path)
    capsys.readouterr()
    for argv in (["get", "-p", "prodution"], ["profile", "show", "prodution"],
                 ["profile", "default", "prodution"], ["profile", "remove", "prodution"],
                 ["cert", "prodution"], ["erase", "-p", "prodution"]):
        assert cli.main(argv, stdin=io.StringIO("")) == 1, argv
        assert "did you mean 'production'?" in capsys.readouterr().err, argv
    assert cli.main(["doctor", "prodution"], stdin=io.StringIO("")) != 0
    out = capsys.readouterr()
    assert "did you mean 'production'?" in out.out + out.err


def test_a_profile_the_index_lists_but_the_keyring_lacks_is_named_so(
        standin: FakeSalesforce, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Added under another keyring backend (a child process's in-memory one, say): `show`
    says the index lists it and where to look, never "did you mean" the very same name."""
    from sfcred.testing.keyrings import MemoryKeyring

    _add("listed", standin, tmp_path)
    MemoryKeyring.clear()
    capsys.readouterr()
    assert cli.main(["profile", "show", "listed"], stdin=io.StringIO("")) == 1
    err = capsys.readouterr().err
    assert "index lists it" in err
    assert "sfcred doctor" in err
    assert "did you mean" not in err
