"""profiles (record, index): names, URL rules, audience defaults, the index and host routing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfcred.errors import InputError, NotServed
from sfcred.helper.choice import choose
from sfcred.helper.protocol import Request
from sfcred.profiles.index import Index, IndexEntry, IndexFile, check_name
from sfcred.profiles.record import (
    KeySlots,
    Profile,
    check_url,
    default_audience,
)


@pytest.mark.parametrize("name", ["prod", "my-org.uat", "A_1", "x" * 64])
def test_accepts_safe_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", " ", "a b", "a/b", "../x", ".hidden", "-x", "x" * 65,
                                  "a:b", "é"])
def test_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(InputError, match="invalid profile name"):
        check_name(name)


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("production", "https://login.salesforce.com"),
        ("sandbox", "https://test.salesforce.com"),
        ("https://Acme.my.salesforce.com/", "https://acme.my.salesforce.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1", "http://localhost:1"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_login_urls(given: str, url: str) -> None:
    assert check_url(given, "--login-url") == url


@pytest.mark.parametrize(
    "bad",
    ["http://acme.my.salesforce.com", "ftp://x", "https://", "https://u:p@x.com",
     "https://x.com/path", "https://x.com?q=1", "https://x.com:notaport", "login"],
)
def test_refuses_bad_urls(bad: str) -> None:
    with pytest.raises(InputError):
        check_url(bad, "--login-url")


@pytest.mark.parametrize(
    ("login", "aud"),
    [
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.site.com", "https://acme.my.site.com"),
    ],
)
def test_default_audience(login: str, aud: str) -> None:
    assert default_audience(login) == aud


def test_profile_record_round_trips_and_fits_one_keyring_item() -> None:
    p = Profile("p", "c" * 255, "u" * 255, "https://" + "h" * 200, "https://" + "a" * 200,
                KeySlots("a" * 16, "b" * 16, "c" * 16))
    assert Profile.from_json(p.to_json()) == p
    assert len(p.to_json()) <= 1280


def test_index_edit_persists_and_is_private(tmp_path: Path) -> None:
    f = IndexFile(str(tmp_path / "cfg" / "profiles.json"))
    with f.edit() as idx:
        idx.profiles["a"] = IndexEntry("login.salesforce.com", "u@a")
        idx.default = "a"
    assert f.load().default == "a"
    assert (tmp_path / "cfg").stat().st_mode & 0o777 == 0o700
    assert Path(f.path).stat().st_mode & 0o777 == 0o600


INDEX = Index(
    default="d",
    profiles={
        "d": IndexEntry("login.salesforce.com", "u@d"),
        "a": IndexEntry("acme.my.salesforce.com", "u@a", "acme.my.salesforce.com"),
        "b1": IndexEntry("test.salesforce.com", "u@b1", "b.sandbox.my.salesforce.com"),
        "b2": IndexEntry("test.salesforce.com", "u@b2", "b.sandbox.my.salesforce.com"),
    },
)


def load() -> Index:
    return INDEX


def test_empty_host_is_refused_even_with_a_named_profile() -> None:
    with pytest.raises(InputError, match="empty host"):
        choose(Request(host=""), "flag", None, load)


def test_named_profiles_are_checked_like_names() -> None:
    with pytest.raises(InputError, match="invalid profile name"):
        choose(Request(), "../etc", None, load)


def test_choice_order_flag_then_profile_then_env() -> None:
    # Each named profile owns acme's host here (b1/b2/a): the order alone decides.
    host = "test.salesforce.com"
    req = Request(profile="b2", host=host)
    assert choose(req, "b1", "a", load).name == "b1"
    assert choose(req, None, "b1", load).name == "b2"
    assert choose(Request(host=host), None, "b1", load).name == "b1"
    assert choose(Request(), "flag", "env", load).name == "flag"  # no host: no index needed


def test_choice_by_host_then_username() -> None:
    assert choose(Request(host="acme.my.salesforce.com"), None, None, load).name == "a"
    assert choose(Request(host="b.sandbox.my.salesforce.com", username="u@b2"), None, None,
                  load).name == "b2"
    with pytest.raises(InputError, match="several profiles"):
        choose(Request(host="b.sandbox.my.salesforce.com"), None, None, load)


def test_unknown_host_never_falls_back_to_the_default() -> None:
    with pytest.raises(NotServed, match="no profile for host"):
        choose(Request(host="github.com"), None, None, load)
    with pytest.raises(NotServed, match="empty host"):
        choose(Request(host=""), None, None, load)
    with pytest.raises(NotServed, match="does not serve"):
        choose(Request(host="github.com"), "a", None, load)
    assert choose(Request(), None, None, load).name == "d"
