"""The actions' side of a running stand-in: one request to its control listener, found
through ``control.json`` in its folder (``control``). Standard library only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

Write = Callable[[str], None]
WAIT = 20.0  # seconds an action waits for a stand-in that is starting


class StandinError(Exception):
    """What the command says on one line before it exits 1."""


def call(folder: Path, op: str, params: dict[str, Any], wait: float = WAIT) -> dict[str, Any]:
    """One control request to the stand-in serving ``folder``; waits up to ``wait`` s for
    one that is starting (``control.json`` not there yet, or not answering yet)."""
    give_up = time.monotonic() + wait
    while True:
        try:
            where = json.loads((folder / "control.json").read_text(encoding="utf-8"))
            request = urllib.request.Request(
                f"http://127.0.0.1:{where['control_port']}/op", method="POST",
                data=json.dumps({"op": op, "args": params}).encode(),
                headers={"Authorization": f"Bearer {where['token']}",
                         "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                result: dict[str, Any] = json.loads(answer.read())
            if op == "status":
                result["trust"] = where.get("trust", {})
            return result
        except urllib.error.HTTPError as e:
            raise StandinError(json.loads(e.read() or b"{}").get("error", str(e))) from None
        except (OSError, ValueError, KeyError):
            if time.monotonic() >= give_up:
                raise StandinError(f"no stand-in answers for {folder} (start one with "
                                   "`sfcred standin &`; --dir or SFCRED_STANDIN_DIR name "
                                   "another)") from None
            time.sleep(0.1)
