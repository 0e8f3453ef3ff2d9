"""``sfcred doctor [NAME] [--json] [--offline]``: the checklist, as text or JSON."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import asdict

from sfcred import app
from sfcred.commands import Console
from sfcred.doctor.checklist import diagnose
from sfcred.errors import SfcredError
from sfcred.fleet import index as fleetindex
from sfcred.profiles.index import index_file
from sfcred.store import keyrecord

MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}


def run(args: argparse.Namespace, con: Console) -> int:
    keyrecord.forget()  # doctor reports keyring's own choice, found afresh (and remembered)
    store, index = app.keystore(), index_file()
    if fleetindex.fleet_mode():  # the fleet's profiles; a store that fails is its own check
        with contextlib.suppress(SfcredError):
            fleetindex.sync_index(store, index)
    checks = diagnose(args.name, offline=args.offline, store=store, index=index,
                      client=app.token_client)
    if args.json:
        con.json([asdict(c) for c in checks])
    else:
        for c in checks:
            con.out(f"{MARKS[c.status]} {c.title}: {c.detail}\n")
            if c.fix and c.status != "ok":
                con.out(f"    fix: {c.fix}\n")
    failed = [c for c in checks if c.status == "fail"]
    return failed[0].exit_code if failed else 0
