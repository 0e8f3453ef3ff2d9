"""The real Salesforce CLI (npm @salesforce/cli on Node 22, installed by .ci/test.sh) acting on
an org through `sfcred exec`, with no `sf` login stored anywhere.

sf takes an access token as its target org when the instance URL is configured
(`SF_TARGET_ORG` = the token, `SF_ORG_INSTANCE_URL`), which `sfcred exec` sets. Its calls
here: the API versions, then the query's columns (`columns=true`), then the records.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _e2e import Org, setup_org
from _support import files_under, require

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

QUIET = {  # no update check, telemetry or keychain: sf may touch nothing but this org
    "SF_AUTOUPDATE_DISABLE": "true", "SF_DISABLE_AUTOUPDATE": "true",
    "SF_DISABLE_TELEMETRY": "true",
    "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
    "SF_LOG_LEVEL": "warn", "SF_DISABLE_LOG_FILE": "true",
}


@pytest.fixture
def sf_path() -> str:
    path = os.environ.get("SFCRED_TEST_SF_PATH", "")
    require(path, "the Salesforce CLI is not installed", ".ci/test.sh installs it from npm")
    return path


@pytest.fixture
def org(run_sfcred, standin: FakeSalesforce, tmp_path: Path) -> Org:
    return setup_org(run_sfcred, standin, tmp_path, "acme")


def test_sf_data_query_through_sfcred_exec(run_sfcred, sf_path: str, org: Org) -> None:
    env = {**QUIET, "PATH": f"{sf_path}:{os.environ['PATH']}"}
    version = run_sfcred("exec", "-p", "acme", "--", "sf", "--version", env=env, timeout=120)
    assert version.returncode == 0, version.stderr
    assert "node-v22" in version.stdout
    done = run_sfcred("exec", "-p", "acme", "--", "sf", "data", "query", "--query",
                      "SELECT Id, Name FROM Account", "--json", env=env, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)["result"]
    assert result["totalSize"] == 2
    assert [r["Name"] for r in result["records"]] == ["Acme", "Global Media"]
    paths = [path for _, _, path in org.sf.requests]
    assert "/services/data/v62.0/query" in paths  # it really asked the org
    assert org.sf.token_requests == 1  # one mint, by sfcred; sf minted nothing itself
    # sf stored no login: no auth file, and the token is in none of its files.
    home = Path(os.environ["HOME"])
    token = run_sfcred("get", "-p", "acme", "--format", "token").stdout.strip()
    assert not list(home.glob(".sfdx/*@*.json"))
    assert [p for p in files_under(home) if token.encode() in p.read_bytes()] == []
