"""``sfcred standin`` (and ``python -m sfcred.testing``): serve a stand-in, or drive the one
that runs (``grammar`` has the options, ``control`` the folder and the control listener).

``run(args, out, info)`` is the whole command: ``out`` takes what a script reads (the export
lines of ``env``, a client secret), ``info`` what a person reads.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from pathlib import Path
from typing import Any

from sfcred.testing.standin.client import StandinError, Write, call
from sfcred.testing.standin.grammar import DEFAULT_PORT


def folder_of(args: argparse.Namespace) -> Path:
    given = args.dir or os.environ.get("SFCRED_STANDIN_DIR")
    if given:
        return Path(given).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_state_dir("sfcred")) / "standin"


def port_of(args: argparse.Namespace) -> int:
    if args.port is not None:
        port = int(args.port)
    else:
        try:
            port = int(os.environ.get("SFCRED_STANDIN_PORT") or DEFAULT_PORT)
        except ValueError:
            raise StandinError("SFCRED_STANDIN_PORT must be a port number") from None
    if port != 0 and not 1024 <= port <= 65533:
        raise StandinError("--port must be 0 or 1024-65533 (it uses N, N+1 and N+2)")
    return port


def run(args: argparse.Namespace, out: Write, info: Write) -> int:
    folder = folder_of(args)
    if args.action is None:
        from sfcred.testing.standin.serve import serve

        code: int = serve(args, folder, port_of(args), out)
        return code
    if args.action == "env":
        found = call(folder, "status", {})
        lines = {"SFCRED_STANDIN_URL": found["url"], "SFCRED_STANDIN_LOGIN_URL": found["login_url"],
                 "SFCRED_STANDIN_TEST_URL": found["test_url"]}
        lines.update(found.get("trust", {}))
        out("".join(f"export {k}={shlex.quote(v)}\n" for k, v in lines.items()))
        return 0
    if args.action == "status":
        out(json.dumps(call(folder, "status", {}), indent=2) + "\n")
        return 0
    op, params = _request(args)
    result = call(folder, op, params)
    if op == "add_app":
        info(f"app {result['client_id']}: API name {result['name']} (for rotate --deploy "
             f"--app), consumer secret {result['secret']}")
    elif op == "stop":
        info("stand-in stopping")
    else:
        info(f"done: {', '.join(f'{k} {v}' for k, v in result.items())}")
    return 0


def _certificate(args: argparse.Namespace) -> str:
    if args.cert is None:
        if getattr(args, "run_as", None) is None:
            raise StandinError("add-app needs --cert PATH (JWT bearer) or --run-as USERNAME "
                               "(client credentials)")
        from sfcred import keys  # a client credentials app signs nothing: any certificate

        key = keys.generate_key()
        return keys.material(key, keys.self_signed_cert(key, args.client_id)).cert_pem
    try:
        return Path(args.cert).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise StandinError(f"cannot read --cert {args.cert}: {e}") from None


def _request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    action = args.action
    if action in ("add-app", "upload-cert"):
        pem = _certificate(args)
        if action == "upload-cert":
            return "upload_cert", {"client_id": args.client_id, "cert": pem}
        params = {"client_id": args.client_id, "cert": pem, "external": args.external,
                  "admin_approved": args.admin_approved}
        params.update({k: v for k, v in (("name", args.name), ("secret", args.secret),
                                         ("callbacks", args.callback),
                                         ("run_as", args.run_as)) if v})
        return "add_app", params
    if action == "add-user":
        return "add_user", {"username": args.username, "preauthorize": args.preauthorize,
                            "inactive": args.inactive}
    if action == "grant":
        return "grant", {"username": args.username, "permissions": args.permissions}
    if action == "browser-user":
        return "browser_user", {"username": args.username, "deny": args.deny}
    if action == "delay":
        return "delay", {"seconds": args.seconds}
    return "stop", {}
