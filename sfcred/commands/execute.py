"""``sfcred exec [-p NAME] -- COMMAND [ARGS...]``: the command and the environment it runs in:
``SF_ACCESS_TOKEN`` / ``SF_INSTANCE_URL`` (and the ``SFDX_`` names), and for the Salesforce CLI
``SF_TARGET_ORG`` (the token) with ``SF_ORG_INSTANCE_URL``.

``prepare`` mints (or reads from the cache) and returns the argv and environment; ``cli``
replaces the process with it, so the command's exit status is sfcred's.

The command gets the 15-minute token, not what sfcred holds to make more: ``SFCRED_PRIVATE_KEY``
(CI mode's key) and ``SFCRED_CLIENT_SECRET`` are always removed from its environment, and in
fleet mode (``SFCRED_STORE=vault://...``) the store's token too (``VAULT_TOKEN`` /
``BAO_TOKEN``: it reads every key in the store). ``--keep-secrets`` leaves them, for the rare
job that needs them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from sfcred import app
from sfcred.commands import Console
from sfcred.errors import UsageError
from sfcred.helper.protocol import Request
from sfcred.helper.serve import pick

OWN_SECRETS = ("SFCRED_PRIVATE_KEY", "SFCRED_CLIENT_SECRET")
STORE_TOKENS = ("VAULT_TOKEN", "BAO_TOKEN")  # what fleet mode reads the store with


def prepare(args: argparse.Namespace, con: Console,
            environ: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else list(args.cmd)
    if not cmd:
        raise UsageError("exec: give a command after --")
    choice, tokens = pick(Request(), args.profile, environ, app.provider(note=con.err))
    entry = tokens.get(choice.name)
    env = dict(environ)
    if not getattr(args, "keep_secrets", False):
        for name in without(environ):
            env.pop(name, None)
    token = entry.access_token.reveal()
    for prefix in ("SF", "SFDX"):
        env[f"{prefix}_ACCESS_TOKEN"] = token
        env[f"{prefix}_INSTANCE_URL"] = entry.instance_url
    # The Salesforce CLI takes an access token as its target org when the instance URL is
    # configured: `sf` commands then act on this org and store nothing
    # (docs/reference/protocol.md).
    env["SF_TARGET_ORG"] = token
    env["SF_ORG_INSTANCE_URL"] = entry.instance_url
    return cmd, env


def without(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The variables of sfcred's own secrets the command does not get: the key and client
    secret always, the store's token when sfcred reads the fleet store with it."""
    from sfcred.fleet.index import fleet_mode

    return OWN_SECRETS + (STORE_TOKENS if fleet_mode(environ) else ())
