"""Stateless CI mode: a profile made from the environment, with no keyring at all.

When no profile is named (no ``-p``, ``profile=`` or ``SFCRED_PROFILE``) and
``SFCRED_CLIENT_ID`` is set, ``get``, ``exec`` and the Python API use:

    SFCRED_CLIENT_ID          the connected app's consumer key
    SFCRED_USERNAME           the user to act as
    SFCRED_LOGIN_URL          https URL or production / sandbox (default production)
    SFCRED_AUDIENCE           the JWT aud (default: derived from the login URL, as for
                              `profile add`)
    SFCRED_PRIVATE_KEY        the key as PEM text (a masked CI variable), or
    SFCRED_PRIVATE_KEY_FILE   the path of a key file (PEM or DER)
    SFCRED_CLIENT_SECRET      instead of a key: the consumer secret of a client credentials
                              app (SFCRED_LOGIN_URL then names the org's My Domain, and
                              SFCRED_USERNAME may be left out: the Run As user is asked for)

The key is read into memory for each mint and never written anywhere: not to the keyring,
not to a file. A token is cached only in the plain runtime-dir cache (0600 on a memory file
system), never in the sealed disk cache, whose key would need a keyring. The profile's name
is ``env-`` and a digest of its settings, so two jobs with different settings on one machine
never share a token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfcred.errors import ConfigError, InputError
from sfcred.helper.choice import CI_VARIABLE
from sfcred.profiles.index import IndexEntry
from sfcred.profiles.record import (
    CLIENT_CREDENTIALS,
    DEFAULT_MARGIN,
    DEFAULT_TTL,
    JWT_BEARER,
    KeySlots,
    Profile,
    check_allow_hosts,
    check_url,
    default_audience,
    require_my_domain,
    require_salesforce_host,
)

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial

KEY_ID = "env"
SECRET_VARIABLE = "SFCRED_CLIENT_SECRET"  # noqa: S105  # a variable's name


@dataclass(frozen=True)
class EnvProfile:
    profile: Profile
    environ: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.profile.name

    def entry(self, instance_url: str | None) -> IndexEntry:
        """Its hosts, for host ownership: the login host, and the instance of its token."""
        entry = IndexEntry.for_login(self.profile.login_url, self.profile.username,
                                     self.profile.allow_hosts)
        if instance_url:
            entry.learn_instance(instance_url)
        return entry

    def key(self) -> KeyMaterial:
        """The key, read now from the environment or its file (checked: RSA, 2048 bits), or
        the consumer secret of a client credentials profile."""
        from sfcred import keys
        from sfcred.keys import KeyMaterial

        if self.profile.client_credentials:
            try:
                return keys.client_secret(self.environ.get(SECRET_VARIABLE, ""))
            except InputError as e:
                raise ConfigError(f"{SECRET_VARIABLE}: {e.message}") from None

        text = self.environ.get("SFCRED_PRIVATE_KEY")
        path = self.environ.get("SFCRED_PRIVATE_KEY_FILE")
        if text:
            data = text.replace("\\n", "\n").encode()  # CI systems often store one line
        elif path:
            from sfcred.fsread import read_regular

            try:
                data = read_regular(path, 1 << 20, "SFCRED_PRIVATE_KEY_FILE")
            except OSError as e:
                raise ConfigError(f"SFCRED_PRIVATE_KEY_FILE {path}: {e.strerror}") from None
        else:
            raise ConfigError("CI mode needs SFCRED_PRIVATE_KEY (PEM text) or "
                              "SFCRED_PRIVATE_KEY_FILE (a path)")
        try:
            key = keys.load_private_key(data)
        except InputError as e:
            raise ConfigError(f"the key in the environment: {e.message}") from None
        return KeyMaterial(key_pem=keys.key_to_pem(key), cert_pem="", checked=True)


def from_env(environ: Mapping[str, str]) -> EnvProfile:
    client_id = environ.get(CI_VARIABLE, "")
    username = environ.get("SFCRED_USERNAME", "")
    keyed = environ.get("SFCRED_PRIVATE_KEY") or environ.get("SFCRED_PRIVATE_KEY_FILE")
    grant = CLIENT_CREDENTIALS if environ.get(SECRET_VARIABLE) and not keyed else JWT_BEARER
    if not username and grant == JWT_BEARER:
        raise ConfigError("CI mode (SFCRED_CLIENT_ID is set) needs SFCRED_USERNAME",
                          hint="with SFCRED_PRIVATE_KEY or SFCRED_PRIVATE_KEY_FILE; or a "
                          "client credentials app's SFCRED_CLIENT_SECRET")
    if not client_id.isprintable() or not username.isprintable():
        raise ConfigError("SFCRED_CLIENT_ID and SFCRED_USERNAME must be printable")
    login_url = check_url(environ.get("SFCRED_LOGIN_URL") or "production", "SFCRED_LOGIN_URL")
    allow = check_allow_hosts((environ.get("SFCRED_ALLOW_HOST") or "").replace(",", " ").split(),
                              "SFCRED_ALLOW_HOST")
    require_salesforce_host(login_url, allow, "SFCRED_LOGIN_URL", fix="SFCRED_ALLOW_HOST=")
    if grant == CLIENT_CREDENTIALS:
        try:
            require_my_domain(login_url, "SFCRED_LOGIN_URL")
        except InputError as e:
            raise ConfigError(e.message, hint=e.hint) from None
    audience = environ.get("SFCRED_AUDIENCE")
    audience = check_url(audience, "SFCRED_AUDIENCE") if audience else default_audience(login_url)
    parts = (client_id, username, login_url, audience) + ((grant,) if grant != JWT_BEARER else ())
    digest = hashlib.sha256("\n".join(parts).encode())
    profile = Profile(
        name=f"env-{digest.hexdigest()[:12]}",
        client_id=client_id, username=username, login_url=login_url, audience=audience,
        keys=KeySlots(active=KEY_ID), token_ttl=DEFAULT_TTL, refresh_margin=DEFAULT_MARGIN,
        allow_hosts=allow, grant=grant,
    )
    return EnvProfile(profile, dict(environ))
