"""``sfcred.minijson.loads`` answers exactly what ``json.loads`` answers: for documents of
every shape (hypothesis), as ``json.dumps`` writes them and as people type them, for broken
text, and for the index files sfcred writes. It is the index reader of every path, warm and
full, so a difference would change which profile answers."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfcred import minijson

pytestmark = pytest.mark.unit

scalars = st.one_of(st.none(), st.booleans(), st.text(), st.integers(), st.floats(
    allow_nan=False))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)), max_leaves=20)


def same(text: str | bytes) -> None:
    try:
        expected: object = json.loads(text)
    except ValueError as e:
        error = e
    else:
        got = minijson.loads(text)
        assert got == expected
        assert type(got) is type(expected)
        return
    with pytest.raises(type(error), match=re.escape(str(error))):  # json's own error
        minijson.loads(text)


@settings(max_examples=400, deadline=None)
@given(documents, st.sampled_from([None, 2]), st.booleans())
def test_every_document_as_json_writes_it(doc: object, indent: int | None, ascii_: bool) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_)
    same(text)
    same(text.encode("utf-8"))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='{}[]":,\\ntrufalse u0123456789abcdefD8\t\r\x00\x1f é"', max_size=40))
def test_arbitrary_text_gets_json_s_answer_or_json_s_error(text: str) -> None:
    same(text)


@pytest.mark.parametrize("text", [
    '{"a": "x\\"y", "b": "\\u00e9\\n\\/", "c": null, "d": true, "e": false}',
    '{"a": "\\ud83d\\ude00"}', '{"a": "\\ud800"}', '{"a": 1}', '{"a": [1, 2]}',
    '{"a": "raw\x01"}', '{"a": "bad \\x escape"}', '{"a": "\\u12"}', '{"a" "b"}',
    '{"a": "b",}', '{}', '  {"a":{"b":{}}}  ', '{"a": nul}', '{"a": null} x', "",
    "\ufeff{}", '{"a": "b"}\n', '"top"', "null", '{"a": "b", "a": "c"}',
    '{' * 40 + '}' * 40,
])
def test_hand_picked_cases(text: str) -> None:
    same(text)
    same(text.encode("utf-8"))


def test_utf8_bom_and_bad_bytes() -> None:
    same(b"\xef\xbb\xbf{}")
    same(b'{"a": "\xff"}')


subset = st.recursive(st.one_of(st.none(), st.booleans(), st.text()),
                      lambda inner: st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), subset, max_size=4), st.sampled_from([None, 2]))
def test_the_index_subset_is_read_without_json(doc: dict[str, object],
                                               indent: int | None) -> None:
    """The point of the module: the shapes the index has never reach json.loads."""
    text = json.dumps(doc, indent=indent)
    if any(ord(c) > 0xFFFF or 0xD800 <= ord(c) <= 0xDFFF
           for c in json.dumps(doc, ensure_ascii=False)):
        return  # characters json.dumps escapes as surrogates are json's to read
    real = json.loads
    calls: list[object] = []
    def spy(*a: object, **k: object) -> object:
        calls.append(a)
        return real(*a, **k)  # type: ignore[arg-type]

    json.loads = spy  # type: ignore[assignment]
    try:
        assert minijson.loads(text) == doc
    finally:
        json.loads = real
    assert calls == []
