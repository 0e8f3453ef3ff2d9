"""protocol.py: the wire format, including property tests of parse/format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfcred.errors import InputError
from sfcred.helper.protocol import Request, format_pairs, parse, url_parts

KEY = st.text(alphabet=st.characters(blacklist_characters="=\r\n\x00"), min_size=1, max_size=20)
VALUE = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00"), max_size=60)


def test_reads_known_keys_and_ignores_unknown_ones() -> None:
    req = parse("protocol=https\nhost=a.my.salesforce.com\nusername=u@x\nwwwauth[]=Basic\n"
                "capability[]=authtype\nfoo=bar\n\n")
    assert req == Request(protocol="https", host="a.my.salesforce.com", username="u@x",
                          capabilities=frozenset({"authtype"}))


def test_stops_at_the_first_blank_line() -> None:
    assert parse("host=a\n\nhost=b\n").host == "a"


def test_url_stands_for_its_parts_and_later_lines_override() -> None:
    req = parse("url=https://me@org.my.salesforce.com:8443/services/x\nusername=other\n")
    assert req.protocol == "https"
    assert req.host == "org.my.salesforce.com:8443"
    assert req.path == "services/x"
    assert req.username == "other"


@pytest.mark.parametrize(
    ("text", "line"),
    [("host=a\nnoequals\n", 2), ("host=a\x00b\n", 1), ("protocol=https\nhost=a\r\n", 2)],
)
def test_refuses_malformed_lines_naming_the_line(text: str, line: int) -> None:
    with pytest.raises(InputError, match=f"line {line}"):
        parse(text)


def test_empty_host_is_kept_distinct_from_no_host() -> None:
    assert parse("host=\n").host == ""
    assert parse("protocol=https\n").host is None


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b"])
def test_format_refuses_line_breaking_values(bad: str) -> None:
    with pytest.raises(InputError):
        format_pairs([("password", bad)])


@given(st.dictionaries(st.sampled_from(["protocol", "host", "path", "username", "profile"]),
                       VALUE.filter(bool)))
def test_round_trip_of_known_keys(fields: dict[str, str]) -> None:
    req = parse(format_pairs(fields.items()))
    for key, value in fields.items():
        assert getattr(req, key) == value


@given(st.lists(st.tuples(KEY, VALUE), max_size=8))
def test_parse_never_crashes_on_well_formed_lines(pairs: list[tuple[str, str]]) -> None:
    urls = [v for k, v in pairs if k == "url"]
    try:
        parse(format_pairs(pairs))
    except InputError:  # only url= values can be refused
        assert urls


@given(st.text(max_size=200))
def test_parse_of_arbitrary_text_raises_only_input_errors(text: str) -> None:
    error: InputError | None = None
    try:
        parse(text)
    except InputError as e:
        error = e
    assert error is None or str(error).startswith("input line")


# ---------------------------------------------------------------- url= as git reads it


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.my.salesforce.com", {"protocol": "https", "host": "acme.my.salesforce.com"}),
        ("https://[::1]:8443/repo.git", {"protocol": "https", "host": "[::1]:8443",
                                         "path": "repo.git"}),
        ("https://int%40acme.com@acme.my.salesforce.com/", {
            "protocol": "https", "host": "acme.my.salesforce.com", "username": "int@acme.com"}),
        ("https://u:p%3Aw@h.example/a/b/", {"protocol": "https", "host": "h.example",
                                            "username": "u", "password": "p:w", "path": "a/b"}),
        ("https://h.example?x=1", {"protocol": "https", "host": "h.example", "path": "?x=1"}),
        ("https://h.example/p@q", {"protocol": "https", "host": "h.example", "path": "p@q"}),
        ("cert:///home/me/c.p12", {"protocol": "cert", "host": "", "path": "home/me/c.p12"}),
    ],
)  # fmt: skip
def test_url_is_split_as_git_splits_it(url: str, expected: dict[str, str]) -> None:
    assert url_parts(url) == expected


def test_url_resets_what_it_stands_for() -> None:
    req = parse("username=old\npath=old\npassword=old\nurl=https://h.example\n")
    assert (req.protocol, req.host, req.path, req.username, req.password) == (
        "https", "h.example", None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize("url", ["h.example", "://h.example", "https://h%0a.example",
                                 "https://u%0d@h.example", "https://h.example/%00"])
def test_url_without_scheme_or_with_an_encoded_line_break_is_refused(url: str) -> None:
    with pytest.raises(InputError, match="line 1"):
        parse(f"url={url}\n")


def test_password_is_read_as_a_secret_and_an_empty_profile_is_kept() -> None:
    req = parse("password=tok3n\nprofile=\n")
    assert req.password is not None
    assert req.password.reveal() == "tok3n"
    assert "tok3n" not in repr(req)
    assert req.profile == ""
