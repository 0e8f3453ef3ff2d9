"""The stand-in's command line: ``python -m sfcred.testing`` (or ``sfcred.testing.server``)
serves an org from a shell until interrupted."""

from __future__ import annotations

import argparse
import ssl
import time
from collections.abc import Sequence
from pathlib import Path

from sfcred.testing.standin.server import FakeSalesforce


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sfcred.testing",
        description="Run a local Salesforce stand-in until interrupted.",
    )
    parser.add_argument("--org", choices=("production", "sandbox"), default="production")
    parser.add_argument("--app", metavar="CLIENT_ID", help="create a connected app")
    parser.add_argument("--cert", type=Path, help="PEM certificate of the app (with --app)")
    parser.add_argument("--external", action="store_true", help="an External Client App")
    parser.add_argument(
        "--admin-approved",
        action="store_true",
        help='policy "Admin approved users are pre-authorized"',
    )
    parser.add_argument("--user", action="append", default=[], metavar="NAME", help="add a user")
    parser.add_argument("--preauthorize", action="store_true", help="pre-authorize the users")
    parser.add_argument("--run-as", metavar="USER",
                        help="enable the client credentials flow for --app, as this user")
    parser.add_argument("--jwt-tokens", type=float, default=0.0, metavar="SECONDS",
                        help="--app issues JWT-based access tokens living this long")
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate chain")
    parser.add_argument("--tls-key", type=Path, help="private key of --tls-cert")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start a stand-in as ``argv`` says, print its URLs, and serve until Ctrl-C."""
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.app is None) != (args.cert is None):
        parser.error("--app and --cert go together")
    if args.app is None and (args.run_as or args.jwt_tokens):
        parser.error("--run-as and --jwt-tokens go with --app")
    context = None
    if args.tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    sf = FakeSalesforce(args.org, ssl_context=context)
    with sf:
        for name in args.user:
            sf.add_user(name)
        if args.app is not None:
            kind = "external" if args.external else "connected"
            pem = args.cert.read_text(encoding="ascii")
            secret = sf.add_app(args.app, pem, kind=kind, preauthorized_only=args.admin_approved)
            for name in args.user if args.preauthorize else []:
                sf.preauthorize(args.app, name)
            if args.run_as:
                sf.add_user(args.run_as)
                sf.enable_client_credentials(args.app, args.run_as)
            if args.jwt_tokens:
                sf.jwt_access_tokens(args.app, args.jwt_tokens)
            print(f"app:       {args.app} (client secret {secret})")
        print(f"My Domain: {sf.url}")
        print(f"login:     {sf.login_url}")
        print(f"test:      {sf.test_url}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
