"""doctor's offline checks: the keyring, the profile's fields, the key, the certificate, and
whether host and audience belong together. No network."""

from __future__ import annotations

from collections.abc import Collection

from sfcred import keys
from sfcred.doctor.model import (
    CERT_WARN_DAYS,
    CONFIG,
    KEYRING,
    Check,
    audience_kind,
    change_command,
    host_kind,
    make,
    sandbox_suffix,
    sandbox_url,
)
from sfcred.errors import InputError, KeyringUnavailable, SfcredError
from sfcred.profiles.record import PRODUCTION, SANDBOX, Profile, check_url, require_salesforce_host
from sfcred.store.calls import WAYS_OUT
from sfcred.store.keystore import KeyStore

PERSISTENCE = (  # (backend module prefix, what a user should know about where items live)
    ("keyring.backends.SecretService", "kept by the Secret Service daemon (persists; unlocked "
     "with the login session)"),
    ("keyring.backends.libsecret", "kept by the Secret Service daemon (persists; unlocked with "
     "the login session)"),
    ("keyring.backends.macOS", "kept in the macOS Keychain (persists)"),
    ("keyring.backends.Windows", "kept in Windows Credential Manager (persists)"),
    ("keyring.backends.kwallet", "kept in KWallet (persists)"),
    ("keyrings.alt.file.PlaintextKeyring", "kept in a PLAIN TEXT file (persists, not encrypted)"),
    ("keyrings.alt.file", "kept in an encrypted file (persists)"),
    ("keyrings.cryptfile", "kept in an encrypted file (persists)"),
    ("sfcred.store.vault", "kept in the fleet store, OpenBao / Vault KV v2 (persists, shared)"),
    ("sfcred.testing.keyrings", "kept in memory only: lost when the process ends (a test backend)"),
    ("keyring.backends.chainer", "kept by the first of several backends that answers"),
)


def persistence(backend: str) -> str:
    """Where a backend keeps items, and whether they outlive the process and a reboot."""
    return next((words for prefix, words in PERSISTENCE if backend.startswith(prefix)),
                "kept by a backend sfcred does not know: check whether it persists")


def keyring_check(store: KeyStore) -> Check:
    try:
        backend = store.backend_name()
        store.probe()
    except KeyringUnavailable as e:
        return make("keyring", "fail", e.message, e.hint or WAYS_OUT, KEYRING)
    return make("keyring", "ok", f"{backend}: write, read and delete work; items are "
                f"{persistence(backend)}")


def profile_check(name: str | None, store: KeyStore,
                  listed: Collection[str]) -> tuple[Profile | None, Check]:
    """The profile ``name`` from the store; ``listed``: the names the index knows."""
    if not name:
        return None, make("profile", "fail", "no profile named and no default profile",
                            "pass NAME, or set one: `sfcred profile default NAME`", CONFIG)
    try:
        profile = store.get_profile(name)
    except SfcredError as e:
        return None, make("profile", "fail", f"{name}: {e.message}", e.hint, e.exit_code)
    if profile is None:
        from sfcred.profiles.suggest import did_you_mean

        where = "the index lists it, but " if name in listed else ""
        return None, make("profile", "fail",
                          f"{name}: {where}the keyring has no such profile"
                          f"{did_you_mean(name, listed)}",
                          "see `sfcred profile list`; add it with `sfcred profile add` (same "
                          "keyring backend and SFCRED_KEYRING_SERVICE as before?)", CONFIG)
    problems = [f for f, v in (("client id", profile.client_id), ("username", profile.username
                               or ("-" if profile.client_credentials else "")),
                               ("active key", profile.keys.active)) if not v or not v.strip()]
    for field, url in (("login URL", profile.login_url), ("audience", profile.audience)):
        try:
            check_url(url, field)
        except InputError:
            problems.append(field)
    if problems:
        return None, make("profile", "fail", f"{name}: missing or invalid {', '.join(problems)}",
                            f"add it again: `sfcred profile add {name} ... --force`", CONFIG)
    try:  # a record written before the host rule: get refuses it, so doctor says why
        require_salesforce_host(profile.login_url, profile.allow_hosts, "its login URL",
                                fix=f"sfcred profile add {name} ... --force --allow-host")
    except InputError as e:
        return None, make("profile", "fail", f"{name}: {e.message}", e.hint, CONFIG)
    who = profile.username or "the app's Run As user (not known yet)"
    detail = f"{name}: {who} at {profile.login_url}, client id {profile.client_id}"
    if name not in listed:
        return profile, make("profile", "warn", detail + "; not in the profile index",
                               f"add it again (`sfcred profile add {name} ... --force`) so that "
                               "`get` by host finds it")
    return profile, make("profile", "ok", detail)


def key_check(store: KeyStore, profile: Profile) -> tuple[Check, keys.KeyMaterial | None]:
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


def certificate_check(store: KeyStore, profile: Profile, material: keys.KeyMaterial,
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


def audience_check(profile: Profile) -> Check:
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

