"""``sfcred cert NAME [--pending]``: the certificate (PEM) to upload to the connected app."""

from __future__ import annotations

import argparse

from sfcred import app
from sfcred.commands import Console
from sfcred.errors import ConfigError
from sfcred.profiles import manage
from sfcred.profiles.index import index_file


def run(args: argparse.Namespace, con: Console) -> int:
    try:
        pem = manage.cert(args.name, app.keystore(), args.pending)
    except ConfigError:
        names = index_file().load().profiles
        if args.name in names:
            raise
        from sfcred.profiles.suggest import missing

        raise missing(args.name, names) from None  # a mistyped name: the closest ones
    con.out(pem)
    return 0
