"""HTTP plumbing of the stand-in: listeners, TLS, routing, body limits, injected faults.

``Listener`` is one loopback HTTP(S) server playing one host; its handler routes each request
to ``oauth``, ``rest`` or ``metadata`` with the listener's ``Org``, and plays the faults tests
queue with ``FakeSalesforce.fail_next`` in place of a token answer.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import select
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from sfcred.testing.standin import errors as err
from sfcred.testing.standin import metadata, oauth, rest
from sfcred.testing.standin.clientcreds import with_basic_client
from sfcred.testing.standin.jwt import JWT_GRANT
from sfcred.testing.standin.model import Org
from sfcred.testing.standin.records import Fault, new_access_token
from sfcred.testing.standin.replies import Reply, json_reply, oauth_error, text_reply

MAX_BODY = 1024 * 1024
HUGE_BODY = 2 * 1024 * 1024


class Listener(ThreadingHTTPServer):
    """One loopback listener; ``name`` is "mydomain", "login" or "test".

    ``stopping`` is set when the stand-in shuts down, to release handlers a fault holds.
    """

    daemon_threads = True

    def __init__(
        self,
        org: Org,
        name: str,
        ssl_context: ssl.SSLContext | None,
        stopping: threading.Event,
    ) -> None:
        self.org = org
        self.name = name
        self.ssl_context = ssl_context
        self.stopping = stopping
        super().__init__(("127.0.0.1", org.ports.get(name, 0)), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        # The handshake runs here, in the connection's own thread, so a stuck client
        # cannot stall the accept loop.
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up are part of the tests; stay quiet on stderr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a kept-alive client waits
    # for the delayed ACK (~40 ms) on every reply.
    disable_nagle_algorithm = True
    server_version = "sfcred-standin"
    sys_version = ""
    timeout = 30

    @property
    def _listener(self) -> Listener:
        return cast(Listener, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # never log: request lines can carry codes and tokens

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the server clock, so clock-skew tests see the skew.
        return email.utils.formatdate(self._listener.org.now(), usegmt=True)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError, ssl.SSLError):
            super().handle()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._send(json_reply(411, [{"errorCode": "LENGTH_REQUIRED", "message": "no length"}]))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(json_reply(413, [{"errorCode": "REQUEST_TOO_LARGE", "message": "too big"}]))
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        org = self._listener.org
        parts = urlsplit(self.path)
        path = parts.path
        org.record_request(self._listener.name, self.command, path)
        body = self._read_body()
        if body is None:
            return
        delay = org.drip.get(path)
        if delay is not None:  # answer as usual, one byte at a time
            self._send = lambda reply: self._drip(reply, delay)  # type: ignore[method-assign]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        auth = self.headers.get("Authorization")
        method = self.command
        if path == "/services/oauth2/token":
            if method != "POST":
                self._send(oauth_error(err.MUST_POST))
                return
            self._token(with_basic_client(form, auth))
            return
        if path == "/services/oauth2/authorize" and method == "GET":
            self._send(oauth.authorize(org, query))
        elif path == "/services/oauth2/userinfo" or path.startswith("/id/"):
            self._send(oauth.userinfo(org, auth))
        elif path == "/services/oauth2/revoke" and method in ("GET", "POST"):
            wants_json = "json" in self.headers.get("Accept", "")
            self._send(oauth.revoke(org, form if method == "POST" else query, wants_json))
        elif metadata.handles(path) and method == "POST":
            self._send(metadata.soap(org, path, body, self.headers.get("SOAPAction")))
        elif rest.handles(path) and method == "GET":
            self._send(rest.data(org, path, query, auth))
        else:
            self._send(json_reply(404, [err.NOT_FOUND]))

    def _token(self, form: dict[str, str]) -> None:
        listener = self._listener
        org = listener.org
        if form.get("grant_type") in (JWT_GRANT, "client_credentials"):
            org.count_token_request()
        fault = org.take_fault()  # a fault answers any grant; only logins are counted
        if fault is None:
            self._send(oauth.token(org, listener.name, form))
            return
        if fault.kind == "timeout":
            self._hold(fault.delay)
            return
        if fault.kind == "reset":
            self._reset()
            return
        if fault.kind == "slow":
            listener.stopping.wait(fault.delay)
            self._send(oauth.token(org, listener.name, form))
            return
        if fault.kind == "drip":
            self._drip(oauth.token(org, listener.name, form), fault.delay)
            return
        if fault.kind == "continue":
            self._continue_forever(fault.delay)
            return
        self._send(_fault_reply(org, fault))

    def _drip(self, reply: Reply, delay: float) -> None:
        """The whole answer, status line included, one byte at a time."""
        self.close_connection = True
        head = (f"HTTP/1.1 {reply.status} OK\r\nContent-Type: {reply.content_type}\r\n"
                f"Content-Length: {len(reply.body)}\r\nConnection: close\r\n\r\n").encode()
        stopping = self._listener.stopping
        for i in range(len(head) + len(reply.body)):
            byte = (head + reply.body)[i : i + 1]
            try:
                self.wfile.write(byte)
                self.wfile.flush()
            except OSError:
                return
            if stopping.wait(delay):
                return

    def _continue_forever(self, delay: float) -> None:
        """Interim "100 Continue" answers, never a final one."""
        self.close_connection = True
        stopping = self._listener.stopping
        while not stopping.is_set():
            try:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()
            except OSError:
                return
            stopping.wait(delay)

    def _hold(self, delay: float) -> None:
        """Say nothing until the client hangs up, ``delay`` passes, or the stand-in stops."""
        self.close_connection = True
        stopping = self._listener.stopping
        waited = 0.0
        while waited < delay and not stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.1)
            waited += 0.1
            if readable:
                try:
                    if self.connection.recv(1) == b"":
                        return
                except ssl.SSLWantReadError:
                    continue
                except OSError:
                    return

    def _reset(self) -> None:
        """Abort the connection with a TCP reset and no answer at all."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if isinstance(self.connection, ssl.SSLSocket):
            # Closing the TLS layer would send close_notify first; reset the raw socket.
            with contextlib.suppress(OSError):
                socket.socket(fileno=self.connection.detach()).close()
        else:
            with contextlib.suppress(OSError):
                self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)


