"""``sfcred authorize NAME``: the one-time browser approval, then a JWT mint to prove it."""

from __future__ import annotations

import argparse

from sfcred import app
from sfcred.authorize import flow
from sfcred.commands import Console
from sfcred.errors import ConfigError, InputError
from sfcred.secret import Secret


def run(args: argparse.Namespace, con: Console) -> int:
    secret = None
    if args.client_secret_stdin:
        line = con.stdin.readline().rstrip("\r\n") if con.stdin is not None else ""
        if not line:
            raise InputError("--client-secret-stdin: no client secret on stdin")
        secret = Secret(line)
    tokens = app.tokens(note=con.err)
    tokens.known(args.name)  # a mistyped name: the closest known ones, before the keyring
    profile = tokens.store.require_profile(args.name)
    if profile.client_credentials:  # the app's Run As user needs no approval
        raise ConfigError(f"profile {args.name} uses the client credentials grant: there is "
                          "no user approval to give",
                          hint=f"`sfcred doctor {args.name}` checks the app's settings")
    flow.authorize(profile, port=args.port, open_browser=not args.no_browser,
                        client_secret=secret, timeout=args.timeout, say=con.err)
    tokens.erase(args.name)
    entry = tokens.get(args.name)
    con.err(f"✓ approved: the JWT bearer flow now works for {entry.username} "
            f"({entry.instance_url})")
    return 0
