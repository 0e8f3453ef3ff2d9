"""``python -m sfcred.testing`` (or ``sfcred.testing.server``): the same command as
``sfcred standin`` (``grammar``, ``shell``), for a stand-in used without sfcred's own CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sfcred.testing.standin.grammar import add_arguments


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a stand-in, or drive the running one, as ``argv`` says."""
    from sfcred.testing.standin.client import StandinError
    from sfcred.testing.standin.shell import run

    parser = argparse.ArgumentParser(
        prog="python -m sfcred.testing",
        description="Run a local Salesforce stand-in, or drive the one running "
                    "(the same as `sfcred standin`).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, out=lambda text: print(text, end="", flush=True),
                   info=lambda line: print(line, file=sys.stderr, flush=True))
    except StandinError as e:
        print(f"python -m sfcred.testing: {e}", file=sys.stderr)
        return 1
