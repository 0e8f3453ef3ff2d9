"""``sfcred completion bash|zsh|fish``: print the shell's completion script."""

from __future__ import annotations

import argparse

from sfcred.commands import Console, scripts


def run(args: argparse.Namespace, con: Console) -> int:
    con.out(scripts.script(args.shell))
    return 0
