"""Driving a running stand-in from a shell: its folder, and a control listener on loopback.

The folder (``--dir``) holds ``control.json`` (0600: where the control listener is and the
token it wants; present while the stand-in runs), ``journal.jsonl`` (every change made
through the control listener, replayed on the next start, so apps, users and rights survive a
restart on the same ports) and, with ``--tls``, the CA files (``tlsfiles``).

``Control.apply`` is one change, by name and JSON arguments; the listener answers
``POST /op`` with JSON. Salesforce has no such endpoint: it plays the admin's clicks in Setup.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sfcred.testing.standin.grammar import PERMISSIONS
from sfcred.testing.standin.server import FakeSalesforce

CONTROL, JOURNAL = "control.json", "journal.jsonl"
CHANGES = ("add_app", "upload_cert", "add_user", "grant", "browser_user", "delay")


class ControlError(Exception):
    """A change the stand-in refuses (an unknown app, a bad certificate): one line."""


class Control:
    """The changes an admin makes to the org, each kept in the journal once made."""

    def __init__(self, sf: FakeSalesforce, folder: Path) -> None:
        self.sf = sf
        self.folder = folder
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def replay(self) -> int:
        """Apply the journal's changes again (after a restart); how many."""
        path = self.folder / JOURNAL
        if not path.exists():
            return 0
        count = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                self._change(entry["op"], entry["args"])
                count += 1
        return count

    def apply(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if op == "status":
                return self.status()
            if op == "stop":
                self.stopped.set()
                return {"stopping": True}
            if op not in CHANGES:
                raise ControlError(f"unknown action {op!r}")
            result = self._change(op, args)
            with open(self.folder / JOURNAL, "a", encoding="utf-8") as f:
                f.write(json.dumps({"op": op, "args": args}) + "\n")
            return result

    def _change(self, op: str, a: dict[str, Any]) -> dict[str, Any]:
        sf = self.sf
        try:
            if op == "add_app":
                a.setdefault("secret", secrets.token_hex(32).upper())  # the same after replay
                sf.add_app(a["client_id"], a["cert"], kind="external" if a.get("external")
                           else "connected", preauthorized_only=bool(a.get("admin_approved")),
                           client_secret=a["secret"], full_name=a.get("name"),
                           **({"callback_urls": a["callbacks"]} if a.get("callbacks") else {}))
                if a.get("run_as"):
                    if sf.state.user(a["run_as"]) is None:
                        sf.add_user(a["run_as"])
                    sf.enable_client_credentials(a["client_id"], a["run_as"])
                record = sf.app_record(a["client_id"])
                return {"client_id": a["client_id"], "name": record["full_name"],
                        "secret": a["secret"]}
            if op == "upload_cert":
                self._app(a["client_id"])
                sf.upload_certificate(a["client_id"], a["cert"])
                return {"client_id": a["client_id"]}
            if op == "add_user":
                for client_id in a.get("preauthorize", []):
                    self._app(client_id)
                sf.add_user(a["username"], active=not a.get("inactive"))
                for client_id in a.get("preauthorize", []):
                    sf.preauthorize(client_id, a["username"])
                return {"username": a["username"]}
            if op == "grant":
                chosen = a.get("permissions") or []
                unknown = sorted(set(chosen) - set(PERMISSIONS))
                if unknown:
                    raise ControlError(f"unknown permission {unknown[0]!r}; one of "
                                       f"{', '.join(PERMISSIONS)}")
                sf.grant_metadata(a["username"], *chosen)
                return {"username": a["username"], "permissions": chosen or "all"}
            if op == "browser_user":
                sf.browser_user = a["username"]
                sf.consent = "deny" if a.get("deny") else "approve"
                return {"browser_user": a["username"], "consent": sf.consent}
            sf.propagation_delay = float(a["seconds"])
            return {"propagation_delay": sf.propagation_delay}
        except (ValueError, KeyError) as e:
            raise ControlError(f"{op.replace('_', '-')}: {e}") from None

    def _app(self, client_id: str) -> None:
        if client_id not in self.sf.state.apps():
            raise ControlError(f"no app with client id {client_id!r}; add it with add-app")

    def status(self) -> dict[str, Any]:
        state = self.sf.state
        return {"url": self.sf.url, "login_url": self.sf.login_url, "test_url": self.sf.test_url,
                "apps": {cid: app.full_name for cid, app in state.apps().items()},
                "browser_user": state.browser_user,
                "propagation_delay": state.propagation_delay}


class ControlListener(ThreadingHTTPServer):
    """``POST /op`` with ``Authorization: Bearer TOKEN`` and ``{"op", "args"}``, on loopback."""

    daemon_threads = True

    def __init__(self, control: Control) -> None:
        self.control = control
        self.token = secrets.token_urlsafe(24)
        super().__init__(("127.0.0.1", 0), _ControlHandler)


class _ControlHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a quiet server: the shell running it shows only what it prints itself

    def do_POST(self) -> None:
        server: ControlListener = self.server  # type: ignore[assignment]
        given = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.path != "/op" or not hmac.compare_digest(given, server.token):
            self._reply(403, {"error": "not allowed"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self._reply(200, server.control.apply(str(body["op"]), dict(body.get("args", {}))))
        except ControlError as e:
            self._reply(400, {"error": str(e)})
        except (ValueError, KeyError, TypeError) as e:
            self._reply(400, {"error": f"bad request ({type(e).__name__})"})

    def _reply(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def write_control(folder: Path, data: dict[str, Any]) -> None:
    tmp = folder / f".{CONTROL}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, folder / CONTROL)
