"""``sfcred exec [-p NAME] [--env VAR=FIELD ...] -- COMMAND [ARGS...]``: the command and the
environment it runs in: ``SF_ACCESS_TOKEN`` / ``SF_INSTANCE_URL`` (and the ``SFDX_`` names),
and for the Salesforce CLI ``SF_TARGET_ORG`` (the token) with ``SF_ORG_INSTANCE_URL``; or,
with ``--env``, only the variables it names, each set to a field of the token.

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
from typing import TYPE_CHECKING

from sfcred import app
from sfcred.commands import Console
from sfcred.errors import UsageError
from sfcred.helper.protocol import Request
from sfcred.helper.serve import pick
from sfcred.salesforce import trace

if TYPE_CHECKING:
    from sfcred.tokens.entry import Entry

OWN_SECRETS = ("SFCRED_PRIVATE_KEY", "SFCRED_CLIENT_SECRET")
STORE_TOKENS = ("VAULT_TOKEN", "BAO_TOKEN")  # what fleet mode reads the store with


def prepare(args: argparse.Namespace, con: Console,
            environ: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else list(args.cmd)
    if not cmd:
        raise UsageError("exec: give a command after --")
    mapping = env_map(getattr(args, "env", None) or [])
    choice, tokens = pick(Request(), args.profile, environ, app.provider(note=con.err))
    trace.say(f"profile {choice.name}: {choice.why}")
    entry = tokens.get(choice.name)
    env = dict(environ)
    if not getattr(args, "keep_secrets", False):
        for name in without(environ):
            env.pop(name, None)
    values = fields(entry)
    for var, field in mapping.items():
        env[var] = values[field]
    trace.say(f"exec: set {', '.join(mapping)} for {cmd[0]}")
    return cmd, env


# Without --env: the token under the names the Salesforce tools read. `sf` takes an access
# token as its target org when the instance URL is configured: its commands then act on this
# org and store nothing (docs/reference/protocol.md).
DEFAULT_ENV = {
    "SF_ACCESS_TOKEN": "access_token", "SF_INSTANCE_URL": "instance_url",
    "SFDX_ACCESS_TOKEN": "access_token", "SFDX_INSTANCE_URL": "instance_url",
    "SF_TARGET_ORG": "access_token", "SF_ORG_INSTANCE_URL": "instance_url",
}
FIELDS = ("access_token", "instance_url", "username", "profile", "expires_at", "token_type")


def env_map(specs: list[str]) -> dict[str, str]:
    """``--env VAR=FIELD`` values as {VAR: FIELD}; none given: ``DEFAULT_ENV``."""
    if not specs:
        return dict(DEFAULT_ENV)
    mapping: dict[str, str] = {}
    for spec in specs:
        var, eq, field = spec.partition("=")
        if not eq or not var.isidentifier() or not var.isascii():
            raise UsageError(f"exec --env {spec!r}: give VAR=FIELD, VAR a variable name "
                             "(letters, digits, _)")
        if field not in FIELDS:
            raise UsageError(f"exec --env {spec!r}: FIELD is one of {', '.join(FIELDS)}")
        if var in OWN_SECRETS + STORE_TOKENS:
            raise UsageError(f"exec --env {spec!r}: {var} is one of sfcred's own secrets' "
                             "names; pick another")
        mapping[var] = field
    return mapping


def fields(entry: Entry) -> dict[str, str]:
    """The token's fields by name, as ``--format json`` names them."""
    from sfcred.helper.formats import rfc3339

    return {"access_token": entry.access_token.reveal(), "instance_url": entry.instance_url,
            "username": entry.username, "profile": entry.profile, "token_type": "Bearer",
            "expires_at": rfc3339(entry.expires_at)}


def without(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The variables of sfcred's own secrets the command does not get: the key and client
    secret always, the store's token when sfcred reads the fleet store with it."""
    from sfcred.fleet.index import fleet_mode

    return OWN_SECRETS + (STORE_TOKENS if fleet_mode(environ) else ())
