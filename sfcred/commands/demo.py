"""``sfcred demo``: the main job end to end against the embedded Salesforce stand-in.

Everything it makes is throwaway: a stand-in on loopback, a profile under its own keyring
service (``sfcred-demo``), a cache and an index in a temporary folder. It uses the OS keyring
when a write/read/delete probe works there, else an in-memory one, and says which. It yields
narration lines; ``cli`` prints them. Tokens are shown shortened, never whole.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sfcred.commands import Console
from sfcred.errors import KeyringUnavailable, SalesforceRefused
from sfcred.helper import formats
from sfcred.profiles import manage
from sfcred.profiles.index import IndexFile
from sfcred.salesforce.oauth import TokenClient
from sfcred.store.keystore import KeyStore
from sfcred.tokens.cache import TokenCache
from sfcred.tokens.flight import Tokens

CLIENT_ID = "3MVG9demo" + "x" * 16
USER = "integration@demo.example"


def _mask(text: str, token: str) -> str:
    return text.replace(token, token[:12] + "…(redacted)")


def _keystore() -> tuple[KeyStore, str]:
    store = KeyStore(service="sfcred-demo")
    try:
        store.writable()  # not a file backend keyring fell back to: the memory one instead
        store.probe()
        return store, f"the OS keyring ({store.backend_name()})"
    except KeyringUnavailable:
        from sfcred.testing.keyrings import MemoryKeyring

        memory = MemoryKeyring()  # type: ignore[no-untyped-call]  # keyring's __init__ is untyped
        return KeyStore(memory, "sfcred-demo"), "an in-memory keyring (no OS keyring works here)"


def narrate() -> Iterator[str]:
    from sfcred.testing.server import FakeSalesforce

    name = f"demo-{secrets.token_hex(3)}"
    store, where = _keystore()
    with tempfile.TemporaryDirectory(prefix="sfcred-demo-") as tmp, FakeSalesforce() as sf:
        index = IndexFile(str(Path(tmp) / "profiles.json"))
        cache = TokenCache(Path(tmp) / "cache")
        yield f"1. Started a local Salesforce stand-in at {sf.url}; keys go to {where}."
        try:
            yield from _steps(sf, name, store, index, cache)
        finally:
            with contextlib.suppress(Exception):
                manage.remove(name, store, index, cache)
            yield (f"10. Removed profile {name}, its keys and its cached token; stopped the "
                   "stand-in.")


def _steps(sf: object, name: str, store: KeyStore, index: IndexFile,
           cache: TokenCache) -> Iterator[str]:
    from sfcred.testing.server import FakeSalesforce

    assert isinstance(sf, FakeSalesforce)
    req = manage.NewProfile(name=name, client_id=CLIENT_ID, username=USER,
                            login_url=sf.url, audience="https://login.salesforce.com",
                            generate_bits=2048)
    added = manage.add(req, store, index, cache)
    yield (f"2. sfcred profile add {name} --generate-key: RSA key {added.fingerprint} stored "
           "in the keyring, with a self-signed certificate.")
    sf.add_app(CLIENT_ID, added.material.cert_pem, full_name="Demo_Integration")
    sf.add_user(USER)
    yield "3. Uploaded the certificate (sfcred cert) to the connected app at the stand-in."
    notes: list[str] = []
    helper = Tokens(index=index, store=lambda: store, client=TokenClient,
                    cache=lambda: cache, note=notes.append)
    try:
        helper.get(name)
    except SalesforceRefused as e:
        yield f"4. sfcred get before the user is pre-authorized: exit {e.exit_code}."
        yield f"   {e.message}"
        yield f"   cause: {e.cause}"
        yield f"   fix: {e.fix}"
    sf.preauthorize(CLIENT_ID, USER)
    yield "5. Pre-authorized the user for the app (admin-approved users), as the fix says."
    start = time.perf_counter()
    entry = helper.get(name)
    mint_ms = (time.perf_counter() - start) * 1000
    token = entry.access_token.reveal()
    yield f"6. sfcred get -p {name} minted a token in {mint_ms:.0f} ms; in each format:"
    for fmt in formats.FORMATS:
        yield f"   --format {fmt}:"
        for line in formats.render(entry, fmt, frozenset({"authtype"})).splitlines():
            yield "     " + _mask(line, token)
    before = sf.token_requests
    start = time.perf_counter()
    again = helper.get(name)
    cached_ms = (time.perf_counter() - start) * 1000
    same = again.access_token == entry.access_token and sf.token_requests == before
    yield (f"7. A second get answered from the cache in {cached_ms:.1f} ms "
           f"({'same token, no new request' if same else 'UNEXPECTED: a new token'}).")
    helper.erase(name)
    fresh = helper.get(name)
    changed = fresh.access_token != entry.access_token
    yield (f"8. sfcred erase forgot it; the next get minted a "
           f"{'new' if changed else 'SAME (unexpected)'} token "
           f"({sf.token_requests} token requests in all).")
    yield from _deploy(sf, name, store, helper, notes)


def _deploy(sf: object, name: str, store: KeyStore, helper: Tokens,
            notes: list[str]) -> Iterator[str]:
    """A rotation with no manual step: the certificate goes up through the Metadata API."""
    from sfcred import keys
    from sfcred.rotation import deploy
    from sfcred.testing.server import FakeSalesforce

    assert isinstance(sf, FakeSalesforce)
    app = next(iter(sf.state.apps().values()))
    sf.grant_metadata(USER)
    sf.propagation_delay = 1.0
    old = store.require_profile(name).keys.active
    narration: list[str] = []
    runner = deploy.Runner(helper, TokenClient, note=narration.append)
    runner.run(name, deploy.Deploy(app=app.full_name, wait=60))
    profile = store.require_profile(name)
    record = sf.app_record(CLIENT_ID)
    held = keys.cert_der_b64(store.get_key(name, profile.keys.active).cert_pem)
    yield (f"9. sfcred rotate {name} --deploy --app {app.full_name}: a new key, its certificate "
           "saved in the app through the Metadata API, activated once Salesforce took it:")
    for line in narration:
        yield f"   {line}"
    works = helper.get(name).access_token is not None
    yield (f"   the app now holds the new key's certificate: "
           f"{'yes' if record['certificate'] == held else 'NO (unexpected)'}; the old key "
           f"{'is kept as previous' if profile.keys.previous == old else 'is GONE'}; "
           f"get {'works' if works else 'FAILS'}.")


def run(args: argparse.Namespace, con: Console) -> int:
    for line in narrate():
        con.out(line + "\n")
    return 0
