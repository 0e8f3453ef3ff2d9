"""Deadlines: how long one operation may take, all retries included, and running a call that
could block forever within what is left.

A per-read timeout is not a deadline: a server that drips one byte every few seconds, or sends
``100 Continue`` forever, restarts it with every byte. So a blocking call (an HTTP exchange, a
keyring call) runs in a daemon thread and is waited for at most the time left; a call that
does not return in time is abandoned (the thread dies with the process) and ``Expired`` is
raised instead.

Also the waits built on those deadlines (``lock_wait``). The warm path of ``get`` waits on a
profile's lock too, so this module imports nothing heavy at module level (no threading, typing).
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing stays off the warm path; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")

MINT_SECONDS = 15.0  # one mint, every retry included (SFCRED_TIMEOUT)
LEASE_SECONDS = 30.0  # docs/fleet.md: a fleet lease expires within 30 s


class Expired(Exception):
    """The call did not return within its time."""


def seconds(variable: str, default: float) -> float:
    """A positive number of seconds from the environment (at most an hour), else ``default``."""
    try:
        value = float(os.environ.get(variable) or default)
    except ValueError:
        return default
    return value if 0 < value <= 3600 else default


def mint_budget() -> float:
    return seconds("SFCRED_TIMEOUT", MINT_SECONDS)


def lease_seconds() -> float:
    """The fleet lease's length: 30 s, or less with ``SFCRED_LEASE_SECONDS`` (tests; never
    more)."""
    return min(LEASE_SECONDS, seconds("SFCRED_LEASE_SECONDS", LEASE_SECONDS))


def lock_wait(lease: float | None) -> float:
    """How long a waiter waits on a profile's lock: the holder's mint budget and a little
    more, so a waiter outlasts a holder that is still trying; in fleet mode (``lease``: the
    lease's length) also a whole lease, which the holder may wait for the fleet first."""
    budget = mint_budget()
    wait = budget + min(5.0, budget)
    return wait + lease + 1.0 if lease is not None else wait


class Deadline:
    """A point in (monotonic) time; ``left()`` is what remains of it, never below zero."""

    def __init__(self, budget: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.budget = budget
        self.at = clock() + budget

    def left(self) -> float:
        return max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.left() <= 0


def run_within(fn: Callable[[], T], timeout: float, name: str = "sfcred-call") -> T:
    """``fn()`` in a daemon thread, waited for at most ``timeout`` seconds. What it raises,
    even a BaseException (a simulated crash in the tests), is raised here."""
    import threading

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise Expired
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value
