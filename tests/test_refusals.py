"""salesforce/refusals.py: Salesforce's error strings are read in exactly one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sfcred
from sfcred.salesforce.refusals import PAIR_PROBLEMS, Context, Refusal, classify, explain

# docs/troubleshooting.md's table: error / error_description -> the refusal it names.
SPEC_TABLE = [
    ("invalid_grant", "user hasn't approved this consumer", Refusal.NOT_APPROVED),
    ("invalid_app_access", "user is not admin approved to access this app",
     Refusal.NOT_ADMIN_APPROVED),
    ("invalid_grant", "audience is invalid", Refusal.BAD_AUDIENCE),
    ("invalid_grant", "invalid assertion", Refusal.KEY_MISMATCH),
    ("invalid_grant", "expired authorization code", Refusal.EXPIRED_CODE),
    ("invalid_client_id", "client identifier invalid", Refusal.UNKNOWN_CLIENT),
    ("app_not_found", "External client app is not installed in this org", Refusal.APP_NOT_FOUND),
    ("invalid_grant", "IP restricted or invalid login hours", Refusal.IP_OR_HOURS),
    ("inactive_user", "", Refusal.INACTIVE),
    ("inactive_org", "", Refusal.INACTIVE),
    ("invalid_grant", "inactive user", Refusal.INACTIVE),
    ("rate_limit_exceeded", "", Refusal.RATE_LIMIT),
    ("invalid_grant", "login rate exceeded", Refusal.RATE_LIMIT),
    ("invalid_client", "invalid client credentials", Refusal.CLIENT_SECRET),
    ("redirect_uri_mismatch", "redirect_uri must match configuration", Refusal.REDIRECT_MISMATCH),
    ("invalid_grant", "invalid code verifier", Refusal.CODE_VERIFIER),
    ("access_denied", "end-user denied authorization", Refusal.ACCESS_DENIED),
    ("invalid_grant", "something new", Refusal.OTHER),
]  # fmt: skip
CTX = Context("acme", "https://acme.my.salesforce.com", "https://login.salesforce.com",
              "int@acme.com", "Wed, 02 Dec 2026 00:00:00 GMT", "http://localhost:1717/cb")


@pytest.mark.parametrize(("error", "description", "kind"), SPEC_TABLE)
def test_each_refusal_is_classified(error: str, description: str, kind: Refusal) -> None:
    assert classify(error, description) is kind
    e = explain(error, description, CTX)
    assert e.refusal is kind
    assert e.exit_code == 3
    assert e.fix
    assert "{" not in e.fix  # every placeholder was filled


def test_the_same_words_mean_different_things_per_flow() -> None:
    jwt = explain("invalid_grant", "expired authorization code", CTX, server_date="D")
    assert "clock" in jwt.fix
    assert jwt.fix.endswith("server time D")
    code = explain("invalid_grant", "expired authorization code", CTX, flow="code")
    assert "authorize acme" in code.fix
    assert "clock" not in code.fix
    redirect = explain("redirect_uri_mismatch", "", CTX, flow="code")
    assert "http://localhost:1717/cb" in redirect.fix
    denied = explain("access_denied", "", CTX, flow="browser")
    assert "Allow" in denied.fix
    other = explain("invalid_request", "x", CTX, flow="browser")
    assert "OAuth settings" in other.fix


CC_TABLE = [
    ("invalid_grant", "request not supported on this domain", Refusal.WRONG_DOMAIN, "My Domain"),
    ("invalid_grant", "no client credentials user enabled", Refusal.NO_RUN_AS, "Run As"),
    ("invalid_grant", "client credentials flow not enabled", Refusal.FLOW_DISABLED,
     "Enable Client Credentials Flow"),
    ("unsupported_grant_type", "grant type not supported", Refusal.FLOW_DISABLED,
     "Enable Client Credentials Flow"),
    ("invalid_grant", "no valid scopes defined", Refusal.NO_SCOPES, "(api)"),
    ("invalid_client", "invalid client credentials", Refusal.CLIENT_SECRET, "--secret-stdin"),
    ("invalid_grant", "inactive user", Refusal.INACTIVE, "Run As user"),
    ("invalid_client_id", "client identifier invalid", Refusal.UNKNOWN_CLIENT, "--client-id"),
    ("invalid_grant", "login rate exceeded", Refusal.RATE_LIMIT, "cache"),
]  # fmt: skip


@pytest.mark.parametrize(("error", "description", "kind", "fix"), CC_TABLE)
def test_client_credentials_refusals_have_their_own_fixes(error: str, description: str,
                                                          kind: Refusal, fix: str) -> None:
    e = explain(error, description, CTX, flow="cc")
    assert e.refusal is kind
    assert fix in e.fix
    assert "{" not in e.fix + e.cause
    assert "certificate" not in e.fix  # no JWT advice for a secret


def test_pair_problems_are_what_a_wrong_host_or_audience_causes() -> None:
    assert {Refusal.BAD_AUDIENCE, Refusal.NOT_APPROVED, Refusal.APP_NOT_FOUND} == PAIR_PROBLEMS


def test_no_other_module_reads_salesforces_error_strings() -> None:
    package = Path(sfcred.__file__).parent
    needles = ("hasn't approved", "invalid assertion", "audience is invalid", "invalid_app_access",
               "client identifier", "app_not_found", "login hours", "redirect_uri_mismatch")
    offenders = []
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if rel == "salesforce/refusals.py" or rel.startswith("testing/"):
            continue  # the classifier itself, and the stand-in that plays Salesforce
        strings = _code_strings(path.read_text(encoding="utf-8"))
        offenders += [f"{rel}: {n}" for n in needles if any(n in s for s in strings)]
    assert offenders == []


def _code_strings(source: str) -> list[str]:
    """Every string constant of a module except docstrings (prose may quote an error)."""
    tree = ast.parse(source)
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]
