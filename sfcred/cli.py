"""The only module that touches the process: argv, stdin/stdout/stderr, exit codes.

``main(argv) -> int`` parses, dispatches to a command function, prints what it returns, and
turns the one exception tree (``errors``) into exit codes in one place.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from sfcred import __version__
from sfcred.errors import InputError, SalesforceRefused, SfcredError, UsageError

PROG = "sfcred"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    from sfcred.formats import FORMATS

    p = _Parser(
        prog=PROG,
        description="Salesforce access tokens from keys in the OS keyring (JWT bearer flow).",
    )
    p.add_argument("--version", action="version", version=f"sfcred {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    prof = sub.add_parser("profile", help="add, list, show, remove profiles; set the default")
    psub = prof.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    add = psub.add_parser("add", help="add an org profile with its private key")
    add.add_argument("name")
    add.add_argument("--client-id", required=True, help="the connected app's consumer key")
    add.add_argument("--username", required=True, help="the Salesforce username to act as")
    add.add_argument("--login-url", default="production",
                     help="https URL, or production / sandbox (default: production)")
    add.add_argument("--audience", help="the JWT aud (default: derived from --login-url)")
    add.add_argument("--token-ttl", type=int, default=900, metavar="SECONDS",
                     help="how long a minted token is reused (default 900)")
    add.add_argument("--refresh-margin", type=int, default=60, metavar="SECONDS",
                     help="refresh this long before the TTL ends (default 60)")
    src = add.add_mutually_exclusive_group(required=True)
    src.add_argument("--key-file", metavar="PATH", help="import an RSA key (PEM or DER)")
    src.add_argument("--generate-key", action="store_true", help="make a new RSA key")
    add.add_argument("--key-size", type=int, default=2048, choices=(2048, 3072, 4096))
    add.add_argument("--key-passphrase-stdin", action="store_true",
                     help="read the key's passphrase from stdin")
    add.add_argument("--cert-file", metavar="PATH", help="the certificate of an imported key")
    add.add_argument("--cert-days", type=int, default=730, help="certificate validity (days)")
    add.add_argument("--cert-out", metavar="PATH", help="write the certificate here")
    add.add_argument("--default", action="store_true", help="make it the default profile")
    add.add_argument("--force", action="store_true", help="replace an existing profile")
    lst = psub.add_parser("list", help="list profiles")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--names", action="store_true", help="names only (for completion)")
    show = psub.add_parser("show", help="settings and key fingerprints, never secrets")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    rm = psub.add_parser("remove", help="remove a profile, its keys and cached tokens")
    rm.add_argument("name")
    dflt = psub.add_parser("default", help="set the default profile")
    dflt.add_argument("name")

    cert = sub.add_parser("cert", help="print the certificate to upload to the connected app")
    cert.add_argument("name")
    cert.add_argument("--pending", action="store_true", help="the pending key's certificate")

    for action, text in (("get", "print a token (git-credential protocol on stdin)"),
                         ("store", "accepted; does nothing"),
                         ("erase", "forget the cached token of the profile")):
        h = sub.add_parser(action, help=text)
        h.add_argument("-p", "--profile", metavar="NAME")
        h.add_argument("--format", choices=FORMATS, default="git")

    ex = sub.add_parser("exec", help="run a command with SF_ACCESS_TOKEN / SF_INSTANCE_URL set")
    ex.add_argument("-p", "--profile", metavar="NAME")
    ex.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]")

    rot = sub.add_parser("rotate", help="rotate a profile's key without an outage")
    rot.add_argument("name")
    step = rot.add_mutually_exclusive_group()
    step.add_argument("--activate", action="store_true", help="promote the pending key now")
    step.add_argument("--abort", action="store_true", help="discard the pending key")
    step.add_argument("--rollback", action="store_true", help="swap the previous key back")
    rot.add_argument("--key-size", type=int, choices=(2048, 3072, 4096))
    rot.add_argument("--cert-days", type=int, default=730, help="certificate validity (days)")
    rot.add_argument("--cert-out", metavar="PATH", help="write the new certificate here")
    rot.add_argument("--force", action="store_true", help="replace a pending key")

    doc = sub.add_parser("doctor", help="check a profile's set-up and say how to fix it")
    doc.add_argument("name", nargs="?")
    doc.add_argument("--json", action="store_true")
    doc.add_argument("--offline", action="store_true", help="no network checks")

    auth = sub.add_parser("authorize", help="approve the app once for the user (browser)")
    auth.add_argument("name")
    auth.add_argument("--port", type=int, default=1717)
    auth.add_argument("--no-browser", action="store_true", help="print the URL instead")
    auth.add_argument("--client-secret-stdin", action="store_true")
    auth.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)

    comp = sub.add_parser("completion", help="print a shell completion script")
    comp.add_argument("shell", choices=("bash", "zsh", "fish"))

    sub.add_parser("demo", help="the main job end to end against the embedded stand-in")
    return p


def _read_request(stream: TextIO | None) -> str:
    """Lines up to a blank line or EOF; a terminal is never waited on."""
    if stream is None or stream.isatty():
        return ""
    buf = getattr(stream, "buffer", None)
    lines: list[str] = []
    while True:
        raw = buf.readline() if buf is not None else stream.readline().encode()
        if not raw or raw in (b"\n", b"\r\n"):
            break
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"input line {len(lines) + 1}: not UTF-8") from None
        if len(lines) > 1000:
            raise InputError("input has over 1,000 lines; refusing it")
    return "".join(lines)


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr)


def cmd_helper(args: argparse.Namespace, stdin: TextIO | None) -> int:
    from sfcred import app, formats, protocol
    from sfcred.helper import choose

    request = protocol.parse(_read_request(stdin))
    helper = app.helper(note=_err)
    name = choose(request, args.profile, os.environ.get("SFCRED_PROFILE"), helper.index.load())
    if args.command == "store":
        return 0
    helper.known(name)
    if args.command == "erase":
        helper.erase(name)
        return 0
    entry = helper.get(name)
    sys.stdout.write(formats.render(entry, args.format, request.capabilities))
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    from sfcred import app
    from sfcred.helper import choose
    from sfcred.protocol import Request

    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise UsageError("exec: give a command after --")
    helper = app.helper(note=_err)
    name = choose(Request(), args.profile, os.environ.get("SFCRED_PROFILE"), helper.index.load())
    helper.known(name)
    entry = helper.get(name)
    env = dict(os.environ)
    token = entry.access_token.reveal()
    for prefix in ("SF", "SFDX"):
        env[f"{prefix}_ACCESS_TOKEN"] = token
        env[f"{prefix}_INSTANCE_URL"] = entry.instance_url
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(cmd[0], cmd, env)  # noqa: S606  # the user's own command, in its own argv
    except OSError as e:
        _err(f"exec: cannot run {cmd[0]!r}: {e.strerror}")
        return 127


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def cmd_profile(args: argparse.Namespace, stdin: TextIO | None) -> int:
    from sfcred import app, manage
    from sfcred.profiles import index_file

    index = index_file()
    if args.action == "list":
        rows = manage.listing(index)
        if args.json:
            _print_json(rows)
        for row in rows if not args.json else []:
            if args.names:
                print(row["name"])
            else:
                mark = "*" if row["default"] else " "
                print(f"{mark} {row['name']:<20} {row['username']:<32} {row['login_host']}")
        return 0
    if args.action == "default":
        manage.set_default(args.name, index)
        return 0
    store = app.keystore()
    if args.action == "add":
        return _profile_add(args, stdin, store, index)
    if args.action == "show":
        info = manage.show(args.name, store, index)
        if args.json:
            _print_json(info)
            return 0
        for key in ("name", "username", "client_id", "login_url", "audience", "token_ttl",
                    "refresh_margin", "instance_host", "default", "keyring"):
            print(f"{key + ':':<16} {info[key]}")
        for k in info["keys"]:
            print(f"{k['slot'] + ' key:':<16} {k['fingerprint']}  RSA {k['bits']}  "
                  f"certificate expires {k['certificate_expires']}")
        return 0
    if args.action == "remove":
        manage.remove(args.name, store, index, app.token_cache(lambda: store))
        print(f"removed profile {args.name}: keys, settings and cached tokens", file=sys.stderr)
        return 0
    raise UsageError("profile: give an action: add, list, show, remove, default")


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20)
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None


def _profile_add(args: argparse.Namespace, stdin: TextIO | None, store: Any, index: Any) -> int:
    from sfcred import app, manage

    passphrase = None
    if args.key_passphrase_stdin:
        if stdin is None:
            raise InputError("--key-passphrase-stdin: nothing on stdin")
        passphrase = stdin.readline().rstrip("\r\n").encode()
    req = manage.NewProfile(
        name=args.name, client_id=args.client_id, username=args.username,
        login_url=args.login_url, audience=args.audience, token_ttl=args.token_ttl,
        refresh_margin=args.refresh_margin,
        key_data=_read_file(args.key_file) if args.key_file else None,
        passphrase=passphrase,
        cert_data=_read_file(args.cert_file) if args.cert_file else None,
        generate_bits=args.key_size if args.generate_key else None,
        cert_days=args.cert_days, force=args.force, make_default=args.default,
    )
    added = manage.add(req, store, index, app.token_cache(lambda: store))
    print(f"added profile {added.profile.name} ({added.profile.username} at "
          f"{added.profile.login_url}, audience {added.profile.audience})", file=sys.stderr)
    print(f"key: {added.fingerprint}", file=sys.stderr)
    if args.cert_out:
        manage.write_cert(args.cert_out, added.material.cert_pem)
        print(f"certificate written to {args.cert_out}: upload it to the connected app "
              "(Edit, Use digital signatures)", file=sys.stderr)
    else:
        print(f"upload the certificate from `sfcred cert {added.profile.name}` to the connected "
              "app (Edit, Use digital signatures)", file=sys.stderr)
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from sfcred import app, manage, rotate

    helper = app.helper(note=_err)
    with helper.changing(args.name) as profile:
        if args.activate:
            client = app.token_client()
            try:
                _, new = rotate.activate(helper.store, client, profile)
            finally:
                client.close()
            _err(f"profile {args.name}: Salesforce accepted the pending key; it is now active")
        elif args.abort:
            rotate.abort(helper.store, profile)
            _err(f"profile {args.name}: pending key discarded; the active key is unchanged")
        elif args.rollback:
            new = rotate.rollback(helper.store, profile)
            _err(f"profile {args.name}: the previous key is active again (re-upload its "
                 f"certificate: `sfcred cert {args.name}`)")
        else:
            new, cert_pem = rotate.start(helper.store, profile, args.key_size, args.cert_days,
                                         args.force)
            if args.cert_out:
                manage.write_cert(args.cert_out, cert_pem)
                _err(f"new certificate written to {args.cert_out}")
            else:
                sys.stdout.write(cert_pem)
            _err(f"profile {args.name}: pending key created. Upload its certificate: "
                 + rotate.UPLOAD_STEPS)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from sfcred import app, doctor
    from sfcred.profiles import index_file

    checks = doctor.diagnose(args.name, offline=args.offline, store=app.keystore(),
                             index=index_file(), client=app.token_client)
    if args.json:
        _print_json([asdict(c) for c in checks])
    else:
        marks = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}
        for c in checks:
            print(f"{marks[c.status]} {c.title}: {c.detail}")
            if c.fix and c.status != "ok":
                print(f"    fix: {c.fix}")
    failed = [c for c in checks if c.status == "fail"]
    return failed[0].exit_code if failed else 0


def cmd_authorize(args: argparse.Namespace, stdin: TextIO | None) -> int:
    from sfcred import app, authorize
    from sfcred.secret import Secret

    secret = None
    if args.client_secret_stdin:
        line = stdin.readline().rstrip("\r\n") if stdin is not None else ""
        if not line:
            raise InputError("--client-secret-stdin: no client secret on stdin")
        secret = Secret(line)
    helper = app.helper(note=_err)
    profile = helper.store.require_profile(args.name)
    authorize.authorize(profile, port=args.port, open_browser=not args.no_browser,
                        client_secret=secret, timeout=args.timeout, say=_err)
    helper.erase(args.name)
    entry = helper.get(args.name)
    _err(f"✓ approved: the JWT bearer flow now works for {entry.username} "
         f"({entry.instance_url})")
    return 0


def dispatch(args: argparse.Namespace, stdin: TextIO | None) -> int:
    if args.command in ("get", "store", "erase"):
        return cmd_helper(args, stdin)
    if args.command == "profile":
        return cmd_profile(args, stdin)
    if args.command == "cert":
        from sfcred import app, manage

        sys.stdout.write(manage.cert(args.name, app.keystore(), args.pending))
        return 0
    if args.command == "exec":
        return cmd_exec(args)
    if args.command == "rotate":
        return cmd_rotate(args)
    if args.command == "doctor":
        return cmd_doctor(args)
    if args.command == "authorize":
        return cmd_authorize(args, stdin)
    if args.command == "completion":
        from sfcred import completion

        sys.stdout.write(completion.script(args.shell))
        return 0
    if args.command == "demo":
        from sfcred import demo

        for line in demo.run():
            print(line, flush=True)
        return 0
    _parser().print_help(sys.stderr)
    return 2


def report(e: SfcredError) -> None:
    _err(e.message)
    if isinstance(e, SalesforceRefused):
        _err(f"cause: {e.cause}")
        _err(f"fix: {e.fix}")
    elif e.hint:
        _err(f"hint: {e.hint}")


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin = sys.stdin if stdin is None else stdin
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as e:  # --help and --version
            return int(e.code or 0)
        return dispatch(args, stdin)
    except SfcredError as e:
        report(e)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # a bug: never dump locals or values, only the type
        if os.environ.get("SFCRED_DEBUG"):
            raise
        _err(f"internal error ({type(e).__name__}); rerun with SFCRED_DEBUG=1 for a traceback")
        return 1


def run() -> NoReturn:
    sys.exit(main())


def run_git() -> NoReturn:
    """``git-credential-sfcred [-p NAME] get|store|erase``: options come before the action."""
    argv = sys.argv[1:]
    actions = [a for a in argv if a in ("get", "store", "erase")]
    if not actions:
        # git may call actions a helper does not know; helpers ignore them (gitcredentials(7)).
        sys.exit(0 if argv and not argv[-1].startswith("-") else 2)
    action = actions[0]
    rest = [a for a in argv if a != action]
    sys.exit(main([action, *rest]))
