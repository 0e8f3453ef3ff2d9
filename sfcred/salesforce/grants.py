"""Grants: what a profile POSTs to the token endpoint to get a token, one class per way.

``TokenClient.mint`` (``oauth.py``) does the rest for every grant alike: the host rule, the
one deadline and its retries, the answer's checks, the refusal advice. A grant only says what
the form holds for a profile and its secret material, so a second way to mint is a class
here and a name in ``GRANTS``, not branches across the token layer.

    JwtBearer   urn:ietf:params:oauth:grant-type:jwt-bearer: an RS256 assertion signed with
                the profile's private key (iss = consumer key, sub = username, aud, exp)
    ClientCredentials  client_credentials: the consumer key and secret as form fields (as
                Salesforce accepts them), at the org's My Domain only; the token acts as
                the app's Run As user
"""

from __future__ import annotations

from typing import Protocol

import jwt
from cryptography.exceptions import UnsupportedAlgorithm

from sfcred import keys
from sfcred.errors import ConfigError
from sfcred.keys import KeyMaterial
from sfcred.profiles.record import CLIENT_CREDENTIALS, Profile
from sfcred.profiles.record import JWT_BEARER as JWT_BEARER_NAME

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 170  # Salesforce allows at most 180 s; keep a margin for slow clocks


class Grant(Protocol):
    name: str

    def form(self, profile: Profile, material: KeyMaterial, now: float) -> dict[str, str]:
        """The token request's form fields (secrets included: the caller sends them only to
        the profile's checked login host)."""
        ...


def assertion(profile: Profile, key: KeyMaterial, now: float) -> str:
    claims = {
        "iss": profile.client_id,
        "sub": profile.username,
        "aud": profile.audience,
        "exp": int(now) + ASSERTION_LIFETIME,
    }
    try:
        return jwt.encode(claims, keys.signing_key(key), algorithm="RS256")
    except (ValueError, TypeError, UnsupportedAlgorithm, jwt.PyJWTError):  # never its text
        raise ConfigError(
            f"the private key of profile {profile.name} cannot sign: it is damaged",
            hint=f"import the key again: `sfcred profile add {profile.name} --key-file KEY "
            "--force` (or --generate-key and upload the new certificate)",
        ) from None


class JwtBearer:
    name = JWT_BEARER_NAME

    def form(self, profile: Profile, material: KeyMaterial, now: float) -> dict[str, str]:
        return {"grant_type": JWT_BEARER, "assertion": assertion(profile, material, now)}


class ClientCredentials:
    name = CLIENT_CREDENTIALS

    def form(self, profile: Profile, material: KeyMaterial, now: float) -> dict[str, str]:
        if not material.is_secret:  # a record and its slots out of step: never send a key
            raise ConfigError(f"profile {profile.name} holds no client secret",
                              hint=f"store it again: `sfcred profile add {profile.name} "
                              "--grant client-credentials ... --client-secret-stdin --force`")
        return {"grant_type": "client_credentials", "client_id": profile.client_id,
                "client_secret": material.key_pem.reveal()}


GRANTS: dict[str, Grant] = {JwtBearer.name: JwtBearer(),
                             ClientCredentials.name: ClientCredentials()}


def grant_of(profile: Profile) -> Grant:
    """The grant a profile mints with (``Profile.grant``)."""
    return GRANTS[profile.grant]
