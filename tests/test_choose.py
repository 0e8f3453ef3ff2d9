"""helper.choose: which profile answers, and the rule over every choice: a request that names a
host (or a protocol, or a user) is answered only by a profile that owns it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfcred.errors import ConfigError, InputError, NotServed
from sfcred.helper.choice import Choice, choose
from sfcred.helper.protocol import parse
from sfcred.profiles.index import Index, IndexEntry, IndexFile

PROD = IndexEntry("acme.my.salesforce.com", "int@acme.com", "acme.my.salesforce.com",
                  login_scheme="https", instance_scheme="https")
SANDBOX = IndexEntry("test.salesforce.com", "int@acme.com.uat",
                     "acme--uat.sandbox.my.salesforce.com",
                     login_scheme="https", instance_scheme="https")
LOCAL = IndexEntry("127.0.0.1:4567", "dev@example.com", "127.0.0.1:4567",
                   login_scheme="http", instance_scheme="http")


def index() -> Index:
    return Index(default="prod", profiles={"prod": PROD, "uat": SANDBOX, "local": LOCAL})


def pick(text: str, flag: str | None = None, env: str | None = None) -> Choice:
    return choose(parse(text), flag, env, index)


def as_tuple(c: Choice) -> tuple[str, str | None, str | None]:
    return c.name, c.protocol, c.host


# ---------------------------------------------------------------- what is answered


@pytest.mark.parametrize(
    ("text", "flag", "env", "expected"),
    [
        ("", None, None, ("prod", None, None)),
        ("", "uat", None, ("uat", None, None)),
        ("", None, "uat", ("uat", None, None)),
        ("profile=uat\n", None, None, ("uat", None, None)),
        ("protocol=https\nhost=acme.my.salesforce.com\n", None, None,
         ("prod", "https", "acme.my.salesforce.com")),
        ("host=ACME.my.salesforce.com:443\n", None, None,
         ("prod", "https", "ACME.my.salesforce.com:443")),
        ("host=acme--uat.sandbox.my.salesforce.com\n", None, None,
         ("uat", "https", "acme--uat.sandbox.my.salesforce.com")),
        ("protocol=https\nhost=test.salesforce.com\n", "uat", None,
         ("uat", "https", "test.salesforce.com")),
        ("protocol=http\nhost=127.0.0.1:4567\n", None, "local",
         ("local", "http", "127.0.0.1:4567")),
        ("url=https://int%40acme.com@acme.my.salesforce.com/x.git\n", "prod", None,
         ("prod", "https", "acme.my.salesforce.com")),
    ],
)  # fmt: skip
def test_owned_requests_are_answered_with_the_requests_own_host(
    text: str, flag: str | None, env: str | None, expected: tuple[str, str | None, str | None]
) -> None:
    assert as_tuple(pick(text, flag, env)) == expected


# ---------------------------------------------------------------- what is never answered

NOT_OWNED = {
    "pinned profile, foreign host": ("protocol=https\nhost=github.com\n", "prod", None),
    "env profile, foreign host": ("protocol=https\nhost=github.com\n", None, "prod"),
    "profile= field, foreign host": ("profile=prod\nhost=github.com\n", None, None),
    "pinned, plain http to an https host": ("protocol=http\nhost=acme.my.salesforce.com\n",
                                            "prod", None),
    "routed, plain http to an https host": ("protocol=http\nhost=acme.my.salesforce.com\n",
                                            None, None),
    "https host on another port": ("protocol=https\nhost=acme.my.salesforce.com:8443\n",
                                   "prod", None),
    "a look-alike host": ("host=acme.my.salesforce.com.evil.example\n", "prod", None),
    "the other profile's host": ("host=acme--uat.sandbox.my.salesforce.com\n", "prod", None),
    "another user": ("host=acme.my.salesforce.com\nusername=someone@else.com\n", "prod", None),
    "no profile serves the host": ("protocol=https\nhost=example.com\n", None, None),
    "the default, asked about a cert": ("protocol=cert\npath=/home/me/cert.p12\n", None, None),
    "a pinned profile, asked about a cert": ("protocol=cert\npath=/x.p12\n", "prod", None),
    "an empty host": ("protocol=https\nhost=\n", "prod", None),
    "an empty host from url=": ("url=https:///repo.git\n", None, None),
}


@pytest.mark.parametrize(("text", "flag", "env"), NOT_OWNED.values(), ids=NOT_OWNED.keys())
def test_a_request_the_profile_does_not_own_is_not_served(
    text: str, flag: str | None, env: str | None
) -> None:
    with pytest.raises(NotServed):
        pick(text, flag, env)


@pytest.mark.parametrize(
    ("flag", "env", "text"),
    [("", None, ""), (None, "", ""), (None, None, "profile=\n"), ("", None, "host=x.com\n")],
)
def test_an_empty_profile_name_is_an_error_never_the_default(
    flag: str | None, env: str | None, text: str
) -> None:
    with pytest.raises(InputError, match="empty") as e:
        pick(text, flag, env)
    assert not isinstance(e.value, NotServed)  # a real error: reported under git's name too


def test_a_pinned_profile_that_does_not_exist_is_a_real_error() -> None:
    with pytest.raises(ConfigError, match="no profile named 'nope'"):
        pick("host=acme.my.salesforce.com\n", "nope")


def test_a_host_several_profiles_serve_is_ambiguous_not_a_guess() -> None:
    twin = IndexEntry("acme.my.salesforce.com", "other@acme.com", login_scheme="https")
    idx = Index(profiles={"prod": PROD, "twin": twin})
    with pytest.raises(InputError, match="several profiles"):
        choose(parse("host=acme.my.salesforce.com\n"), None, None, lambda: idx)
    picked = choose(parse("host=acme.my.salesforce.com\nusername=other@acme.com\n"), None, None,
                    lambda: idx)
    assert picked.name == "twin"


def test_a_01_index_entry_without_schemes_means_https_or_either_on_loopback() -> None:
    old = Index(profiles={"prod": IndexEntry("acme.my.salesforce.com", "u"),
                          "dev": IndexEntry("127.0.0.1:9", "u")})
    assert old.match_host("acme.my.salesforce.com", None, "https") == ["prod"]
    assert old.match_host("acme.my.salesforce.com", None, "http") == []
    assert old.match_host("127.0.0.1:9", None, "http") == ["dev"]
    assert old.match_host("127.0.0.1:9", None, "https") == ["dev"]


# ---------------------------------------------------------------- the index is read back untrusted

CRAFTED = {
    "a default that climbs out": {"default": "../../../../tmp/x", "profiles": {}},
    "a profile name with a slash": {"profiles": {"a/b": {"login_host": "h", "username": "u"}}},
    "a profile name with a dot start": {"profiles": {".x": {"login_host": "h", "username": "u"}}},
    "a host with a path": {"profiles": {"p": {"login_host": "h/x", "username": "u"}}},
    "a host with userinfo": {"profiles": {"p": {"login_host": "u@h", "username": "u"}}},
    "a scheme that is not https": {"profiles": {"p": {"login_host": "h", "username": "u",
                                                      "login_scheme": "ftp"}}},
    "a number for a host": {"profiles": {"p": {"login_host": 5, "username": "u"}}},
    "a list for profiles": {"profiles": ["p"]},
    "an entry that is a string": {"profiles": {"p": "h"}},
    "a control character in a user name": {"profiles": {"p": {"login_host": "h",
                                                              "username": "u\x1b[2J"}}},
    "not an object": ["default"],
}


@pytest.mark.parametrize("data", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_index_is_a_named_error(tmp_path: Path, data: object) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="is damaged"):
        IndexFile(str(path)).load()


@pytest.mark.parametrize(
    "raw", [b"[" * 100_000, b"\xff\xfe", b"{" + b" " * (2 << 20) + b"}"],
    ids=["deeply nested", "not UTF-8", "over 1 MiB"],
)
def test_a_damaged_index_is_a_named_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "profiles.json"
    path.write_bytes(raw)
    with pytest.raises(ConfigError, match="is damaged"):
        IndexFile(str(path)).load()


def test_fields_a_later_version_adds_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"default": "p", "future": 1, "profiles": {
        "p": {"login_host": "h.example", "username": "u", "added_later": {"x": 1}}}}))
    loaded = IndexFile(str(path)).load()
    assert loaded.default == "p"
    assert loaded.profiles == {"p": IndexEntry("h.example", "u")}


def test_an_index_written_by_sfcred_reads_back_the_same(tmp_path: Path) -> None:
    file = IndexFile(str(tmp_path / "profiles.json"))
    with file.edit() as idx:
        idx.profiles.update(index().profiles)
        idx.default = "prod"
    again = file.load()
    assert again.default == "prod"
    assert again.profiles == index().profiles
