"""``sfcred doctor [NAME]``: a checklist of a profile's set-up, each failure with its fix.

Checks, always all nine, in this order (later ones are skipped when an earlier one leaves them
nothing to work with; ``--offline`` skips the last four)::

    keyring      the backend in use, and a write/read/delete round trip; in fleet mode the
                 store instead (doctor.store): reachable, token, policy, clock
    profile      the record exists and its fields are complete and valid
    key          the active key parses and is RSA of at least 2,048 bits (client credentials:
                 the consumer secret is stored and readable; doctor.secret)
    certificate  the stored certificate belongs to the key; not expired (warn 30 days ahead)
    audience     host and audience belong together; a sandbox-looking username on production
                 (client credentials: the login host is a My Domain)
    clock        local clock against the login host's Date header (online)
    token        a real JWT bearer token request; refusals explained (salesforce.refusals); for a
                 wrong host/audience, an unapproved user or an External Client App, the other
                 sensible host/audience pairs are tried (``online``) and the working one named
    userinfo     the new token works at {instance_url}/services/oauth2/userinfo, and whose it is
    app          the app's certificate at Salesforce (Metadata API, when rotate --deploy has
                 recorded the app and the user may read it) against the profile's keys

Environment, for tests and for proxies or mirrors of Salesforce's generic login hosts:
``SFCRED_PRODUCTION_URL`` replaces https://login.salesforce.com and ``SFCRED_SANDBOX_URL``
replaces https://test.salesforce.com as the HOSTS doctor classifies and probes. Audiences are
never replaced: Salesforce compares them as strings.

No output holds a secret: no token, key, assertion or client secret, only names and
fingerprints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sfcred.doctor import online
from sfcred.doctor.model import CONFIG, ORDER, Check, make, my_domain
from sfcred.doctor.offline import (
    audience_check,
    certificate_check,
    key_check,
    keyring_check,
    profile_check,
)
from sfcred.errors import ConfigError

if TYPE_CHECKING:
    from sfcred.profiles.index import IndexFile
    from sfcred.salesforce.oauth import TokenClient
    from sfcred.store.keystore import KeyStore


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

    kv = store.fleet()  # fleet mode: the store, not a keyring
    if kv is not None:
        from sfcred.doctor.store import store_check

        checks.append(store_check(kv, clock))
    else:
        checks.append(keyring_check(store))
    if checks[-1].status == "fail":
        return rest("needs a working keyring")
    try:
        idx = index.load()
    except ConfigError as e:
        checks.append(make("profile", "fail", e.message, e.hint, CONFIG))
        return rest("needs a profile")
    name = name or idx.default
    entry = idx.profiles.get(name) if name else None
    profile, check = profile_check(name, store, idx.profiles)
    checks.append(check)
    if profile is None:
        return rest("needs a profile")
    if profile.client_credentials:  # a consumer secret, at the My Domain (doctor.secret)
        from sfcred.doctor.secret import domain_check, secret_check

        check, material = secret_check(store, profile)
        checks.append(check)
        checks.append(make("certificate", "skip", "client credentials: no certificate"))
        checks.append(domain_check(profile))
    else:
        check, material = key_check(store, profile)
        checks.append(check)
        if material is None:
            checks.append(make("certificate", "skip", "needs a readable key"))
        else:
            checks.append(certificate_check(store, profile, material, clock()))
        checks.append(audience_check(profile))
    if offline:
        return rest("offline")
    deadline = online.budget()  # the online part as a whole
    checks.append(online.clock_check(profile.login_url, clock, deadline))
    if material is None:
        return rest("needs a readable key")
    instance_host = entry.instance_host if entry is not None else None
    checks.extend(online.token_checks(profile, material, client,
                                      my_domain(profile, instance_host), store, deadline))
    return rest("needs a token")
