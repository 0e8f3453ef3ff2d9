"""doctor's app check (online, when ``rotate --deploy`` has recorded the app): the certificate
the app holds at Salesforce, read through the Metadata API with the new token, against the
profile's keys (which one Salesforce trusts), and its expiry. A user who may not read
metadata gets a skip, not a failure: the permission is needed only for ``--deploy``."""

from __future__ import annotations

import base64
import time

from sfcred import keys
from sfcred.doctor.model import CERT_WARN_DAYS, CONFIG, Check, make
from sfcred.errors import SalesforceRefused, SfcredError
from sfcred.profiles.record import Profile
from sfcred.salesforce import metadata
from sfcred.salesforce.oauth import Token
from sfcred.store.keystore import KeyStore


def app_check(store: KeyStore, profile: Profile, token: Token, now: float | None = None,
              budget: float | None = None) -> Check:
    app, eca = profile.deploy_app, profile.deploy_eca
    if not app:
        return make("app", "skip", "no app recorded yet (the first `sfcred rotate "
                    f"{profile.name} --deploy --app NAME` records it)")
    type_name = metadata.ECA_OAUTH if eca else metadata.CONNECTED_APP
    md = metadata.MetadataClient(token.instance_url, token.access_token, eca=eca, budget=budget)
    try:
        record = md.read(type_name, metadata.metadata_name(app, eca))
    except SalesforceRefused as e:
        if e.error == "INSUFFICIENT_ACCESS":
            return make("app", "skip", f"{profile.username} may not read {app}'s metadata "
                        "(needed only for rotate --deploy)")
        return make("app", "warn", e.message, e.hint)
    except SfcredError as e:
        return make("app", "warn", e.message, e.hint)
    finally:
        md.close()
    if record is None:
        return make("app", "fail", f"the org has no {type_name} named {app}",
                    f"record the right one: `sfcred rotate {profile.name} --deploy --app NAME`",
                    CONFIG)
    held = record.certificate()
    slots = [(s, k) for s, k in (("active", profile.keys.active),
                                 ("pending", profile.keys.pending),
                                 ("previous", profile.keys.previous)) if k]
    trusted = next((s for s, kid in slots
                    if keys.cert_der_b64(store.get_key(profile.name, kid).cert_pem) == held), None)
    expiry = _expiry(held)
    when = f"; it expires {time.strftime('%Y-%m-%d', time.gmtime(expiry))}" if expiry else ""
    if trusted is None:
        return make("app", "fail", f"{app} holds a certificate of none of this profile's keys"
                    + when, f"`sfcred rotate {profile.name} --deploy` uploads the active one",
                    CONFIG)
    detail = f"{app} holds the {trusted} key's certificate{when}"
    if trusted != "active":
        return make("app", "warn", detail, f"finish the rotation: `sfcred rotate {profile.name} "
                    "--deploy` (or --activate / --rollback)")
    left = (expiry - (time.time() if now is None else now)) / 86400 if expiry else None
    if left is not None and left < CERT_WARN_DAYS:
        return make("app", "warn", detail, f"rotate before then: `sfcred rotate {profile.name} "
                    "--deploy`")
    return make("app", "ok", detail + " (Salesforce trusts the active key)")


def _expiry(b64der: str | None) -> float | None:
    if not b64der:
        return None
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(base64.b64decode(b64der))
    except ValueError:
        return None
    return cert.not_valid_after_utc.timestamp()
