"""Deadlines: how long one operation may take, all retries included, and running a call that
could block forever within what is left.

A per-read timeout is not a deadline: a server that drips one byte every few seconds, or sends
``100 Continue`` forever, restarts it with every byte. So a blocking call (an HTTP exchange, a
keyring call) runs in a daemon thread and is waited for at most the time left; a call that
does not return in time is abandoned (the thread dies with the process) and ``Expired`` is
raised instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
MINT_SECONDS = 15.0  # one mint, every retry included (SFCRED_TIMEOUT)


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
