"""The real Secret Service works in the test setup, and CI never skips the tests that need it.

The in-process tests; the end-to-end ones (the installed program, the real Secret Service,
real clients) are in test_secret_service_e2e.py.
"""

from __future__ import annotations

import pytest
from _support import secret_service_verdict


def test_ci_without_secret_service_fails() -> None:
    verdict, reason = secret_service_verdict({"CI": "true"})
    assert verdict == "fail"
    assert ".ci/test.sh" in reason


@pytest.mark.parametrize("ci", ["true", "TRUE", "1", "yes"])
def test_ci_spellings_fail(ci: str) -> None:
    assert secret_service_verdict({"CI": ci})[0] == "fail"


@pytest.mark.parametrize(
    "env", [{}, {"CI": "false"}, {"CI": ""}, {"SFCRED_TEST_SECRET_SERVICE": "0"}]
)
def test_developer_without_secret_service_skips(env: dict[str, str]) -> None:
    assert secret_service_verdict(env)[0] == "skip"


@pytest.mark.parametrize("ci", [None, "true"])
def test_enabled_runs(ci: str | None) -> None:
    env = {"SFCRED_TEST_SECRET_SERVICE": "1"}
    if ci is not None:
        env["CI"] = ci
    assert secret_service_verdict(env) == ("run", "")


def test_fixture_fails_rather_than_skips_in_ci(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture itself applies the verdict: under CI=true it fails the test."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("SFCRED_TEST_SECRET_SERVICE", raising=False)
    with pytest.raises(pytest.fail.Exception, match="SFCRED_TEST_SECRET_SERVICE"):
        request.getfixturevalue("secret_service")
