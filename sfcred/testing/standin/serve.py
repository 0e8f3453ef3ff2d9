"""``sfcred standin`` without an action: serve until ``sfcred standin stop``, SIGTERM or Ctrl-C.

Order at start: the folder; the TLS files (``--tls``); the three listeners on their fixed
ports; the journal replayed; the first command line's ``--app``/``--user``; the control
listener; then ``control.json``, whose presence tells the actions it is up. At the end
``control.json`` goes first, so no action reaches a stand-in that is stopping.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shlex
import signal
import ssl
import threading
from pathlib import Path

from sfcred.testing.standin import tlsfiles
from sfcred.testing.standin.client import StandinError, Write, call
from sfcred.testing.standin.control import (
    CONTROL,
    JOURNAL,
    Control,
    ControlListener,
    write_control,
)
from sfcred.testing.standin.server import FakeSalesforce


def serve(args: argparse.Namespace, folder: Path, port: int, out: Write) -> int:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if (folder / CONTROL).exists():
        try:
            call(folder, "status", {}, wait=0)
        except StandinError:
            (folder / CONTROL).unlink(missing_ok=True)  # left by one that did not stop cleanly
        else:
            raise StandinError(f"a stand-in already runs for {folder}; stop it with "
                               "`sfcred standin stop`, or give another --dir")
    if args.reset:
        (folder / JOURNAL).unlink(missing_ok=True)
    context = _tls(args, folder)
    sf = FakeSalesforce(args.org, ssl_context=context)
    if port:
        sf.state.ports = {"mydomain": port, "login": port + 1, "test": port + 2}
    try:
        sf.start()
    except OSError as e:
        sf.stop()
        if e.errno == errno.EADDRINUSE:
            raise StandinError(f"a port of {port}-{port + 2} is in use; pick others with "
                               "--port N") from None
        raise
    control = Control(sf, folder)
    listener = ControlListener(control)
    try:
        replayed = control.replay()
        _first_options(args, sf, out)
        if args.propagation_delay is not None:
            sf.propagation_delay = args.propagation_delay
        if args.browser_user:
            sf.browser_user = args.browser_user
        threading.Thread(target=listener.serve_forever, daemon=True,
                         name="sfcred-standin-control").start()
        trust = tlsfiles.trust_variables(folder / tlsfiles.CA_FILE) if args.tls else {}
        write_control(folder, {"control_port": listener.server_address[1], "pid": os.getpid(),
                               "token": listener.token, "trust": trust})
        out(f"My Domain: {sf.url}\nlogin:     {sf.login_url}\ntest:      {sf.test_url}\n")
        out(f"folder:    {folder} ({replayed} changes replayed)\n")
        if trust:
            out("# clients trust its certificate with (or: eval \"$(sfcred standin env)\"):\n")
            out("".join(f"export {k}={shlex.quote(v)}\n" for k, v in trust.items()))
        out("Stop it with `sfcred standin stop` (or Ctrl-C).\n")
        _wait(control.stopped)
    finally:
        (folder / CONTROL).unlink(missing_ok=True)
        listener.shutdown()
        listener.server_close()
        sf.stop()
    return 0


def _tls(args: argparse.Namespace, folder: Path) -> ssl.SSLContext | None:
    if args.tls and args.tls_cert:
        raise StandinError("--tls makes its own certificate: give it or --tls-cert, not both")
    if args.tls:
        return tlsfiles.context(folder)
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        return context
    return None


def _first_options(args: argparse.Namespace, sf: FakeSalesforce, out: Write) -> None:
    if (args.app is None) != (args.cert is None):
        raise StandinError("--app and --cert go together")
    for name in args.user:
        sf.add_user(name)
    if args.app is not None:
        kind = "external" if args.external else "connected"
        pem = Path(args.cert).read_text(encoding="ascii")
        secret = sf.add_app(args.app, pem, kind=kind, preauthorized_only=args.admin_approved)
        for name in args.user if args.preauthorize else []:
            sf.preauthorize(args.app, name)
        out(f"app:       {args.app} (client secret {secret})\n")


def _wait(stopped: threading.Event) -> None:
    """Until ``stop``, SIGTERM or Ctrl-C (SIGINT; a shell's background job ignores it)."""
    def on_signal(_signum: int, _frame: object) -> None:
        stopped.set()

    with contextlib.suppress(ValueError):  # not the main thread: only `stop` ends it
        signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
