"""The records the stand-in's org keeps, and the ids and tokens it makes.

Plain data: apps, users, sessions, authorization codes, queued faults. ``model.Org`` owns and
changes them; the endpoint modules read them. Imports nothing from the rest of the stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

# What a token request can be answered with instead; ``http`` plays each one.
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
    "drip",  # a real answer, one byte every `delay` seconds (a per-read timeout never fires)
    "continue",  # "100 Continue" every `delay` seconds, forever (until the client hangs up)
    "redirect",  # 302 to another host (value: the Location)
    "429",  # Too Many Requests with an empty body
)

_ALNUM = string.ascii_letters + string.digits
# Salesforce's 18-character ids end in three letters that encode the case of the first 15.
_CASE_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def sf_id(prefix: str) -> str:
    """A random 18-character Salesforce id with a 3-character key prefix ("00D", "005", ...)."""
    id15 = prefix + "0" + _random(_ALNUM, 11)
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += _CASE_SUFFIX[bits]
    return id15 + suffix


def new_access_token(org_id: str) -> str:
    # Real tokens are "<15-char org id>!<opaque>"; the "!" and "." keep shell quoting honest.
    return f"{org_id[:15]}!AQ{_random(_ALNUM, 4)}.{_random(_ALNUM + '._', 100)}"


def jwt_access_token(org_id: str, user_id: str, issuer: str, now: float, lifetime: float,
                     key: bytes) -> str:
    """A JWT-based access token (the app setting "Issue JSON Web Token (JWT)-based access
    tokens"): HS256 here, with the claims a client may read (``exp`` above all)."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    header = part(b'{"alg":"HS256","typ":"JWT"}')
    claims = {"iss": issuer, "sub": user_id, "org": org_id, "iat": int(now),
              "exp": int(now + lifetime), "jti": _random(_ALNUM, 16)}
    import json

    body = part(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(mac)}"


def new_refresh_token() -> str:
    return "5Aep861" + _random(_ALNUM + "._", 80)


def new_code() -> str:
    # Real codes end in "==", so a client that forgets to URL-decode the redirect fails here too.
    return "aPrx" + _random(_ALNUM + "._", 60) + "=="


def load_rsa_certificate(certificate_pem: str) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM certificate; Salesforce takes RSA certificates only."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate does not hold an RSA key")
    return key


def pem_to_der(certificate_pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass
class App:
    client_id: str
    public_key: rsa.RSAPublicKey
    kind: str  # "connected" | "external"
    preauthorized_only: bool
    client_secret: str | None
    require_secret: bool
    callback_urls: tuple[str, ...]
    preauthorized: set[str] = field(default_factory=set)
    approvals: dict[str, set[str]] = field(default_factory=dict)
    # The Metadata API's view (metadata.py): the developer name, and the record's other
    # fields as (name, value or nested fields) in WSDL order, certificate and consumer key
    # apart. ``next_key`` is a certificate an update deployed that has not reached every
    # server yet: until ``switch_at`` requests meet either one, then only it.
    full_name: str = ""
    certificate_der: bytes = b""
    fields: list[tuple[str, object]] = field(default_factory=list)
    next_key: rsa.RSAPublicKey | None = None
    next_der: bytes = b""
    switch_at: float = 0.0
    # The client credentials flow (clientcreds.py): enabled or not, and its Run As user.
    client_credentials: bool = False
    run_as: str | None = None
    # The app's Selected OAuth Scopes as the token endpoint reads them (the Metadata view's
    # ``fields`` are apart).
    scopes: frozenset[str] = frozenset({"api", "refresh_token"})
    # "Issue JSON Web Token (JWT)-based access tokens": their lifetime in seconds (0: opaque).
    jwt_token_lifetime: float = 0.0


@dataclass
class User:
    username: str
    user_id: str
    active: bool = True
    ip_restricted: bool = False

    @property
    def display_name(self) -> str:
        return self.username.split("@", 1)[0].replace(".", " ").title()


@dataclass
class Session:
    username: str
    client_id: str
    last_used: float  # server clock; sessions die after session_timeout of inactivity
    refresh_token: str | None = None


@dataclass
class CodeGrant:
    client_id: str
    username: str
    redirect_uri: str
    challenge: str | None
    scopes: frozenset[str]
    issued: float


@dataclass
class Fault:
    kind: str
    delay: float
    value: object = None  # "instance_url": the URL to send; "error_body": the JSON to send


def token_answer(access_token: str, scope: str, instance_url: str, identity: str,
                 code_flow: tuple[str | None, bytes, float] | None) -> dict[str, str]:
    """A token answer's fields in Salesforce's order. The JWT bearer flow's are the five of
    its documentation; the code flow (``code_flow``: refresh token, signing key, now) adds a
    refresh token, the signature of ``id`` + ``issued_at``, and ``issued_at``."""
    if code_flow is None:
        return {"access_token": access_token, "scope": scope, "instance_url": instance_url,
                "id": identity, "token_type": "Bearer"}
    refresh_token, key, now = code_flow
    issued_at = str(int(now * 1000))
    mac = hmac.new(key, (identity + issued_at).encode(), hashlib.sha256).digest()
    body = {"access_token": access_token}
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body | {"signature": base64.b64encode(mac).decode("ascii"), "scope": scope,
                   "instance_url": instance_url, "id": identity,
                   "token_type": "Bearer", "issued_at": issued_at}
