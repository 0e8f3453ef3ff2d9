"""``Plain``: equality, hash and repr from a class's ``__slots__``, for the few value classes
the warm path builds by hand (a dataclass import doubles a cached ``get``'s start-up)."""

from __future__ import annotations


class Plain:
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
