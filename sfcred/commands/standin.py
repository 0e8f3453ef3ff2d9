"""``sfcred standin [OPTIONS] [ACTION ...]``: the local Salesforce stand-in, from the installed
program (so it works under pipx). The command itself lives with the stand-in
(``sfcred.testing.standin.shell``); this turns its one-line errors into sfcred's."""

from __future__ import annotations

import argparse

from sfcred.commands import Console
from sfcred.errors import ConfigError


def run(args: argparse.Namespace, con: Console) -> int:
    from sfcred.testing.standin.client import StandinError
    from sfcred.testing.standin.shell import run as standin

    try:
        return standin(args, out=con.out, info=con.info)
    except StandinError as e:
        raise ConfigError(f"standin: {e}") from None
