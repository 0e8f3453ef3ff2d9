"""The command line's grammar (argparse), built only when a command needs it: the warm path
of ``get`` parses its few options by hand in ``cli`` and never imports argparse."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any, NoReturn

from sfcred import __version__
from sfcred.errors import UsageError
from sfcred.usage.helptext import Formatter, epilog

PROG = "sfcred"
PROFILE_HELP = ("the profile (default: the request's profile=, then $SFCRED_PROFILE, then the "
                "profile of the request's host=, then the default profile)")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # cli prints "sfcred: " before every error: name the subcommand only, once.
        where = self.prog.removeprefix(PROG).strip()
        raise UsageError(f"{where}: {message}" if where else message)


def parser() -> argparse.ArgumentParser:
    from sfcred.helper.formats import FORMATS

    p = _Parser(
        prog=PROG, epilog=epilog(""),
        description="Salesforce access tokens from keys in the OS keyring (JWT bearer flow).",
    )
    p.add_argument("--version", action="version", version=f"sfcred {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    prof = sub.add_parser("profile", help="add, list, show, remove profiles; set the default")
    psub = prof.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    add = psub.add_parser("add", help="add an org profile with its key (or consumer secret)")
    add.add_argument("name", help="the new profile's name (letters, digits, . _ -)")
    add.add_argument("--client-id", required=True, help="the connected app's consumer key")
    add.add_argument("--username", help="the Salesforce username to act as (JWT bearer; "
                     "client credentials act as the app's Run As user)")
    add.add_argument("--grant", choices=("jwt-bearer", "client-credentials"),
                     default="jwt-bearer", help="how tokens are minted (default jwt-bearer)")
    add.add_argument("--client-secret-stdin", action="store_true",
                     help="client credentials: read the consumer secret from stdin (asked "
                          "without echo on a terminal)")
    add.add_argument("--login-url", default="production",
                     help="https URL, or production / sandbox (default: production)")
    add.add_argument("--audience", help="the JWT aud (default: derived from --login-url)")
    add.add_argument("--token-ttl", type=int, default=900, metavar="SECONDS",
                     help="how long a minted token is reused")
    add.add_argument("--refresh-margin", type=int, default=60, metavar="SECONDS",
                     help="refresh this long before the TTL ends")
    add.add_argument("--login-budget", type=int, metavar="N",
                     help="token requests an hour this profile's user may make (default: "
                          "SFCRED_LOGIN_BUDGET, else 3000)")
    src = add.add_mutually_exclusive_group()  # neither, with --force: keep the profile's keys
    src.add_argument("--key-file", metavar="PATH", help="import an RSA key (PEM or DER)")
    src.add_argument("--generate-key", action="store_true", help="make a new RSA key")
    add.add_argument("--key-size", type=int, default=2048, choices=(2048, 3072, 4096),
                     help="--generate-key: the RSA key's bits")
    add.add_argument("--key-passphrase-stdin", action="store_true",
                     help="read the key's passphrase from stdin: a pipe's first line, or "
                          "asked for without echo on a terminal")
    add.add_argument("--cert-file", metavar="PATH", help="the certificate of an imported key")
    add.add_argument("--cert-days", type=int, default=730, metavar="DAYS",
                     help="the generated certificate's validity")
    add.add_argument("--cert-out", metavar="PATH", help="write the certificate here")
    add.add_argument("--default", action="store_true", help="make it the default profile")
    add.add_argument("--force", action="store_true", help="replace an existing profile")
    add.add_argument("--allow-host", action="append", metavar="HOST",
                     help="a host outside Salesforce's domains that this profile may use as "
                          "its login or instance host (repeatable; default: Salesforce hosts "
                          "and loopback only)")
    lst = psub.add_parser("list", help="list profiles")
    lst.add_argument("--json", action="store_true", help="print JSON: a list of objects")
    lst.add_argument("--names", action="store_true", help="names only (for completion)")
    show = psub.add_parser("show", help="settings and key fingerprints, never secrets")
    show.add_argument("name", metavar="PROFILE", help="the profile to show")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    rm = psub.add_parser("remove", help="remove a profile, its keys and cached tokens")
    rm.add_argument("name", metavar="PROFILE", help="the profile to remove")
    rm.add_argument("--yes", action="store_true",
                    help="do not ask before deleting the only copy of a key (a generated or "
                         "rotated one); needed when stdin is not a terminal")
    edit = psub.add_parser("set", help="change one or more settings; keys and the rest stay")
    edit.add_argument("name", metavar="PROFILE", help="the profile to change")
    edit.add_argument("--client-id", help="the connected app's consumer key")
    edit.add_argument("--username", help="the Salesforce username to act as")
    edit.add_argument("--login-url", help="https URL, or production / sandbox (the audience "
                      "follows it unless it was set by hand)")
    edit.add_argument("--audience", help="the JWT aud")
    edit.add_argument("--token-ttl", type=int, metavar="SECONDS",
                      help="how long a minted token is reused (60-86400)")
    edit.add_argument("--refresh-margin", type=int, metavar="SECONDS",
                      help="refresh this long before the TTL ends")
    edit.add_argument("--allow-host", action="append", metavar="HOST",
                      help="the hosts outside Salesforce's domains this profile may use "
                           "(repeatable; replaces the list)")
    edit.add_argument("--login-budget", type=int, metavar="N",
                      help="token requests an hour this profile's user may make (1-3600)")
    dflt = psub.add_parser("default", help="set the default profile")
    dflt.add_argument("name", metavar="PROFILE", help="the profile that becomes the default")
    imp = psub.add_parser("import-sf", help="import the Salesforce CLI's JWT orgs")
    which = imp.add_mutually_exclusive_group(required=True)
    which.add_argument("org", nargs="?", metavar="USERNAME|ALIAS",
                       help="the org's username or alias in sf")
    which.add_argument("--all", action="store_true", help="every JWT org sf knows")
    imp.add_argument("--name", help="the profile's name (default: the alias)")
    imp.add_argument("--sf-dir", metavar="DIR", help="sf's auth folder (default: ~/.sfdx)")
    imp.add_argument("--force", action="store_true", help="replace an existing profile")
    imp.add_argument("--default", action="store_true", help="make it the default profile")
    imp.add_argument("--allow-host", action="append", metavar="HOST",
                     help="a host outside Salesforce's domains that sf's loginUrl or "
                          "instanceUrl may name (repeatable)")

    push = psub.add_parser("import-keyring",
                           help="fleet mode: copy a profile and its keys from the OS keyring "
                                "into the fleet store")
    push.add_argument("name", metavar="PROFILE", help="the keyring's profile to copy")
    push.add_argument("--force", action="store_true", help="replace the store's profile")

    cert = sub.add_parser("cert", help="print the certificate to upload to the connected app")
    cert.add_argument("name", metavar="PROFILE", help="whose certificate (PEM, on stdout)")
    cert.add_argument("--pending", action="store_true", help="the pending key's certificate")

    for action, text in (("get", "print a token (git-credential protocol on stdin)"),
                         ("store", "accepted; does nothing"),
                         ("erase", "forget the cached token of the profile")):
        h = sub.add_parser(action, help=text)
        h.add_argument("-p", "--profile", metavar="PROFILE", help=PROFILE_HELP)
        h.add_argument("--format", choices=FORMATS, default="git",
                       help="git: key=value lines; token: the token alone; json; env: "
                            "export lines for a shell")
        if action == "get":
            h.add_argument("--retry-now", action="store_true",
                           help="ignore a remembered failure once (sfcred status shows it)")
        else:
            h.set_defaults(retry_now=False)

    ex = sub.add_parser("exec", help="run a command with SF_ACCESS_TOKEN / SF_INSTANCE_URL set")
    ex.add_argument("-p", "--profile", metavar="PROFILE", help=PROFILE_HELP)
    ex.add_argument("--keep-secrets", action="store_true",
                    help="leave SFCRED_PRIVATE_KEY, SFCRED_CLIENT_SECRET and, in fleet mode, "
                         "VAULT_TOKEN / BAO_TOKEN in the command's environment (by default "
                         "it gets the token, never what sfcred mints it with)")
    ex.add_argument("--env", action="append", metavar="VAR=FIELD",
                    help="set VAR to a token field (access_token, instance_url, username, "
                         "profile, expires_at, token_type; repeatable); given, only these "
                         "are set (default: SF_ACCESS_TOKEN, SF_INSTANCE_URL, the SFDX_ "
                         "names, SF_TARGET_ORG, SF_ORG_INSTANCE_URL)")
    ex.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                    help="the command to run, after --")

    rot = sub.add_parser("rotate", help="rotate a profile's key without an outage")
    rot.add_argument("name", metavar="PROFILE", help="the profile whose key to rotate")
    step = rot.add_mutually_exclusive_group()
    step.add_argument("--activate", action="store_true", help="promote the pending key now")
    step.add_argument("--abort", action="store_true", help="discard the pending key")
    step.add_argument("--rollback", action="store_true", help="swap the previous key back")
    step.add_argument("--deploy", action="store_true",
                      help="the whole rotation: upload the certificate through the Metadata "
                           "API, wait for Salesforce, activate")
    rot.add_argument("--app", metavar="NAME", help="--deploy: the app's API name")
    rot.add_argument("--eca", action="store_true", help="--deploy: an External Client App")
    rot.add_argument("--wait", type=float, default=900.0, metavar="SECONDS",
                     help="--deploy: how long to wait for Salesforce")
    rot.add_argument("--deploy-profile", metavar="PROFILE",
                     help="--deploy: take the Metadata API session from this profile")
    rot.add_argument("--if-older-than", metavar="DAYSd",
                     help="--deploy: do nothing while the active key is younger (e.g. 90d)")
    rot.add_argument("--key-size", type=int, choices=(2048, 3072, 4096),
                     help="the new key's bits (default: the current key's)")
    rot.add_argument("--cert-days", type=int, default=730, metavar="DAYS",
                     help="the new certificate's validity")
    rot.add_argument("--cert-out", metavar="PATH", help="write the new certificate here")
    rot.add_argument("--force", action="store_true", help="replace a pending key")
    rot.add_argument("--secret-stdin", action="store_true",
                     help="client credentials: the app's new consumer secret, from stdin, "
                          "as the pending one")

    st = sub.add_parser("status", help="token state, last mint and failure, next try, "
                        "logins in the last hour")
    st.add_argument("name", nargs="?", metavar="PROFILE",
                    help="the profile to show (default: every profile)")
    st.add_argument("--json", action="store_true", help="print a list of objects, one a profile")

    doc = sub.add_parser("doctor", help="check a profile's set-up and say how to fix it")
    doc.add_argument("name", nargs="?", metavar="PROFILE",
                     help="the profile to check (default: the default profile)")
    doc.add_argument("--json", action="store_true", help="print the checks as JSON")
    doc.add_argument("--offline", action="store_true", help="no network checks")

    auth = sub.add_parser("authorize", help="approve the app once for the user (browser)")
    auth.add_argument("name", metavar="PROFILE", help="the profile to authorize")
    auth.add_argument("--port", type=int, default=1717,
                      help="the loopback port of the app's callback URL")
    auth.add_argument("--no-browser", action="store_true", help="print the URL instead")
    auth.add_argument("--client-secret-stdin", action="store_true",
                      help="read the consumer secret from stdin (apps that require one)")
    auth.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)

    comp = sub.add_parser("completion", help="print a shell completion script")
    comp.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell's name")

    sub.add_parser("demo", help="the main job end to end against the embedded stand-in")

    from sfcred.testing.standin.grammar import add_arguments  # argparse only: cheap

    standin = sub.add_parser("standin", help="run a local Salesforce stand-in (real HTTP(S) on "
                             "127.0.0.1), or drive the one running: add apps and users, grant "
                             "rights (see docs/standin.md)")
    add_arguments(standin, _Parser)
    for each in (p, *sub.choices.values(), *psub.choices.values()):
        each.add_argument("--verbose", action="store_true",
                          help="say on stderr which profile was chosen and why, cache hits "
                               "and misses, each URL called and each retry (never a secret; "
                               "also SFCRED_TRACE=1)")
    for path, command in commands(p):
        command.epilog = command.epilog or epilog(" ".join(path))
    return p


def commands(p: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the grammar with its command path (``()``, ``("profile", "add")``)."""
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from commands(child, (*path, name))
