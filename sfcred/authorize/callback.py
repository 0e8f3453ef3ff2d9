"""The one-shot loopback server that receives Salesforce's redirect in ``sfcred authorize``.

It listens on 127.0.0.1:PORT and answers, in its own threads (a browser's idle pre-connections
must not block the real request):

- ``GET /OauthRedirect`` with a ``state`` parameter: the answer. It is handed ONCE to the
  ``answer`` function, whose page the browser shows and whose outcome ``wait`` returns;
- ``GET /OauthRedirect`` without ``state``: refused (400); the wait goes on;
- any other path: 404, any other method: 405; the wait goes on.

Nothing is logged: the query string holds the authorization code.
"""

from __future__ import annotations

import errno
import html
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from sfcred.errors import ConfigError

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0  # seconds a connection may take to send its request line and headers
ANSWER_LIMIT = 60.0  # seconds the answer (the code exchange) may take once it has started


@dataclass(frozen=True)
class Page:
    """What the browser shows: plain words, so the user knows the tab can be closed."""

    status: int
    title: str
    text: str

    def render(self) -> bytes:
        title, text = html.escape(self.title), html.escape(self.text)
        return (
            "<!doctype html><html><head><meta charset=\"utf-8\">"
            f"<title>sfcred: {title}</title></head>"
            "<body style=\"font-family: sans-serif; max-width: 40em; margin: 4em auto\">"
            f"<h1>{title}</h1><p>{text}</p></body></html>"
        ).encode()


Answer = Callable[[dict[str, str]], tuple[Page, BaseException | None]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR lets a second run bind while the first one's socket is in TIME_WAIT; on
    # Windows it would let another process share the port, so it is off there.
    allow_reuse_address = sys.platform != "win32"

    def __init__(self, port: int, path: str, answer: Answer,
                 accepts: Callable[[dict[str, str]], bool]) -> None:
        self.path = path
        self.answer = answer
        self.accepts = accepts
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.finished = threading.Event()
        self.outcome: BaseException | None = None
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser hanging up is not worth a traceback


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sfcred"
    sys_version = ""
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request line holds the authorization code: never log it

    def do_GET(self) -> None:
        server = cast(_Server, self.server)
        parts = urlsplit(self.path)
        if parts.path != server.path:
            self._send(Page(404, "Not found", "Nothing here. sfcred waits at its callback only."))
            return
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        params = dict(pairs)
        if len(params) != len(pairs) or "state" not in params:
            self._send(Page(400, "Refused", "This is not an answer sfcred asked for: it has no "
                            "state, or a parameter twice. You can close this window."))
            return
        if not server.accepts(params):
            # Any local process can call this port: an answer with another state is not the
            # one sfcred waits for, and must not use up the one callback. Keep waiting.
            self._send(Page(400, "Refused", "This answer belongs to another login attempt, so "
                            "it was not used. You can close this window."))
            return
        with server.lock:
            if server.started.is_set():
                self._send(Page(409, "Already done", "sfcred has already received its answer. "
                                "You can close this window."))
                return
            server.started.set()
        try:
            page, outcome = server.answer(params)
        except Exception as e:  # handed to the waiting thread, never lost in this one
            page, outcome = Page(500, "Failed", "sfcred failed; see the terminal. You can close "
                                 "this window."), e
        server.outcome = outcome
        try:
            self._send(page)
        finally:
            server.finished.set()

    def _refuse_method(self) -> None:
        self._send(Page(405, "Method not allowed", "Only GET is served here."))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse_method

    def _send(self, page: Page) -> None:
        body = page.render() if self.command != "HEAD" else b""
        self.send_response(page.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class CallbackServer:
    """``with CallbackServer(port, "/OauthRedirect", answer) as cb: outcome = cb.wait(t)``."""

    def __init__(self, port: int, path: str, answer: Answer,
                 accepts: Callable[[dict[str, str]], bool] = lambda _params: True) -> None:
        self.port = port
        self.path = path
        self.answer = answer
        self.accepts = accepts
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CallbackServer:
        try:
            self._server = _Server(self.port, self.path, self.answer, self.accepts)
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                why = "in use" if e.errno == errno.EADDRINUSE else "not allowed"
                raise ConfigError(
                    f"port {self.port} on {HOST} is {why}; cannot receive the browser's answer",
                    hint=f"stop what uses it, or pass --port N (the app must then list "
                    f"http://localhost:N{self.path} as a callback URL)",
                ) from e
            raise ConfigError(f"cannot listen on {HOST}:{self.port} ({e.strerror})") from e
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="sfcred-callback", daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait(self, timeout: float) -> BaseException | None:
        """The answer's outcome (None: success). Raises TimeoutError when no answer came."""
        server = self._server
        assert server is not None, "use CallbackServer as a context manager"
        if not server.started.wait(timeout):
            raise TimeoutError
        if not server.finished.wait(ANSWER_LIMIT):
            raise TimeoutError
        return server.outcome
