"""One module per command: each ``run(args, console) -> exit code`` is a function of its parsed
arguments and what ``cli`` injects, and never touches the process itself.

``Console`` is the injected I/O: ``out`` writes text to stdout as is, ``err`` writes one line
to stderr with the ``sfcred:`` prefix (notes, warnings), ``info`` one plain line to stderr
(a command's own report, such as ``added profile ...``), ``stdin`` is the input or None.
``ask`` puts a yes/no question to the person at a terminal (True: yes), and answers None at
once when there is nobody to ask (stdin is not a terminal): it never waits on a pipe.
``progress`` shows a state that replaces the last one: one rewritten line on a terminal, a
line each elsewhere.
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
    ask: Callable[[str], bool | None] = lambda _question: None
    progress: Callable[[str], None] | None = None

    def show(self, line: str) -> None:
        """A progress line (``progress``), or a plain info line without one."""
        (self.progress or self.info)(line)

    def json(self, data: Any) -> None:
        self.out(json.dumps(data, indent=2) + "\n")
