""""Did you mean": the closest known profile names to a mistyped one (difflib), for the
errors of every command that takes a profile name. Imported only when such an error is made."""

from __future__ import annotations

from collections.abc import Iterable

from sfcred.errors import ConfigError


def close(name: str, names: Iterable[str]) -> list[str]:
    """At most three known names like ``name``, closest first (a wrong case counts as close)."""
    import difflib

    known = sorted(set(names) - {name})  # the name itself is no suggestion
    folded = [n for n in known if n.lower() == name.lower() and n != name]
    found = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    return (folded + [n for n in found if n not in folded])[:3]


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """`` (did you mean 'prod'?)``, or an empty string when nothing is close."""
    found = close(name, names)
    if not found:
        return ""
    return f" (did you mean {' or '.join(repr(n) for n in found)}?)"


def missing(name: str, names: Iterable[str], where: str = "") -> ConfigError:
    """The error for a profile name nobody has, with the closest names if any."""
    return ConfigError(f"no profile named {name!r}{where}{did_you_mean(name, names)}; "
                       "see `sfcred profile list`")
