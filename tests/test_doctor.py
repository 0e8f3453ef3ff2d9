"""`sfcred doctor`: each misconfiguration found by a check of its own, with the fix named.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_doctor_e2e.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfcred.doctor import model, online
from sfcred.doctor.checklist import diagnose
from sfcred.errors import ConfigError
from sfcred.profiles.record import PRODUCTION, SANDBOX, KeySlots, Profile

ORDER = ["keyring", "profile", "key", "certificate", "audience", "clock", "token", "userinfo",
         "app"]


def _profile(login_url: str, audience: str, username: str = "u@example.com") -> Profile:
    return Profile(name="p", client_id="CID", username=username, login_url=login_url,
                   audience=audience, keys=KeySlots(active="k"))


def test_host_kinds_follow_the_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    assert model.host_kind(PRODUCTION) == "production"
    assert model.host_kind(SANDBOX) == "sandbox"
    assert model.host_kind("https://acme.my.salesforce.com") == "production"
    assert model.host_kind("https://acme--uat.sandbox.my.salesforce.com") == "sandbox"
    assert model.host_kind("http://127.0.0.1:9") == "other"
    monkeypatch.setenv("SFCRED_SANDBOX_URL", "http://127.0.0.1:9")
    assert model.host_kind("http://127.0.0.1:9") == "sandbox"
    monkeypatch.setenv("SFCRED_PRODUCTION_URL", "http://example.com")
    with pytest.raises(ConfigError, match="SFCRED_PRODUCTION_URL"):
        model.production_url()


@pytest.mark.parametrize(
    ("username", "suffix"),
    [("a@b.com.uat", "uat"), ("a@b.com.QA", "qa"), ("a@b.com", None), ("a@b.com.full", "full"),
     ("nodomain.dev", None)],
)
def test_sandbox_suffix(username: str, suffix: str | None) -> None:
    assert model.sandbox_suffix(username) == suffix


def test_candidates_are_few_unique_and_skip_the_current_pair() -> None:
    md = "https://acme.my.salesforce.com"
    p = _profile(md, PRODUCTION)
    pairs = online.candidates(p, md, external=False)
    assert pairs[0] == (md, SANDBOX)  # same host, other audience first
    assert (md, PRODUCTION) not in pairs
    assert len(pairs) == len(set(pairs)) <= online.MAX_PROBES
    ext = online.candidates(_profile(PRODUCTION, PRODUCTION), md, external=True)
    assert ext[0] == (md, md)
    assert online.candidates(_profile(PRODUCTION, PRODUCTION), None, external=False) == [
        (SANDBOX, SANDBOX)
    ]


def test_my_domain_from_the_login_url_or_the_instance() -> None:
    assert model.my_domain(_profile("https://a.my.salesforce.com", PRODUCTION), None) == (
        "https://a.my.salesforce.com"
    )
    assert model.my_domain(_profile(PRODUCTION, PRODUCTION), "b.my.salesforce.com") == (
        "https://b.my.salesforce.com"
    )
    assert model.my_domain(_profile(PRODUCTION, PRODUCTION), "127.0.0.1:8080") == (
        "http://127.0.0.1:8080"
    )
    assert model.my_domain(_profile(PRODUCTION, PRODUCTION), None) is None


def test_diagnose_in_process_with_a_broken_keyring(fail_keyring: Any, tmp_path: Path) -> None:
    from sfcred.profiles.index import IndexFile
    from sfcred.store.keystore import KeyStore

    def no_client() -> Any:
        raise AssertionError("no token request without a keyring")

    checks = diagnose("acme", offline=False, store=KeyStore(),
                             index=IndexFile(str(tmp_path / "profiles.json")), client=no_client)
    assert [c.name for c in checks] == ORDER
    assert checks[0].status == "fail"
    assert checks[0].exit_code == 5
    assert checks[0].fix
    assert {c.status for c in checks[1:]} == {"skip"}


@pytest.mark.parametrize(
    ("backend", "words"),
    [("keyring.backends.SecretService.Keyring", "persists"),
     ("keyring.backends.macOS.Keyring", "macOS Keychain"),
     ("keyrings.alt.file.PlaintextKeyring", "PLAIN TEXT"),
     ("sfcred.testing.keyrings.MemoryKeyring", "lost when the process ends"),
     ("somebody.else.Keyring", "does not know")],
)  # fmt: skip
def test_doctor_says_where_the_backend_keeps_items(backend: str, words: str) -> None:
    from sfcred.doctor.offline import persistence

    assert words in persistence(backend)
