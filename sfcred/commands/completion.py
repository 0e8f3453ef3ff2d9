"""``sfcred completion bash|zsh|fish``: print the shell's completion script."""

from __future__ import annotations

import argparse

from sfcred import completion
from sfcred.commands import Console


def run(args: argparse.Namespace, con: Console) -> int:
    con.out(completion.script(args.shell))
    return 0
