"""A local Salesforce stand-in: OAuth endpoints and a sliver of the REST API on 127.0.0.1.

For sfcred's own tests, its demo, and users who test integrations without an org::

    with FakeSalesforce(org="production") as sf:
        sf.add_app("CLIENT_ID", certificate_pem)
        sf.add_user("user@example.com")
        sf.preauthorize("CLIENT_ID", "user@example.com")
        # POST {sf.login_url}/services/oauth2/token with a JWT signed by the matching key

Three listeners, each a real HTTP(S) server on a random port, play three hosts:

- ``url``: the org's My Domain, also its instance URL;
- ``login_url``: https://login.salesforce.com (serves production orgs only);
- ``test_url``: https://test.salesforce.com (serves sandboxes only).

Every listener serves every endpoint; what it answers depends on which host it plays:

- ``POST /services/oauth2/token``: the JWT bearer grant (checked in Salesforce's order, with
  Salesforce's error bodies, see ``_standin_errors``) and the authorization code + PKCE grant;
- ``GET /services/oauth2/authorize``: the browser step, with ``browser_user`` consenting
  (or not: ``consent = "deny"``);
- ``GET /services/oauth2/userinfo``, ``POST /services/oauth2/revoke``;
- ``GET /services/data/`` and ``GET /services/data/vNN.N/query?q=SELECT ... FROM Account``.

Time is ``clock() + clock_offset`` (skew tests) and is what the ``Date`` header says. State is
guarded by one lock, so tests may drive the object while subprocesses talk to it. Nothing is
logged: tokens and assertions never reach stderr.

Run ``python -m sfcred.testing.server --help`` to start one from a shell.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import secrets
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType

from sfcred.testing import _standin_errors as errors
from sfcred.testing._standin_http import Listener
from sfcred.testing._standin_model import (
    App,
    CodeGrant,
    Fault,
    Reply,
    Session,
    User,
    json_reply,
    load_rsa_certificate,
    new_access_token,
    new_refresh_token,
    sf_id,
)

__all__ = ["FAULT_KINDS", "FakeSalesforce", "errors", "main"]

FAULT_KINDS = (
    "503",
    "500",
    "timeout",
    "slow",
    "garbage",
    "reset",
    "huge",
    "crlf",
    "http_instance",
    "missing_token",
    "instance_url",
    "error_body",
)
_DEFAULT_DELAY = {"timeout": 30.0, "slow": 5.0}
_LISTENERS = ("mydomain", "login", "test")


class FakeSalesforce:
    """One Salesforce org behind three loopback listeners. See the module docstring."""

    def __init__(
        self,
        org: str = "production",
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        if org not in ("production", "sandbox"):
            raise ValueError("org must be 'production' or 'sandbox'")
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the stand-in listens on loopback only: 127.0.0.1 or localhost")
        self.org = org
        self.ssl_context = ssl_context
        self.clock = clock
        self.host = host
        self.org_active = True
        self.login_rate_limit = 3600
        self.session_timeout = 7200.0
        self.clock_offset = 0.0
        self.browser_user = "user@example.com"
        self.consent = "approve"
        self.token_requests = 0
        self.requests: list[tuple[str, str, str]] = []
        self.last_assertion_claims: dict[str, object] | None = None
        self.org_id = sf_id("00D")
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._apps: dict[str, App] = {}
        self._users: dict[str, User] = {}
        self._sessions: dict[str, Session] = {}
        self._refresh: dict[str, tuple[str, str]] = {}  # refresh token -> (client_id, username)
        self._codes: dict[str, CodeGrant] = {}
        self._logins: dict[str, list[float]] = {}
        self._faults: list[Fault] = []
        self._listeners: dict[str, Listener] = {}
        self._threads: list[threading.Thread] = []
        self._signing_key = secrets.token_bytes(32)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSalesforce:
        if self._listeners:
            return self
        self._stopping.clear()
        for name in _LISTENERS:
            listener = Listener(self, name, self.ssl_context)
            thread = threading.Thread(
                target=listener.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name=f"sfcred-standin-{name}",
            )
            thread.start()
            self._listeners[name] = listener
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers held by "timeout" and "slow" faults
        for listener in self._listeners.values():
            listener.shutdown()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listeners.clear()
        self._threads.clear()

    def __enter__(self) -> FakeSalesforce:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _base(self, name: str) -> str:
        listener = self._listeners.get(name)
        if listener is None:
            raise RuntimeError("the stand-in is not running: call start() or use `with`")
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{listener.server_address[1]}"

    @property
    def url(self) -> str:
        """The My Domain URL, also the instance URL and a valid audience."""
        return self._base("mydomain")

    @property
    def login_url(self) -> str:
        return self._base("login")

    @property
    def test_url(self) -> str:
        return self._base("test")

    def now(self) -> float:
        """The server clock, in epoch seconds."""
        return self.clock() + self.clock_offset

    # -- the org as an admin sets it up --------------------------------------------------------

    def add_app(
        self,
        client_id: str,
        certificate_pem: str,
        *,
        kind: str = "connected",
        preauthorized_only: bool = False,
        client_secret: str | None = None,
        require_secret: bool = True,
        callback_urls: Iterable[str] = ("http://localhost:1717/OauthRedirect",),
    ) -> str:
        """Create (or replace) an app and return its client secret (made up if not given)."""
        if kind not in ("connected", "external"):
            raise ValueError("kind must be 'connected' or 'external'")
        secret = client_secret if client_secret is not None else secrets.token_hex(32).upper()
        app = App(
            client_id,
            load_rsa_certificate(certificate_pem),
            kind,
            preauthorized_only,
            secret,
            require_secret,
            tuple(callback_urls),
        )
        with self._lock:
            self._apps[client_id] = app
        return secret

    def upload_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Replace the app's one certificate; assertions signed by the old key fail at once."""
        key = load_rsa_certificate(certificate_pem)
        with self._lock:
            self._apps[client_id].public_key = key

    def add_user(self, username: str, *, active: bool = True, ip_restricted: bool = False) -> None:
        """Create a user, or change an existing one (its id stays)."""
        with self._lock:
            user = self._users.get(username)
            if user is None:
                self._users[username] = User(username, sf_id("005"), active, ip_restricted)
            else:
                user.active, user.ip_restricted = active, ip_restricted

    def preauthorize(self, client_id: str, username: str) -> None:
        """Assign the user's profile or a permission set to the app."""
        with self._lock:
            self._apps[client_id].preauthorized.add(username)

    def approve(
        self, client_id: str, username: str, scopes: Sequence[str] = ("api", "refresh_token")
    ) -> None:
        """Record a prior approval by the user, as the browser flow leaves behind."""
        with self._lock:
            self._apps[client_id].approvals.setdefault(username, set()).update(scopes)

    # -- observation and fault injection ----------------------------------------------------

    def reset_counts(self) -> None:
        with self._lock:
            self.token_requests = 0
            self.requests.clear()

    def fail_next(self, kind: str, count: int = 1, delay: float | None = None,
                  value: object = None) -> None:
        """Answer the next ``count`` token requests with a fault (see ``FAULT_KINDS``).

        ``value``: for ``instance_url`` the instance URL a success carries (a hostile
        endpoint's), for ``error_body`` the JSON of a 400 answer."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if (value is None) != (kind not in ("instance_url", "error_body")):
            raise ValueError(f"fault {kind!r} {'needs' if value is None else 'takes no'} value")
        wait = delay if delay is not None else _DEFAULT_DELAY.get(kind, 0.0)
        with self._lock:
            self._faults.extend(Fault(kind, wait, value) for _ in range(count))

    def expire_sessions(self) -> None:
        """End every access token now, as a session timeout or an admin would."""
        with self._lock:
            self._sessions.clear()

    def valid_token(self, token: str) -> bool:
        with self._lock:
            return self._live(token) is not None

    # -- used by the endpoint modules, with the lock held --------------------------------------

    def _record(self, listener: str, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((listener, method, path))

    def _take_fault(self, is_jwt: bool) -> Fault | None:
        with self._lock:
            if is_jwt:
                self.token_requests += 1
            return self._faults.pop(0) if self._faults else None

    def _live(self, token: str) -> Session | None:
        session = self._sessions.get(token)
        if session is None:
            return None
        user = self._users.get(session.username)
        alive = self.now() - session.last_used < self.session_timeout
        if not (alive and self.org_active and user is not None and user.active):
            return None
        return session

    def _touch(self, token: str) -> Session | None:
        """The live session of ``token``, its inactivity timer restarted."""
        session = self._live(token)
        if session is not None:
            session.last_used = self.now()
        return session

    def _revoke(self, token: str) -> bool:
        if token in self._sessions:
            del self._sessions[token]
            return True
        owner = self._refresh.pop(token, None)
        if owner is None:
            return False
        # Revoking a refresh token ends its access tokens and the approval it stood for.
        client_id, username = owner
        for key in [k for k, s in self._sessions.items() if s.refresh_token == token]:
            del self._sessions[key]
        app = self._apps.get(client_id)
        if app is not None:
            app.approvals.pop(username, None)
        return True

    def _grant(self, app: App, user: User, *, scope: str, refresh: bool) -> Reply:
        """Mint a session and answer as Salesforce does: no expires_in, ever."""
        access_token = new_access_token(self.org_id)
        refresh_token = new_refresh_token() if refresh else None
        self._sessions[access_token] = Session(
            user.username, app.client_id, self.now(), refresh_token
        )
        identity = f"{self.url}/id/{self.org_id}/{user.user_id}"
        issued_at = str(int(self.now() * 1000))
        key = (app.client_secret or "").encode() or self._signing_key
        mac = hmac.new(key, (identity + issued_at).encode(), hashlib.sha256).digest()
        body: dict[str, str] = {"access_token": access_token}
        if refresh_token is not None:
            self._refresh[refresh_token] = (app.client_id, user.username)
            body["refresh_token"] = refresh_token
        body["signature"] = base64.b64encode(mac).decode("ascii")
        body["scope"] = scope
        body["instance_url"] = self.url
        body["id"] = identity
        body["token_type"] = "Bearer"  # noqa: S105  # the scheme name, not a secret
        body["issued_at"] = issued_at
        return json_reply(200, body, **{"Cache-Control": "no-store"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sfcred.testing.server",
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
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate chain")
    parser.add_argument("--tls-key", type=Path, help="private key of --tls-cert")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.app is None) != (args.cert is None):
        _parser().error("--app and --cert go together")
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


if __name__ == "__main__":
    sys.exit(main())
