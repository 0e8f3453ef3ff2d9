"""``sfcred rotate NAME --deploy``: a rotation with no manual step (docs/rotation.md, With
certificate deployment), as a runbook whose every step leaves a profile that mints:

1. the pending key: made (``lifecycle.start``) or, if one is pending, reused; the record names
   it as the key being deployed (``Profile.deploying``), so a rerun resumes that key;
2. the app's record read through the Metadata API (``salesforce.metadata``) with a session
   minted by the active key (or ``--deploy-profile``'s), and written back whole with the
   pending certificate; skipped when the app already has it (a rerun after this step);
3. mints with the pending key, with backoff, until three in a row succeed (a certificate takes
   2-10 minutes to reach every Salesforce server) or ``--wait`` runs out (exit 3, rerun to
   keep waiting); every ``get`` meanwhile keeps answering, the automatic cut-over covering
   the window (the active key while servers know it, the pending one where they do not);
4. the pending key promoted (unless a ``get`` did it already) and the app remembered.

The profile's lock is held only for its record writes, never across the network waits, so
``get`` on this machine is never blocked by a deploy. Every network call has a deadline: each
Metadata API call and mint ``SFCRED_TIMEOUT`` (``MetadataClient``, ``TokenClient``), the
whole of step 3 ``--wait``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfcred import keys
from sfcred.errors import ConfigError, SalesforceRefused, SalesforceUnreachable
from sfcred.rotation import lifecycle
from sfcred.salesforce import metadata
from sfcred.salesforce.refusals import Refusal

if TYPE_CHECKING:
    from sfcred.profiles.record import Profile
    from sfcred.salesforce.oauth import TokenClient
    from sfcred.tokens.flight import Tokens

STREAK = 3  # mints in a row with the new key before it is trusted everywhere
FIRST_POLL, LAST_POLL, BETWEEN = 2.0, 30.0, 1.0


@dataclass(frozen=True)
class Deploy:
    app: str | None = None
    eca: bool = False
    wait: float = 900.0
    deploy_profile: str | None = None
    if_older_than: int | None = None  # days
    key_size: int | None = None
    cert_days: int = keys.DEFAULT_CERT_DAYS


def parse_age(text: str) -> int:
    """``90d`` -> 90 (days)."""
    from sfcred.errors import UsageError

    if not (text.endswith("d") and text[:-1].isdigit()):
        raise UsageError(f"--if-older-than {text!r}: give days, like 90d")
    return int(text[:-1])


class Runner:
    """One ``--deploy`` run. Injected: the Tokens (store, cache, lock, sessions), a token
    client for the polls, the Metadata API client, the clock, sleep and the narrator."""

    def __init__(
        self,
        tokens: Tokens,
        client: Callable[[], TokenClient],
        metadata_client: Callable[..., metadata.MetadataClient] = metadata.MetadataClient,
        *,
        note: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.tokens = tokens
        # The wait's state, each poll: a rewritten line on a terminal, a line each elsewhere.
        self.progress = progress or note
        self.store = tokens.store
        self._client = client
        self._metadata = metadata_client
        self.note = note
        self.clock, self.monotonic, self.sleep = clock, monotonic, sleep

    def run(self, name: str, opts: Deploy) -> Profile | None:
        """The profile with the new key active, or None when ``--if-older-than`` says wait."""
        profile = self.store.require_profile(name)
        if opts.if_older_than is not None and profile.deploying is None:
            age = self._age_days(profile)
            if age < opts.if_older_than:
                self.note(f"profile {name}: the active key is {age} days old, younger than "
                          f"{opts.if_older_than} days; nothing to do")
                return None
        app = opts.app or profile.deploy_app
        eca = opts.eca if opts.app else (opts.eca or profile.deploy_eca)
        if not app:
            raise ConfigError("rotate --deploy: which app? pass --app NAME (its API name; "
                              "remembered after the first successful run)")
        kid = self._pending(name, opts)
        material = self.store.get_key(name, kid)
        self._write_app(name, app, eca, keys.cert_der_b64(material.cert_pem), opts)
        self._poll(name, kid, opts.wait)
        return self._finish(name, kid, app, eca)

    def _age_days(self, profile: Profile) -> int:
        material = self.store.get_key(profile.name, profile.keys.active)
        started = keys.cert_start(material.cert_pem).timestamp()
        return int((self.clock() - started) // 86400)

    # 1 ---------------------------------------------------------------------------------------
    def _pending(self, name: str, opts: Deploy) -> str:
        with self.tokens.cache.lock(name):
            profile = self.store.require_profile(name)
            slots = (profile.keys.pending, profile.keys.active)
            if profile.deploying and profile.deploying in slots:
                self.note(f"step 1/4: resuming the deploy of key "
                          f"{self._fingerprint(name, profile.deploying)}")
                return profile.deploying
            if profile.keys.pending:
                kid = profile.keys.pending
                self.note(f"step 1/4: using the pending key {self._fingerprint(name, kid)}")
            else:
                profile, _ = lifecycle.start(self.store, profile, opts.key_size, opts.cert_days,
                                          False)
                assert profile.keys.pending is not None
                kid = profile.keys.pending
                self.note(f"step 1/4: made a pending key {self._fingerprint(name, kid)}; the "
                          "active key keeps working")
            self.store.put_profile(profile.changed(deploying=kid))
            return kid

    def _fingerprint(self, name: str, kid: str) -> str:
        return keys.fingerprint(keys.public_key(self.store.get_key(name, kid)))

    # 2 ---------------------------------------------------------------------------------------
    def _write_app(self, name: str, app: str, eca: bool, certificate: str,
                   opts: Deploy) -> None:
        session = self.tokens.get(opts.deploy_profile or name)
        type_name = metadata.ECA_OAUTH if eca else metadata.CONNECTED_APP
        full_name = metadata.metadata_name(app, eca)
        md = self._metadata(session.instance_url, session.access_token, eca=eca)
        try:
            record = md.read(type_name, full_name)
            if record is None:
                what = "External Client App" if eca else "connected app"
                raise SalesforceRefused(
                    "NOT_FOUND", f"no {type_name} named {full_name}",
                    cause=f"the org has no {what} {app!r}",
                    fix=f"pass its API name: --app NAME{' --eca' if not eca else ''} (Setup, "
                        "App Manager, the app, View: API Name)")
            if record.certificate() == certificate:
                self.note(f"step 2/4: {app} already has the new certificate")
                return
            md.update(record.with_certificate(certificate))
        finally:
            md.close()
        self.note(f"step 2/4: saved the new certificate in {app} (every other field as read); "
                  "Salesforce takes 2-10 minutes to reach all its servers")

    # 3 ---------------------------------------------------------------------------------------
    def _poll(self, name: str, kid: str, wait: float) -> None:
        started = self.monotonic()
        give_up = started + wait
        delay, streak = FIRST_POLL, 0
        # Read once: the key material of ``kid`` never changes, and neither do the settings a
        # mint uses; only the record's slots do (a get may promote), which _finish re-reads.
        profile = self.store.require_profile(name)
        key = self.store.get_key(name, kid)
        client = self._client()
        budget = client.budget
        try:
            while True:
                # Each mint within what is left of --wait (a mint has its own deadline too):
                # a token endpoint that drips keeps the poll inside --wait, give or take 1 s.
                client.budget = min(budget, max(1.0, give_up - self.monotonic()))
                try:
                    client.mint(profile, key)
                    streak += 1
                except SalesforceRefused as e:
                    if e.refusal is not Refusal.KEY_MISMATCH:
                        raise
                    streak = 0
                except SalesforceUnreachable:
                    streak = 0
                if streak >= STREAK:
                    self.note(f"step 3/4: Salesforce took the new key {STREAK} times in a row")
                    return
                left = give_up - self.monotonic()
                if left <= 0:
                    raise SalesforceRefused(
                        "STILL_PROPAGATING", "the new certificate is not on every server yet",
                        cause=f"Salesforce did not take the new key {STREAK} times in a row "
                              f"within --wait {wait:g} s",
                        fix="rerun to keep waiting (the pending key is kept, gets keep working)")
                pause = BETWEEN if streak else delay
                state = (f"taken {streak} of {STREAK} times in a row" if streak
                         else "not taken everywhere yet")
                self.progress(f"step 3/4: waiting for Salesforce to take the new key: {state}; "
                              f"{self.monotonic() - started:.0f} s elapsed, {left:.0f} s left "
                              f"(next try in {min(pause, left):.0f} s)")
                if not streak:
                    delay = min(LAST_POLL, delay * 1.5)
                self.sleep(min(pause, left))
        finally:
            client.close()

    # 4 ---------------------------------------------------------------------------------------
    def _finish(self, name: str, kid: str, app: str, eca: bool) -> Profile:
        with self.tokens.cache.lock(name):
            profile = self.store.require_profile(name)
            if profile.keys.pending == kid:
                profile = lifecycle.promote(self.store, profile)
            elif profile.keys.active != kid:
                raise ConfigError(f"profile {name}: its keys changed during the deploy "
                                  "(another rotate?); nothing promoted")
            done = profile.changed(deploy_app=app, deploy_eca=eca, deploying=None)
            self.store.put_profile(done)
            self.tokens.guard.clear(name)  # the new key is tried afresh
        self.note(f"step 4/4: the new key is active; {app} is remembered for the next "
                  f"`sfcred rotate {name} --deploy` (the old key stays as previous)")
        return done
