"""The only module that touches the process: argv, stdin/stdout/stderr, exit codes.

``main(argv) -> int`` parses, dispatches to a command function, prints what it returns, and
turns the one exception tree (``errors``) into exit codes in one place.
"""

from __future__ import annotations

import os
import sys

from sfcred.errors import InputError, SalesforceRefused, SfcredError, UsageError

TYPE_CHECKING = False  # typing and argparse stay out of the warm path of `get`
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, NoReturn, TextIO

PROG = "sfcred"
HELPER_ACTIONS = ("get", "store", "erase")


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


def simple_helper_args(argv: list[str]) -> tuple[str, str | None, str] | None:
    """(action, profile, format) for a plain `get|store|erase [-p NAME] [--format F]`, parsed
    without argparse (the warm path); None sends anything else through argparse."""
    from sfcred.formats import FORMATS

    if not argv or argv[0] not in HELPER_ACTIONS:
        return None
    opts = {"profile": None, "format": "git"}
    names = {"-p": "profile", "--profile": "profile", "--format": "format"}
    rest = argv[1:]
    while rest:
        flag, eq, value = rest[0].partition("=")
        if flag not in names or (eq and not flag.startswith("--")):
            return None  # argparse reads "-p=x" as the name "=x": leave such forms to it
        if eq:
            rest = rest[1:]
        elif len(rest) < 2:
            return None
        else:
            value, rest = rest[1], rest[2:]
        opts[names[flag]] = value
    if opts["format"] not in FORMATS:
        return None
    return argv[0], opts["profile"], str(opts["format"])


def cmd_helper(action: str, profile: str | None, fmt: str, stdin: TextIO | None,
               git: bool = False) -> int:
    """get / store / erase. ``git``: run under git's name, where a host no profile serves is
    answered with silence and exit 0 (git asks every helper about every host)."""
    from sfcred import app, formats, protocol
    from sfcred.errors import NotServed
    from sfcred.helper import choose

    if action == "store":
        # Tokens come from minting, never from a client: read the request (git writes it
        # before it waits) and say nothing, whatever it holds.
        from contextlib import suppress

        with suppress(SfcredError, OSError):
            _read_request(stdin)
        return 0
    try:
        request = protocol.parse(_read_request(stdin))
        helper = app.helper(note=_err)
        env_profile = os.environ.get("SFCRED_PROFILE")
        named = (profile, request.profile, env_profile, request.host)
        if action == "erase" and all(value is None for value in named):
            # An empty erase erases nothing (as git's own helpers do), never the default's.
            if not git:
                _err("erase: nothing named (no -p, profile=, SFCRED_PROFILE or host=); "
                     "nothing erased")
            return 0
        choice = choose(request, profile, env_profile, helper.index.load)
        if action == "erase":
            helper.known(choice.name)
            helper.erase(choice.name, request.password)
            return 0
        entry = helper.get(choice.name)
    except NotServed:
        if git:
            return 0
        raise
    sys.stdout.write(formats.render(entry, fmt, request.capabilities, choice.protocol,
                                    choice.host))
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    from sfcred import app
    from sfcred.helper import choose
    from sfcred.protocol import Request

    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise UsageError("exec: give a command after --")
    helper = app.helper(note=_err)
    name = choose(Request(), args.profile, os.environ.get("SFCRED_PROFILE"),
                  helper.index.load).name
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
    import json

    print(json.dumps(data, indent=2))


def cmd_profile(args: argparse.Namespace, stdin: TextIO | None) -> int:
    from sfcred import app, manage
    from sfcred.index import index_file

    index = index_file()
    if args.action == "list":
        rows = manage.listing(index)
        if args.json:
            _print_json(rows)
        elif args.names:
            print("".join(f"{row['name']}\n" for row in rows), end="")
        elif not rows:
            _err("no profiles yet; add one with `sfcred profile add NAME ...`")
        for row in rows if not (args.json or args.names) else []:
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
                rotate.activate(helper.store, client, profile)
            finally:
                client.close()
            _err(f"profile {args.name}: Salesforce accepted the pending key; it is now active")
        elif args.abort:
            rotate.abort(helper.store, profile)
            _err(f"profile {args.name}: pending key discarded; the active key is unchanged")
        elif args.rollback:
            rotate.rollback(helper.store, profile)
            _err(f"profile {args.name}: the previous key is active again (re-upload its "
                 f"certificate: `sfcred cert {args.name}`)")
        else:
            _, cert_pem = rotate.start(helper.store, profile, args.key_size, args.cert_days,
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
    from sfcred.index import index_file

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


def dispatch(args: argparse.Namespace, stdin: TextIO | None, git: bool = False) -> int:
    if args.command in HELPER_ACTIONS:
        return cmd_helper(args.command, args.profile, args.format, stdin, git)
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
    from sfcred.argspec import parser

    parser().print_help(sys.stderr)
    return 2


def report(e: SfcredError) -> None:
    _err(e.message)
    if isinstance(e, SalesforceRefused):
        _err(f"cause: {e.cause}")
        _err(f"fix: {e.fix}")
    elif e.hint:
        _err(f"hint: {e.hint}")


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None,
         git: bool = False) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin = sys.stdin if stdin is None else stdin
    try:
        simple = simple_helper_args(argv)
        if simple is not None:
            return cmd_helper(*simple, stdin, git)
        from sfcred.argspec import parser

        try:
            args = parser().parse_args(argv)
        except SystemExit as e:  # --help and --version
            return int(e.code or 0)
        return dispatch(args, stdin, git)
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


def git_argv(argv: list[str]) -> list[str] | None:
    """``git-credential-sfcred [OPTIONS] ACTION``: git appends the action after the configured
    words, so the action is the last word (a profile named ``get`` stays a profile name).
    None for an action this helper does not know: git may add actions, helpers ignore them
    (gitcredentials(7))."""
    if not argv or argv[-1] not in HELPER_ACTIONS:
        return None
    return [argv[-1], *argv[:-1]]


def run_git() -> NoReturn:
    argv = sys.argv[1:]
    if not argv or argv[-1].startswith("-"):
        sys.exit(main(argv))  # no action at all: --help, --version, or a usage error
    routed = git_argv(argv)
    sys.exit(0 if routed is None else main(routed, git=True))
