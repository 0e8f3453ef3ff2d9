"""``sfcred cert NAME [--pending]``: the certificate (PEM) to upload to the connected app."""

from __future__ import annotations

import argparse

from sfcred import app
from sfcred.commands import Console
from sfcred.profiles import manage


def run(args: argparse.Namespace, con: Console) -> int:
    con.out(manage.cert(args.name, app.keystore(), args.pending))
    return 0
