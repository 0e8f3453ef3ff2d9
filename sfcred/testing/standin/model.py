"""The org the stand-in plays: apps, users, sessions, codes, logins, queued faults, counters.

``Org`` holds all of it behind one re-entrant lock and is changed only through its public
methods, by the admin calls of ``server.FakeSalesforce`` and by the endpoint modules. No HTTP
and no protocol checks here: ``jwt`` and ``oauth`` decide, ``http`` speaks HTTP. The only
stand-in module imported here is ``records``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.asymmetric import rsa

from sfcred.testing.standin.records import (
    FAULT_KINDS,
    App,
    CodeGrant,
    Fault,
    Session,
    User,
    jwt_access_token,
    new_access_token,
    new_code,
    new_refresh_token,
    sf_id,
    token_answer,
)

_VALUED_FAULTS = ("instance_url", "error_body", "redirect")  # the kinds fail_next(value=...) is for
_DEFAULT_DELAY = {"timeout": 30.0, "slow": 5.0, "drip": 1.0, "continue": 1.0}
RATE_WINDOW = 3600.0  # seconds over which login_rate_limit counts a user's logins


class Org:
    """One org's state. The plain attributes are settings tests change between requests.

    Endpoints hold ``lock`` across one request's checks, so each answer reflects one state of
    the org; every method takes it too (it is re-entrant).
    """

    def __init__(self, environment: str, clock: Callable[[], float]) -> None:
        self.environment = environment  # "production" | "sandbox"
        self.clock = clock
        self.clock_offset = 0.0
        self.org_id = sf_id("00D")
        self.instance_url = ""  # the My Domain URL, known once its listener has a port
        self.identity_url = ""  # the login (or, for a sandbox, test) host: where `id` points
        self.org_active = True
        self.login_rate_limit = 3600
        self.session_timeout = 7200.0
        self.browser_user = "user@example.com"
        self.consent = "approve"
        self.token_requests = 0
        self.requests: list[tuple[str, str, str]] = []
        self.last_assertion_claims: dict[str, object] | None = None
        self.lock = threading.RLock()
        self._apps: dict[str, App] = {}
        self._users: dict[str, User] = {}
        self._sessions: dict[str, Session] = {}
        self._refresh: dict[str, tuple[str, str]] = {}  # refresh token -> (client_id, username)
        self._codes: dict[str, CodeGrant] = {}
        self._logins: dict[str, list[float]] = {}
        self._faults: list[Fault] = []
        self._signing_key = secrets.token_bytes(32)
        # The Metadata API (metadata.py): permissions, propagation, calls, held or hostile answers.
        self._metadata_perms: dict[str, set[str]] = {}
        self.eca_secrets_via_metadata, self.propagation_delay = True, 0.0  # ECAs' org setting; s
        self.metadata_calls: list[tuple[str, str, str]] = []  # (operation, type, full name)
        self.metadata_hold: dict[str, float] = {}  # operation -> seconds held before answering
        self.metadata_answer: dict[str, bytes] = {}  # operation -> raw body sent instead
        self.token_size = 0  # access tokens padded to this many characters (a big token)
        self.token_suffix = ""  # added to every access token (a sentinel to look for in output)
        self.ports: dict[str, int] = {}  # listener name -> fixed port (none: any free one)
        self.drip: dict[str, float] = {}  # path -> seconds between the bytes of its answers
        self._propagation_tick = 0

    def now(self) -> float:
        """The server clock, in epoch seconds: ``clock() + clock_offset``."""
        return self.clock() + self.clock_offset

    # -- apps and users ------------------------------------------------------------------------

    def add_app(self, app: App) -> None:
        with self.lock:
            self._apps[app.client_id] = app

    def app(self, client_id: str) -> App | None:
        with self.lock:
            return self._apps.get(client_id)

    def apps(self) -> dict[str, App]:
        with self.lock:
            return dict(self._apps)

    def replace_certificate(self, client_id: str, key: rsa.RSAPublicKey, der: bytes) -> None:
        with self.lock:
            app = self._apps[client_id]
            app.public_key, app.certificate_der, app.next_key = key, der, None

    def deploy_certificate(self, app: App, key: rsa.RSAPublicKey, der: bytes) -> None:
        """Saved by metadata: it reaches the servers over ``propagation_delay`` s (key_now)."""
        with self.lock:
            self._settle(app)
            if self.propagation_delay <= 0:
                app.public_key, app.certificate_der = key, der
                return
            app.next_key, app.next_der = key, der
            app.switch_at = self.now() + self.propagation_delay

    def _settle(self, app: App) -> None:
        if app.next_key is not None and self.now() >= app.switch_at:
            app.public_key, app.certificate_der = app.next_key, app.next_der
            app.next_key, app.next_der = None, b""

    def key_now(self, app: App) -> rsa.RSAPublicKey:
        """The certificate the server a request reaches holds: while a deployed one is on its
        way, servers take turns (old, new, old, ...), as requests land on different ones."""
        with self.lock:
            self._settle(app)
            if app.next_key is None:
                return app.public_key
            self._propagation_tick += 1
            return app.next_key if self._propagation_tick % 2 == 0 else app.public_key

    def record_certificate(self, app: App) -> bytes:
        """The certificate the app's metadata shows: the last one saved."""
        with self.lock:
            return app.next_der if app.next_key is not None else app.certificate_der

    def grant_metadata(self, username: str, permissions: Iterable[str]) -> None:
        with self.lock:
            self._metadata_perms[username] = set(permissions)

    def metadata_permissions(self, username: str) -> frozenset[str]:
        return frozenset(self._metadata_perms.get(username, ()))  # a set replaced whole

    def app_by_name(self, kind: str, full_name: str) -> App | None:
        with self.lock:
            suffix = "_glbloauth" if kind == "external" else ""
            return next((a for a in self._apps.values()
                         if a.kind == kind and a.full_name + suffix == full_name), None)

    def add_user(self, username: str, *, active: bool, ip_restricted: bool) -> None:
        """Create a user, or change an existing one (its id stays)."""
        with self.lock:
            user = self._users.get(username)
            if user is None:
                self._users[username] = User(username, sf_id("005"), active, ip_restricted)
            else:
                user.active, user.ip_restricted = active, ip_restricted

    def user(self, username: str) -> User | None:
        with self.lock:
            return self._users.get(username)

    def preauthorize(self, client_id: str, username: str) -> None:
        with self.lock:
            self._apps[client_id].preauthorized.add(username)

    def approve(self, client_id: str, username: str, scopes: Iterable[str]) -> None:
        with self.lock:
            self._apps[client_id].approvals.setdefault(username, set()).update(scopes)

    def approvals(self, client_id: str, username: str) -> frozenset[str]:
        """The scopes ``username`` approved for the app; empty if none or no such app."""
        with self.lock:
            app = self._apps.get(client_id)
            return frozenset(app.approvals.get(username, ())) if app is not None else frozenset()

    def admit_login(self, username: str) -> bool:
        """Count a login of ``username``; False, and not counted, once over the rate limit."""
        with self.lock:
            now = self.now()
            logins = self._logins.setdefault(username, [])
            logins[:] = [t for t in logins if t > now - RATE_WINDOW]
            if len(logins) >= self.login_rate_limit:
                return False
            logins.append(now)
            return True

    # -- sessions and codes --------------------------------------------------------------------

    def issue_session(self, app: App, user: User, *, scope: str, refresh: bool,
                      jwt: bool = False) -> dict[str, str]:
        """Mint a session; the token answer's fields in Salesforce's order, never expires_in
        (JWT bearer: five fields; the code flow adds more: docs/standin.md)."""
        with self.lock:
            now = self.now()
            access_token = (jwt_access_token(self.org_id, user.user_id, self.instance_url, now,
                                             app.jwt_token_lifetime, self._signing_key)
                            if app.jwt_token_lifetime else
                            (new_access_token(self.org_id) + self.token_suffix).ljust(
                                self.token_size, "x"))
            refresh_token = new_refresh_token() if refresh else None
            self._sessions[access_token] = Session(user.username, app.client_id, now, refresh_token)
            identity = f"{self.identity_url or self.instance_url}/id/{self.org_id}/{user.user_id}"
            if refresh_token is not None:
                self._refresh[refresh_token] = (app.client_id, user.username)
            signing = (app.client_secret or "").encode() or self._signing_key
            return token_answer(access_token, scope, self.instance_url, identity,
                                None if jwt else (refresh_token, signing, now))

    def live_session(self, token: str) -> Session | None:
        """The session of ``token`` if it still works: not idle too long, org and user active."""
        with self.lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            user = self._users.get(session.username)
            alive = self.now() - session.last_used < self.session_timeout
            if not (alive and self.org_active and user is not None and user.active):
                return None
            return session

    def use_session(self, token: str) -> Session | None:
        """The live session of ``token``, its inactivity timer restarted."""
        with self.lock:
            session = self.live_session(token)
            if session is not None:
                session.last_used = self.now()
            return session

    def session_tokens(self) -> list[str]:
        with self.lock:
            return list(self._sessions)

    def expire_sessions(self) -> None:
        with self.lock:
            self._sessions.clear()

    def revoke(self, token: str) -> bool:
        """End an access or refresh token; False if it is neither."""
        with self.lock:
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

    def issue_code(
        self,
        client_id: str,
        username: str,
        redirect_uri: str,
        challenge: str | None,
        scopes: frozenset[str],
    ) -> str:
        with self.lock:
            code = new_code()
            grant = CodeGrant(client_id, username, redirect_uri, challenge, scopes, self.now())
            self._codes[code] = grant
            return code

    def redeem_code(self, code: str) -> CodeGrant | None:
        """The grant of ``code``, which is spent by this call whatever the caller decides."""
        with self.lock:
            return self._codes.pop(code, None)

    # -- observation and faults ----------------------------------------------------------------

    def record_request(self, listener: str, method: str, path: str) -> None:
        with self.lock:
            self.requests.append((listener, method, path))

    def count_token_request(self) -> None:
        with self.lock:
            self.token_requests += 1

    def reset_counts(self) -> None:
        with self.lock:
            self.token_requests = 0
            self.requests.clear()

    def queue_faults(self, kind: str, count: int, delay: float | None, value: object) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if (value is None) != (kind not in _VALUED_FAULTS):
            raise ValueError(f"fault {kind!r} {'needs' if value is None else 'takes no'} value")
        wait = delay if delay is not None else _DEFAULT_DELAY.get(kind, 0.0)
        with self.lock:
            self._faults.extend(Fault(kind, wait, value) for _ in range(count))

    def take_fault(self) -> Fault | None:
        """The next queued fault, removed from the queue, or None."""
        with self.lock:
            return self._faults.pop(0) if self._faults else None
