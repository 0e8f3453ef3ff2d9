"""``sfcred demo``: the main job end to end against the embedded stand-in, narrated."""

from __future__ import annotations

import argparse

from sfcred import demo
from sfcred.commands import Console


def run(args: argparse.Namespace, con: Console) -> int:
    for line in demo.run():
        con.out(line + "\n")
    return 0
