"""A secret given on stdin (``--client-secret-stdin``, ``rotate --secret-stdin``): never argv.

From a pipe: the first line. From a terminal: asked for without echo (``getpass`` talks to
the terminal itself, so the prompt is not on stdout and nothing typed is shown).
"""

from __future__ import annotations

from typing import TextIO

from sfcred.errors import InputError
from sfcred.secret import Secret

MAX_LINE = 4096


def read_secret(stdin: TextIO | None, option: str, prompt: str) -> Secret:
    if stdin is None:
        raise InputError(f"{option}: nothing on stdin")
    if stdin.isatty():
        import getpass

        try:
            value = getpass.getpass(f"{prompt}: ")
        except EOFError:
            value = ""
    else:
        value = stdin.readline(MAX_LINE).rstrip("\r\n")
    if not value.strip():
        raise InputError(f"{option}: no secret given (pipe it in, or type it at the prompt)")
    return Secret(value)
