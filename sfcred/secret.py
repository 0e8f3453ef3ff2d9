"""The warm path's value helpers: ``Secret`` and ``Plain``.

``Secret`` is a string that cannot leak by accident: its repr and str hide the value, which
is only reachable through ``reveal()``, so every place that lets a secret out is greppable.
Used for private keys, access tokens and client secrets.
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


class Plain:
    """Equality, hash and repr from a class's ``__slots__``, for the few value classes the
    warm path builds by hand (a dataclass import doubles a cached ``get``'s start-up). Here,
    not in a module of its own: each module on the warm path costs an import."""

    __slots__ = ()

    def _names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = self.__slots__  # the subclass's
        return names

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, f) for f in self._names())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Plain):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={v!r}" for f, v in zip(self._names(), self._values(), strict=True))
        return f"{type(self).__name__}({inner})"
