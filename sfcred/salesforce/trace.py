"""``--verbose`` / ``SFCRED_TRACE=1``: one line on stderr per decision (the profile chosen and
why, a cache hit or miss, each URL called, each retry). Never a secret: callers pass names,
hosts, URLs without queries, states and seconds, never a token, key, assertion or form body.

Off by default and free when off: ``cli`` alone decides (an environment lookup, no import)
and calls ``start`` with its stderr writer; until then ``say`` does nothing. The warm path of
``get`` never imports this module unless tracing is on (``cli`` hands it ``say``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays out of what a traced warm get imports
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sfcred.tokens.entry import Entry

_SINKS: list[Callable[[str], None]] = []
VARIABLE = "SFCRED_TRACE"


def wanted(environ: Mapping[str, str]) -> bool:
    """``SFCRED_TRACE`` set to anything but empty or ``0``."""
    return environ.get(VARIABLE, "") not in ("", "0")


def start(sink: Callable[[str], None]) -> None:
    """Send every later ``say`` to ``sink`` (one line, no newline)."""
    _SINKS[:] = [sink]


def stop() -> None:
    _SINKS.clear()


def on() -> bool:
    return bool(_SINKS)


def say(line: str) -> None:
    for sink in _SINKS:
        sink(line)


def cache_state(entry: Entry | None, now: float) -> str:
    """A cache entry in words: hit or miss, its state and seconds left, never the token."""
    if entry is None:
        return "miss: no token cached"
    state = entry.state(now)
    return f"{'hit' if state == 'fresh' else 'miss'}: {state}, expires in " \
           f"{entry.expires_at - now:.0f} s"
