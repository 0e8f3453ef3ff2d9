"""``loads``: JSON as the profile index is written (objects, strings, null, true, false),
read without importing ``json``, whose decoder imports ``re``: together 5-9 ms of a routed
warm ``get`` that otherwise costs about 15 ms (``python -X importtime -c "import json"``;
docs/speed.md). Anything outside that subset (numbers, arrays, surrogate escapes, deep
nesting, invalid text) is handed to ``json.loads``, so the answer is always what ``json``
would give: this reader only ever says yes where ``json`` says the same yes
(``tests/test_minijson.py`` checks that with hypothesis).
"""

from __future__ import annotations

_WS = " \t\n\r"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}
_MAX_DEPTH = 32


class _Unsupported(Exception):
    """Not in the subset: ``json`` decides."""


def loads(raw: bytes | str) -> object:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        reader = _Reader(text)
        value = reader.value(0)
        reader.skip_ws()
        if reader.i != len(text):
            raise _Unsupported
        return value
    except (_Unsupported, UnicodeDecodeError, IndexError):
        import json

        return json.loads(raw)


class _Reader:
    __slots__ = ("i", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def skip_ws(self) -> None:
        text, i = self.text, self.i
        while i < len(text) and text[i] in _WS:
            i += 1
        self.i = i

    def value(self, depth: int) -> object:
        self.skip_ws()
        char = self.text[self.i]
        if char == "{":
            return self.obj(depth + 1)
        if char == '"':
            return self.string()
        for word, value in (("null", None), ("true", True), ("false", False)):
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return value
        raise _Unsupported

    def obj(self, depth: int) -> dict[str, object]:
        if depth > _MAX_DEPTH:
            raise _Unsupported
        self.i += 1
        out: dict[str, object] = {}
        self.skip_ws()
        if self.text[self.i] == "}":
            self.i += 1
            return out
        while True:
            self.skip_ws()
            if self.text[self.i] != '"':
                raise _Unsupported
            key = self.string()
            self.skip_ws()
            if self.text[self.i] != ":":
                raise _Unsupported
            self.i += 1
            out[key] = self.value(depth)
            self.skip_ws()
            char = self.text[self.i]
            self.i += 1
            if char == "}":
                return out
            if char != ",":
                raise _Unsupported

    def string(self) -> str:
        text, i = self.text, self.i + 1
        parts: list[str] = []
        while True:
            end = text.find('"', i)
            slash = text.find("\\", i, end if end >= 0 else len(text))
            if end < 0:
                raise _Unsupported
            stop = slash if slash >= 0 else end
            chunk = text[i:stop]
            if any(c < " " for c in chunk):
                raise _Unsupported  # json refuses raw control characters in strings
            parts.append(chunk)
            if slash < 0:
                self.i = end + 1
                return "".join(parts)
            kind = text[slash + 1]
            if kind == "u":
                digits = text[slash + 2:slash + 6]
                if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    raise _Unsupported
                code = int(digits, 16)
                if 0xD800 <= code <= 0xDFFF:
                    raise _Unsupported  # surrogates: json pairs them up; let it
                parts.append(chr(code))
                i = slash + 6
            elif kind in _ESCAPES:
                parts.append(_ESCAPES[kind])
                i = slash + 2
            else:
                raise _Unsupported
