"""``sfcred doctor [NAME]``: a checklist of a profile's set-up, each failure with its fix.

Checks, always all eight, in this order (later ones are skipped when an earlier one leaves them
nothing to work with; ``--offline`` skips the last three)::

    keyring      the backend in use, and a write/read/delete round trip
    profile      the record exists and its fields are complete and valid
    key          the active key parses and is RSA of at least 2,048 bits
    certificate  the stored certificate belongs to the key; not expired (warn 30 days ahead)
    audience     host and audience belong together; a sandbox-looking username on production
    clock        local clock against the login host's Date header (online)
    token        a real JWT bearer token request; refusals explained (salesforce.refusals); for a
                 wrong host/audience, an unapproved user or an External Client App, the other
                 sensible host/audience pairs are tried (``_probe``) and the working one named
    userinfo     the new token works at {instance_url}/services/oauth2/userinfo, and whose it is

Environment, for tests and for proxies or mirrors of Salesforce's generic login hosts:
``SFCRED_PRODUCTION_URL`` replaces https://login.salesforce.com and ``SFCRED_SANDBOX_URL``
replaces https://test.salesforce.com as the HOSTS doctor classifies and probes. Audiences are
never replaced: Salesforce compares them as strings.

No output holds a secret: no token, key, assertion or client secret, only names and
fingerprints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfcred import keys
from sfcred.errors import ConfigError, InputError, KeyringUnavailable, SfcredError
from sfcred.profiles import PRODUCTION, SANDBOX, Profile, check_url
from sfcred.untrusted import is_loopback

if TYPE_CHECKING:
    from sfcred.index import IndexFile
    from sfcred.keystore import KeyStore
    from sfcred.salesforce.oauth import TokenClient

ENV_PRODUCTION = "SFCRED_PRODUCTION_URL"
ENV_SANDBOX = "SFCRED_SANDBOX_URL"
CERT_WARN_DAYS = 30
SKEW_WARN = 60.0  # seconds; the assertion lives 170 s (salesforce.oauth.ASSERTION_LIFETIME)
SKEW_FAIL = 150.0
# The last label of usernames that sandboxes append (user@corp.com.uat); a hint, not a rule.
SANDBOX_SUFFIXES = ("uat", "dev", "qa", "sandbox", "full", "partial", "staging", "sit", "test")
ORDER = ("keyring", "profile", "key", "certificate", "audience", "clock", "token", "userinfo")
TITLES = {
    "keyring": "keyring",
    "profile": "profile",
    "key": "private key",
    "certificate": "certificate",
    "audience": "host and audience",
    "clock": "clock",
    "token": "token request",
    "userinfo": "token works",
}
CONFIG, REFUSED, UNREACHABLE, KEYRING = 1, 3, 4, 5


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


def diagnose(
    name: str | None,
    *,
    offline: bool,
    store: KeyStore,
    index: IndexFile,
    client: Callable[[], TokenClient],
    clock: Callable[[], float] = time.time,
) -> list[Check]:
    checks: list[Check] = []

    def rest(why: str) -> list[Check]:
        done = {c.name for c in checks}
        return checks + [make(n, "skip", why) for n in ORDER if n not in done]

    checks.append(_keyring(store))
    if checks[-1].status == "fail":
        return rest("needs a working keyring")
    try:
        idx = index.load()
    except ConfigError as e:
        checks.append(make("profile", "fail", e.message, e.hint, CONFIG))
        return rest("needs a profile")
    name = name or idx.default
    entry = idx.profiles.get(name) if name else None
    profile, check = _profile(name, store, entry is not None)
    checks.append(check)
    if profile is None:
        return rest("needs a profile")
    check, material = _key(store, profile)
    checks.append(check)
    if material is None:
        checks.append(make("certificate", "skip", "needs a readable key"))
    else:
        checks.append(_certificate(store, profile, material, clock()))
    checks.append(_audience(profile))
    if offline:
        return rest("offline")
    from sfcred import _probe

    checks.append(_probe.clock_check(profile.login_url, clock))
    if material is None:
        return rest("needs a readable key")
    instance_host = entry.instance_host if entry is not None else None
    checks.extend(_probe.token_checks(profile, material, client, my_domain(profile, instance_host)))
    return checks


def _keyring(store: KeyStore) -> Check:
    try:
        backend = store.backend_name()
        store.probe()
    except KeyringUnavailable as e:
        from sfcred.keystore import WAYS_OUT

        return make("keyring", "fail", e.message, e.hint or WAYS_OUT, KEYRING)
    return make("keyring", "ok", f"{backend}: write, read and delete work")


def _profile(name: str | None, store: KeyStore, indexed: bool) -> tuple[Profile | None, Check]:
    if not name:
        return None, make("profile", "fail", "no profile named and no default profile",
                            "pass NAME, or set one: `sfcred profile default NAME`", CONFIG)
    try:
        profile = store.get_profile(name)
    except SfcredError as e:
        return None, make("profile", "fail", f"{name}: {e.message}", e.hint, e.exit_code)
    if profile is None:
        where = "the index lists it, but " if indexed else ""
        return None, make("profile", "fail", f"{name}: {where}the keyring has no such profile",
                            "see `sfcred profile list`; add it with `sfcred profile add` (same "
                            "keyring backend and SFCRED_KEYRING_SERVICE as before?)", CONFIG)
    problems = [f for f, v in (("client id", profile.client_id), ("username", profile.username),
                               ("active key", profile.keys.active)) if not v or not v.strip()]
    for field, url in (("login URL", profile.login_url), ("audience", profile.audience)):
        try:
            check_url(url, field)
        except InputError:
            problems.append(field)
    if problems:
        return None, make("profile", "fail", f"{name}: missing or invalid {', '.join(problems)}",
                            f"add it again: `sfcred profile add {name} ... --force`", CONFIG)
    detail = f"{name}: {profile.username} at {profile.login_url}, client id {profile.client_id}"
    if not indexed:
        return profile, make("profile", "warn", detail + "; not in the profile index",
                               f"add it again (`sfcred profile add {name} ... --force`) so that "
                               "`get` by host finds it")
    return profile, make("profile", "ok", detail)


def _key(store: KeyStore, profile: Profile) -> tuple[Check, keys.KeyMaterial | None]:
    try:
        material = store.get_key(profile.name, profile.keys.active)
        pub = keys.public_of(material.key_pem)
    except SfcredError as e:
        return make("key", "fail", e.message, e.hint, e.exit_code), None
    except (ValueError, TypeError, AssertionError):
        return make("key", "fail", "the stored key is not a readable RSA private key",
                      f"import the key again: `sfcred profile add {profile.name} --key-file KEY "
                      "--force`", CONFIG), None
    detail = f"RSA {pub.key_size}, {keys.fingerprint(pub)}"
    if pub.key_size < keys.MIN_BITS:
        return make("key", "fail", detail + f"; Salesforce needs at least {keys.MIN_BITS} bits",
                      f"`sfcred rotate {profile.name} --key-size 2048`", CONFIG), None
    if profile.keys.pending:
        detail += "; a pending key waits (`sfcred cert NAME --pending` → upload → --activate)"
    return make("key", "ok", detail), material


def _certificate(store: KeyStore, profile: Profile, material: keys.KeyMaterial,
                 now: float) -> Check:
    rotate = (f"`sfcred rotate {profile.name}`, upload the new certificate, then "
              f"`sfcred rotate {profile.name} --activate`")
    try:
        matches = keys.cert_matches(material.cert_pem, keys.public_of(material.key_pem))
        expiry = keys.cert_expiry(material.cert_pem)
    except ValueError:
        return make("certificate", "fail", "the stored certificate is unreadable", rotate, CONFIG)
    if not matches:
        return make("certificate", "fail", "the stored certificate does not belong to the key",
                      rotate, CONFIG)
    left = (expiry.timestamp() - now) / 86400
    when = expiry.strftime("%Y-%m-%d")
    if left <= 0:
        return make("certificate", "fail", f"expired on {when}", rotate, CONFIG)
    if left <= CERT_WARN_DAYS:
        return make("certificate", "warn", f"expires on {when}, in {int(left)} days", rotate)
    return make("certificate", "ok", f"matches the key; expires on {when} ({int(left)} days); "
                  f"upload `sfcred cert {profile.name}` to the app if not done yet")


def _audience(profile: Profile) -> Check:
    host, aud = host_kind(profile.login_url), audience_kind(profile.audience)
    detail = f"host {profile.login_url}, audience {profile.audience}"
    right = {"production": PRODUCTION, "sandbox": SANDBOX}
    if host in right and aud in right and host != aud:
        return make("audience", "fail", f"{detail}: a {host} host with a {aud} audience",
                      f"use audience {right[host]}: "
                      + change_command(profile, profile.login_url, right[host]), CONFIG)
    suffix = sandbox_suffix(profile.username)
    if suffix and (host == "production" or aud == "production"):
        return make("audience", "warn", f"{detail}: the username ends in .{suffix}, like a "
                      "sandbox username, but the profile logs in to production",
                      "if the org is a sandbox: " + change_command(profile, sandbox_url(), SANDBOX))
    return make("audience", "ok", detail)

