"""``sfcred doctor [NAME] [--json] [--offline]``: the checklist, as text or JSON."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from sfcred import app
from sfcred.commands import Console
from sfcred.doctor.checklist import diagnose
from sfcred.index import index_file

MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}


def run(args: argparse.Namespace, con: Console) -> int:
    checks = diagnose(args.name, offline=args.offline, store=app.keystore(),
                             index=index_file(), client=app.token_client)
    if args.json:
        con.json([asdict(c) for c in checks])
    else:
        for c in checks:
            con.out(f"{MARKS[c.status]} {c.title}: {c.detail}\n")
            if c.fix and c.status != "ok":
                con.out(f"    fix: {c.fix}\n")
    failed = [c for c in checks if c.status == "fail"]
    return failed[0].exit_code if failed else 0
