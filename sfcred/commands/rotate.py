"""``sfcred rotate NAME [...] | --activate | --abort | --rollback``: each step narrated."""

from __future__ import annotations

import argparse

from sfcred import app
from sfcred.commands import Console
from sfcred.errors import UsageError
from sfcred.profiles import manage
from sfcred.rotation import lifecycle
from sfcred.tokens.flight import Tokens


def _deploy(args: argparse.Namespace, con: Console, tokens: Tokens) -> int:
    from sfcred.rotation import deploy

    if args.wait < 0:
        raise UsageError("--wait: give seconds, 0 or more")
    opts = deploy.Deploy(
        app=args.app, eca=args.eca, wait=args.wait, deploy_profile=args.deploy_profile,
        if_older_than=deploy.parse_age(args.if_older_than) if args.if_older_than else None,
        key_size=args.key_size, cert_days=args.cert_days)
    tokens.known(args.name)
    deploy.Runner(tokens, app.token_client, note=con.err, progress=con.progress).run(
        args.name, opts)
    return 0


def run(args: argparse.Namespace, con: Console) -> int:
    deploy_only = (args.app, args.eca, args.deploy_profile, args.if_older_than)
    if not args.deploy and any(deploy_only):
        raise UsageError("--app, --eca, --deploy-profile and --if-older-than go with --deploy")
    if args.secret_stdin and (args.activate or args.abort or args.rollback or args.deploy
                              or args.cert_out or args.key_size):
        raise UsageError("rotate: --secret-stdin starts a rotation; it goes with no other step")
    if args.cert_out and not (args.activate or args.abort or args.rollback):
        manage.check_cert_out(args.cert_out)
    secret = None
    if args.secret_stdin:  # read before any lock is taken: a person may be typing it
        from sfcred.commands.secretinput import read_secret

        secret = read_secret(con.stdin, "--secret-stdin", "new consumer secret")
    tokens = app.tokens(note=con.err)
    if args.deploy:
        return _deploy(args, con, tokens)
    with tokens.changing(args.name) as profile:
        if args.activate:
            client = app.token_client()
            try:
                lifecycle.activate(tokens.store, client, profile)
            finally:
                client.close()
            what = "secret" if profile.client_credentials else "key"
            con.err(f"profile {args.name}: Salesforce accepted the pending {what}; it is now "
                    "active")
        elif args.abort:
            lifecycle.abort(tokens.store, profile)
            what = "secret" if profile.client_credentials else "key"
            con.err(f"profile {args.name}: pending {what} discarded; the active {what} is "
                    "unchanged")
        elif args.rollback:
            lifecycle.rollback(tokens.store, profile)
            con.err(f"profile {args.name}: the previous secret is active again (make it the "
                    "app's consumer secret at Salesforce again, if it is not)"
                    if profile.client_credentials else
                    f"profile {args.name}: the previous key is active again (re-upload its "
                    f"certificate: `sfcred cert {args.name}`)")
        elif secret is not None:
            lifecycle.stage_secret(tokens.store, profile, secret.reveal(), args.force)
            con.err(f"profile {args.name}: pending secret stored. Tools keep minting with the "
                    "active secret; once Salesforce refuses it (the app's secret changed), "
                    "the next get switches to the pending one by itself")
        else:
            _, cert_pem = lifecycle.start(tokens.store, profile, args.key_size, args.cert_days,
                                       args.force)
            if args.cert_out:
                manage.write_cert(args.cert_out, cert_pem)
                con.err(f"new certificate written to {args.cert_out}")
            else:
                con.out(cert_pem)
            con.err(f"profile {args.name}: pending key created. Upload its certificate: "
                    + lifecycle.UPLOAD_STEPS)
    return 0
