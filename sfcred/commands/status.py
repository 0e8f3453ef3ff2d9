"""``sfcred status [NAME] [--json]``: per profile, the token's state, the last mint and the
remembered failure with the next try, and the logins of the last hour against the budget."""

from __future__ import annotations

import argparse
import contextlib

from sfcred import app
from sfcred.commands import Console
from sfcred.errors import ConfigError, SfcredError
from sfcred.fleet import index as fleetindex
from sfcred.tokens.status import lines, status


def run(args: argparse.Namespace, con: Console) -> int:
    tokens = app.tokens(note=con.err)
    if tokens.shared is not None:  # the fleet's profiles too, as doctor lists them
        with contextlib.suppress(SfcredError):
            fleetindex.sync_index(tokens.store, tokens.index)
    names = sorted(tokens.index.load().profiles)
    if args.name is not None:
        tokens.known(args.name)
        names = [args.name]
    if not names:
        raise ConfigError("no profiles; add one with `sfcred profile add`")
    views = [status(tokens, name, tokens.store.require_profile(name)) for name in names]
    if args.json:
        con.json(views)  # a list, one object per profile, NAME given or not
    else:
        con.out("".join(line + "\n" for view in views for line in lines(view)))
    return 0
