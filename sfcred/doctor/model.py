"""doctor's model: a ``Check`` (one line of the checklist, with the exit code it stands for),
the order and titles of the checks, and the facts about hosts and audiences they share.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sfcred.errors import (
    ConfigError,
    InputError,
    KeyringUnavailable,
    SalesforceRefused,
    SalesforceUnreachable,
)
from sfcred.profiles.record import PRODUCTION, SANDBOX, Profile, check_url
from sfcred.untrusted import is_loopback

ENV_PRODUCTION = "SFCRED_PRODUCTION_URL"
ENV_SANDBOX = "SFCRED_SANDBOX_URL"
CERT_WARN_DAYS = 30
SKEW_WARN = 60.0  # seconds; the assertion lives 170 s (salesforce.grants.ASSERTION_LIFETIME)
SKEW_FAIL = 150.0
# The last label of usernames that sandboxes append (user@corp.com.uat); a hint, not a rule.
SANDBOX_SUFFIXES = ("uat", "dev", "qa", "sandbox", "full", "partial", "staging", "sit", "test")
ORDER = ("keyring", "profile", "key", "certificate", "audience", "clock", "token", "userinfo",
         "app")
TITLES = {
    "keyring": "keyring",
    "profile": "profile",
    "key": "private key",
    "certificate": "certificate",
    "audience": "host and audience",
    "clock": "clock",
    "token": "token request",
    "userinfo": "token works",
    "app": "app certificate",
}
# Exit codes of failed checks, from the one exception tree.
CONFIG = ConfigError.exit_code
REFUSED = SalesforceRefused.exit_code
UNREACHABLE = SalesforceUnreachable.exit_code
KEYRING = KeyringUnavailable.exit_code


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    status: str  # "ok" | "fail" | "warn" | "skip"
    detail: str  # one line, never a secret
    fix: str | None = None
    exit_code: int = 0  # for "fail": 1 config, 3 Salesforce refused, 4 unreachable, 5 keyring


def make(name: str, status: str, detail: str, fix: str | None = None, code: int = 0) -> Check:
    return Check(name, TITLES[name], status, detail, fix, code if status == "fail" else 0)


def production_url() -> str:
    return _env_url(ENV_PRODUCTION, PRODUCTION)


def sandbox_url() -> str:
    return _env_url(ENV_SANDBOX, SANDBOX)


def _env_url(var: str, default: str) -> str:
    value = os.environ.get(var)
    if not value:
        return default
    try:
        return check_url(value, var)
    except InputError as e:
        raise ConfigError(e.message) from None


def host_kind(url: str) -> str:
    """production, sandbox (generic login hosts, or My Domains that say so) or other."""
    host = url.split("://", 1)[-1].split(":", 1)[0].lower()
    if url in (PRODUCTION, production_url()):
        return "production"
    if url in (SANDBOX, sandbox_url()) or host.endswith(".sandbox.my.salesforce.com"):
        return "sandbox"
    if host.endswith(".my.salesforce.com"):
        return "production"
    return "other"


def is_generic(url: str) -> bool:
    return url in (PRODUCTION, SANDBOX, production_url(), sandbox_url())


def audience_kind(audience: str) -> str:
    return {PRODUCTION: "production", SANDBOX: "sandbox"}.get(audience, "other")


def sandbox_suffix(username: str) -> str | None:
    last = username.rsplit(".", 1)[-1].lower() if "@" in username else ""
    return last if last in SANDBOX_SUFFIXES else None


def my_domain(profile: Profile, instance_host: str | None) -> str | None:
    """The org's My Domain URL: the login URL when it is one, else the instance seen last."""
    if not is_generic(profile.login_url):
        return profile.login_url
    if instance_host:
        hostname = instance_host.rsplit(":", 1)[0] if instance_host.count(":") == 1 else ""
        scheme = "http" if is_loopback(hostname or instance_host.strip("[]")) else "https"
        return f"{scheme}://{instance_host}"
    return None


def change_command(profile: Profile, login_url: str, audience: str) -> str:
    """The ``profile add --force`` line that switches host and audience, keeping the keys."""
    return (f"sfcred profile add {profile.name} --client-id {profile.client_id} --username "
            f"{profile.username} --login-url {login_url} --audience {audience} --force")


