"""Helpers for the client credentials tests: an app with the flow on and a Run As user at the
stand-in, and a profile added through the installed ``sfcred`` with the secret on stdin."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from _e2e import Run, new_client_id

from sfcred.testing.server import FakeSalesforce

RUN_AS = "runas@example.com"


def new_secret() -> str:
    return "CS" + secrets.token_hex(32).upper()


@dataclass(frozen=True)
class CcOrg:
    sf: FakeSalesforce
    name: str
    client_id: str
    secret: str
    added: subprocess.CompletedProcess[str]


def cc_app(sf: FakeSalesforce, cert_pem: str, *, run_as: str | None = RUN_AS,
           enabled: bool = True) -> tuple[str, str]:
    """A connected app with the client credentials flow (client id, consumer secret)."""
    client_id, secret = new_client_id(), new_secret()
    sf.add_app(client_id, cert_pem, client_secret=secret)
    if run_as is not None:
        sf.add_user(run_as)
    sf.enable_client_credentials(client_id, run_as, enabled)
    return client_id, secret


def add_cc_profile(run: Run, sf: FakeSalesforce, client_id: str, secret: str,
                   name: str = "cc", *, login_url: str | None = None,
                   extra: Sequence[str] = (), check: bool = True,
                   ) -> subprocess.CompletedProcess[str]:
    done = run("profile", "add", name, "--grant", "client-credentials", "--client-id",
               client_id, "--client-secret-stdin", "--login-url", login_url or sf.url,
               *extra, input=secret + "\n")
    if check:
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""
    return done


def setup_cc(run: Run, sf: FakeSalesforce, cert_pem: str, name: str = "cc",
             extra: Sequence[str] = ()) -> CcOrg:
    client_id, secret = cc_app(sf, cert_pem)
    added = add_cc_profile(run, sf, client_id, secret, name, extra=extra)
    return CcOrg(sf, name, client_id, secret, added)
