"""A string that cannot leak by accident: its repr and str hide the value.

The value is only reachable through ``reveal()``, so every place that lets a secret out is
greppable. Used for private keys, access tokens and client secrets.
"""

from __future__ import annotations

_MASK = "<redacted>"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac

        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would copy the value somewhere we do not control.
        raise TypeError("a Secret cannot be pickled")
