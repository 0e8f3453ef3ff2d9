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
  Salesforce's error bodies, see ``standin.errors``), client credentials (``clientcreds``:
  ``enable_client_credentials``) and the authorization code + PKCE grant;
- ``GET /services/oauth2/authorize``: the browser step, with ``browser_user`` consenting
  (or not: ``consent = "deny"``);
- ``GET /services/oauth2/userinfo``, ``POST /services/oauth2/revoke``; the Metadata API's
  ``readMetadata``/``updateMetadata``; ``GET /services/data/`` and a query of Account.

Time is ``clock() + clock_offset`` (skew tests), as the ``Date`` header says. One lock guards
the state, so tests may drive it while subprocesses talk to it. Nothing is logged.

``FakeSalesforce`` is a facade over a ``model.Org`` (``state``) the endpoints share: its
settings and counters (``clock_offset``, ``token_requests``, ...) are views of it.
"""

from __future__ import annotations

import base64
import copy
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Generic, TypeVar, cast, overload

from sfcred.testing.standin import metadata
from sfcred.testing.standin.clientcreds import ClientCredentialsAdmin
from sfcred.testing.standin.http import Listener
from sfcred.testing.standin.metadata import default_fields
from sfcred.testing.standin.model import Org
from sfcred.testing.standin.records import App, load_rsa_certificate, pem_to_der

__all__ = ["FakeSalesforce"]

_LISTENERS = ("mydomain", "login", "test")
_T = TypeVar("_T")


class _OnOrg(Generic[_T]):
    """An attribute of ``FakeSalesforce`` kept on its ``Org``, where the endpoints read it."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _OnOrg[_T]: ...
    @overload
    def __get__(self, obj: FakeSalesforce, owner: type | None = None) -> _T: ...
    def __get__(self, obj: FakeSalesforce | None, owner: type | None = None) -> _T | _OnOrg[_T]:
        if obj is None:
            return self
        return cast(_T, getattr(obj.state, self.name))

    def __set__(self, obj: FakeSalesforce, value: _T) -> None:
        setattr(obj.state, self.name, value)


