"""The command line of the stand-in, shared by ``sfcred standin`` (sfcred's own grammar, so
help and completion know it) and ``python -m sfcred.testing``. argparse only: building it
loads nothing of the stand-in itself.

``sfcred standin [OPTIONS]`` serves until ``sfcred standin stop`` (or Ctrl-C); the other
actions drive the running one through its folder (``--dir``, ``SFCRED_STANDIN_DIR``).
"""

from __future__ import annotations

import argparse

PERMISSIONS = ("modify_metadata", "modify_all_data", "customize_application",
               "view_eca_secrets", "none")
DEFAULT_PORT = 8443


def add_arguments(p: argparse.ArgumentParser,
                  parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> None:
    p.add_argument("--dir", metavar="DIR",
                   help="the stand-in's folder: its CA, its record of what was added (replayed "
                        "on restart) and how to reach it (default: SFCRED_STANDIN_DIR, else "
                        "sfcred's state folder)")
    p.add_argument("--port", type=int, metavar="N",
                   help="serve the My Domain on N, login.salesforce.com on N+1 and "
                        "test.salesforce.com on N+2, the same on every start (default: "
                        f"SFCRED_STANDIN_PORT, else {DEFAULT_PORT}; 0: any free ports)")
    p.add_argument("--tls", action="store_true",
                   help="serve https with a certificate from a CA of its own (ca.pem in "
                        "--dir); prints the variables that make clients trust it")
    p.add_argument("--org", choices=("production", "sandbox"), default="production",
                   help="the org's kind (default: production)")
    p.add_argument("--propagation-delay", type=float, metavar="SECONDS",
                   help="how long a certificate saved through the Metadata API takes to reach "
                        "every server (default 0)")
    p.add_argument("--browser-user", metavar="USERNAME",
                   help="who logs in at the authorize page (default user@example.com)")
    p.add_argument("--reset", action="store_true",
                   help="forget the apps, users and settings added before (start empty)")
    # The first command line's options, still served: one app and users at start.
    p.add_argument("--app", metavar="CLIENT_ID", help="create a connected app (with --cert)")
    p.add_argument("--cert", metavar="PATH", help="PEM certificate of --app")
    p.add_argument("--external", action="store_true", help="--app is an External Client App")
    p.add_argument("--admin-approved", action="store_true",
                   help='--app\'s policy: "Admin approved users are pre-authorized"')
    p.add_argument("--user", action="append", default=[], metavar="NAME", help="add a user")
    p.add_argument("--preauthorize", action="store_true", help="pre-authorize --user for --app")
    p.add_argument("--tls-cert", metavar="PATH", help="serve https with this certificate chain")
    p.add_argument("--tls-key", metavar="PATH", help="the private key of --tls-cert")

    acts = p.add_subparsers(dest="action", metavar="ACTION", parser_class=parser_class)
    acts.add_parser("env", help="print the export lines for a shell: the URLs and, with "
                    "--tls, the CA variables (waits for the stand-in to be up)")
    acts.add_parser("status", help="the URLs, apps and users of the running stand-in")
    app = acts.add_parser("add-app", help="create (or replace) a connected app")
    app.add_argument("client_id", metavar="CLIENT_ID", help="its consumer key")
    app.add_argument("--cert", metavar="PATH",
                     help="the certificate to upload (`sfcred cert NAME` or --cert-out); "
                          "required unless --run-as")
    app.add_argument("--run-as", metavar="USERNAME",
                     help="enable the client credentials flow, its tokens acting as USERNAME "
                          "(the user is added if missing)")
    app.add_argument("--name", metavar="API_NAME",
                     help="its Metadata API name, for rotate --deploy --app (default: "
                          "App_ and the consumer key's last 8 characters)")
    app.add_argument("--external", action="store_true", help="an External Client App")
    app.add_argument("--admin-approved", action="store_true",
                     help='policy "Admin approved users are pre-authorized"')
    app.add_argument("--secret", metavar="SECRET", help="its consumer secret (default: made up)")
    app.add_argument("--callback", action="append", metavar="URL",
                     help="a callback URL of the app, for sfcred authorize (repeatable; "
                          "default: http://localhost:1717/OauthRedirect)")
    cert = acts.add_parser("upload-cert", help="replace an app's certificate, as an admin "
                           "uploading one does (the old key stops working at once)")
    cert.add_argument("client_id", metavar="CLIENT_ID", help="the app's consumer key")
    cert.add_argument("--cert", required=True, metavar="PATH",
                      help="the new certificate (PEM)")
    user = acts.add_parser("add-user", help="create (or change) a user")
    user.add_argument("username", metavar="USERNAME", help="the user's Salesforce username")
    user.add_argument("--preauthorize", action="append", default=[], metavar="CLIENT_ID",
                      help="assign the user to this app (repeatable)")
    user.add_argument("--inactive", action="store_true", help="a deactivated user")
    grant = acts.add_parser("grant", help="give a user Metadata API rights (rotate --deploy)")
    grant.add_argument("username", metavar="USERNAME", help="the user to give them to")
    grant.add_argument("permissions", nargs="*", metavar="PERMISSION",
                       help=f"{', '.join(PERMISSIONS)} (default: all that rotate --deploy "
                            "needs; none: take them away)")
    browser = acts.add_parser("browser-user", help="who logs in at the authorize page")
    browser.add_argument("username", metavar="USERNAME",
                         help="the user the authorize page logs in")
    browser.add_argument("--deny", action="store_true", help="the user clicks Deny")
    delay = acts.add_parser("delay", help="the propagation delay of saved certificates")
    delay.add_argument("seconds", type=float, metavar="SECONDS",
                       help="how long; 0: at once")
    acts.add_parser("stop", help="stop the running stand-in")
