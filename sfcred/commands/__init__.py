"""One module per command: each ``run(args, console) -> exit code`` is a function of its parsed
arguments and what ``cli`` injects, and never touches the process itself.

``Console`` is the injected I/O: ``out`` writes text to stdout as is, ``err`` writes one line
to stderr with the ``sfcred:`` prefix (notes, warnings), ``info`` one plain line to stderr
(a command's own report, such as ``added profile ...``), ``stdin`` is the input or None.
Errors are raised from the one tree in ``errors``; ``cli`` turns them into exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass(frozen=True)
class Console:
    out: Callable[[str], None]
    err: Callable[[str], None]
    info: Callable[[str], None]
    stdin: TextIO | None = None

    def json(self, data: Any) -> None:
        self.out(json.dumps(data, indent=2) + "\n")