class FakeSalesforce(ClientCredentialsAdmin):
    """One Salesforce org behind three loopback listeners. See the module docstring."""

    org = _OnOrg[str]("environment")  # "production" | "sandbox"
    org_id = _OnOrg[str]()
    clock = _OnOrg[Callable[[], float]]()
    clock_offset = _OnOrg[float]()
    org_active = _OnOrg[bool]()
    login_rate_limit = _OnOrg[int]()  # logins per user per hour
    session_timeout = _OnOrg[float]()  # seconds of inactivity that end a session
    browser_user = _OnOrg[str]()  # who "logs in" at /authorize
    consent = _OnOrg[str]()  # "approve" | "deny": what browser_user clicks
    token_requests = _OnOrg[int]()  # logins (JWT bearer, client credentials) since a reset
    requests = _OnOrg[list[tuple[str, str, str]]]()  # (listener, method, path), in order
    last_assertion_claims = _OnOrg[dict[str, object] | None]()  # of the last JWT request
    propagation_delay = _OnOrg[float]()  # seconds a certificate saved by metadata takes
    eca_secrets_via_metadata = _OnOrg[bool]()  # the org setting External Client Apps need
    metadata_calls = _OnOrg[list[tuple[str, str, str]]]()  # (operation, type, full name)
    metadata_hold = _OnOrg[dict[str, float]]()  # operation -> seconds held before answering
    metadata_answer = _OnOrg[dict[str, bytes]]()  # operation -> raw body answered instead
    token_size = _OnOrg[int]()  # access tokens padded to this many characters (0: as usual)
    drip = _OnOrg[dict[str, float]]()  # path -> seconds between the bytes of its answers

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
        self.state = Org(org, clock)
        self.ssl_context = ssl_context
        self.host = host
        self._stopping = threading.Event()
        self._listeners: dict[str, Listener] = {}
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSalesforce:
        if self._listeners:
            return self
        self._stopping.clear()
        for name in _LISTENERS:
            self._listeners[name] = Listener(self.state, name, self.ssl_context, self._stopping)
        # Bound already, so the URL is known before the first request can arrive.
        self.state.instance_url = self.url
        # A token answer's `id` is on the login host of the org's kind (docs/standin.md).
        self.state.identity_url = self._base("test" if self.state.environment == "sandbox"
                                             else "login")
        for name, listener in self._listeners.items():
            thread = threading.Thread(
                target=listener.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name=f"sfcred-standin-{name}",
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers held by "timeout" and "slow" faults
        # shutdown() waits for the listener's next poll (up to 50 ms): all at once, not one by
        # one (that was 0.15 s of every test using the stand-in)
        stoppers = [threading.Thread(target=listener.shutdown, daemon=True)
                    for listener in self._listeners.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=5)
        for listener in self._listeners.values():
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
        return self.state.now()

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
        full_name: str | None = None,
        fields: list[tuple[str, object]] | None = None,
    ) -> str:
        """Create (or replace) an app and return its client secret (made up if not given).

        ``full_name`` is its Metadata API name (default ``App_`` and part of the client id);
        its record has the fields a real one has, or ``fields`` ((name, text or nested
        fields) in WSDL order; no fullName, certificate, consumerKey): see ``app_record``."""
        if kind not in ("connected", "external"):
            raise ValueError("kind must be 'connected' or 'external'")
        secret = client_secret if client_secret is not None else secrets.token_hex(32).upper()
        key = load_rsa_certificate(certificate_pem)
        callbacks = tuple(callback_urls)
        app = App(client_id, key, kind, preauthorized_only, secret, require_secret, callbacks)
        app.full_name = full_name or f"App_{client_id[-8:]}"
        app.certificate_der = pem_to_der(certificate_pem)
        app.fields = fields if fields is not None else default_fields(app)
        self.state.add_app(app)
        return secret

    def grant_metadata(self, username: str, *permissions: str) -> None:
        """Give the user the Metadata API permissions ``rotate --deploy`` needs (none: take
        them away): ``modify_metadata`` (or ``modify_all_data``), ``customize_application``,
        and for External Client Apps ``view_eca_secrets``. With no names: all of those."""
        chosen = permissions or ("modify_metadata", "customize_application", "view_eca_secrets")
        unknown = set(chosen) - set(metadata.PERMISSIONS) - {"none"}
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        self.state.grant_metadata(username, [p for p in chosen if p != "none"])

    def app_record(self, client_id: str) -> dict[str, object]:
        """The app as the Metadata API holds it: ``fields`` (every field but the certificate
        and the consumer key), ``certificate`` (bare base64 DER, the last one saved), and
        ``trusted`` (the DER the servers check, several while one is on its way)."""
        with self.state.lock:
            app = self.state.apps()[client_id]
            saved = self.state.record_certificate(app)
            trusted = [app.certificate_der] + ([app.next_der] if app.next_key else [])
            return {"fields": copy.deepcopy(app.fields), "full_name": metadata.metadata_name(app),
                    "certificate": base64.b64encode(saved).decode(),
                    "trusted": [base64.b64encode(d).decode() for d in trusted]}

    def upload_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Replace the app's one certificate; assertions signed by the old key fail at once."""
        self.state.replace_certificate(client_id, load_rsa_certificate(certificate_pem),
                                       pem_to_der(certificate_pem))

    def add_user(self, username: str, *, active: bool = True, ip_restricted: bool = False) -> None:
        """Create a user, or change an existing one (its id stays)."""
        self.state.add_user(username, active=active, ip_restricted=ip_restricted)

    def preauthorize(self, client_id: str, username: str) -> None:
        """Assign the user's profile or a permission set to the app."""
        self.state.preauthorize(client_id, username)

    def approve(
        self, client_id: str, username: str, scopes: Sequence[str] = ("api", "refresh_token")
    ) -> None:
        """Record a prior approval by the user, as the browser flow leaves behind."""
        self.state.approve(client_id, username, scopes)

    # -- observation and fault injection ----------------------------------------------------

    def reset_counts(self) -> None:
        self.state.reset_counts()

    def fail_next(
        self, kind: str, count: int = 1, delay: float | None = None, value: object = None
    ) -> None:
        """Answer the next ``count`` token requests with a fault (see ``FAULT_KINDS``).

        ``value``: for ``instance_url`` the instance URL a success carries (a hostile
        endpoint's), for ``error_body`` the JSON of a 400 answer."""
        self.state.queue_faults(kind, count, delay, value)

    def expire_sessions(self) -> None:
        """End every access token now, as a session timeout or an admin would."""
        self.state.expire_sessions()

    def valid_token(self, token: str) -> bool:
        return self.state.live_session(token) is not None

    def session_tokens(self) -> list[str]:
        """Every access token the org still holds, live or idle: to look for them in output."""
        return self.state.session_tokens()

    def approvals(self, client_id: str, username: str) -> frozenset[str]:
        """The scopes ``username`` has approved for the app (the browser flow records them)."""
        return self.state.approvals(client_id, username)