def _fault_reply(org: Org, fault: Fault) -> Reply:
    """The answer a fault gives instead of the real one (``timeout``, ``reset``, ``slow``
    are played by the handler itself)."""
    if fault.kind == "503":
        page = (
            "<html><head><title>Service Unavailable</title></head><body>Maintenance</body></html>"
        )
        return text_reply(503, page, "text/html;charset=UTF-8")
    if fault.kind == "500":
        return oauth_error(err.SERVER_ERROR, status=500)
    if fault.kind == "error_body":
        return json_reply(400, fault.value)
    if fault.kind == "redirect":
        return Reply(302, b"", "text/html", {"Location": str(fault.value)})
    if fault.kind == "429":
        return Reply(429, b"", "text/plain")
    if fault.kind == "garbage":
        return text_reply(200, '<html>{"access_token": "00D', "application/json;charset=UTF-8")
    # A success-shaped answer for a session the org never issued: valid_token() says False.
    url = org.instance_url
    fake: dict[str, object] = {
        "access_token": new_access_token(org.org_id),
        "instance_url": url,
        "id": f"{url}/id/{org.org_id}/005000000000000AAA",
        "token_type": "Bearer",
        "scope": "api",
        "issued_at": str(int(org.now() * 1000)),
    }
    if fault.kind == "crlf":
        fake["access_token"] = f"{fake['access_token']}\r\nX-Injected: 1"
    elif fault.kind == "http_instance":
        fake["instance_url"] = "http://evil.example.com"
    elif fault.kind == "instance_url":
        fake["instance_url"] = fault.value
    elif fault.kind == "missing_token":
        del fake["access_token"]
    elif fault.kind == "huge":
        fake["padding"] = ""
        size = len(json.dumps(fake))
        fake["padding"] = "x" * (HUGE_BODY - size)
    return json_reply(200, fake)
