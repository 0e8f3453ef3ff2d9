"""jsforce 3 (npm, on the Node the tests install for the Salesforce CLI) against the stand-in's
Metadata API: it reads a ConnectedApp and an External Client App's global OAuth settings whole
(oauthConfig, certificate), writes each back with a new certificate, and reads a fault.

jsforce resolves a record's ``xsi:type`` against the default namespace of Salesforce's answers:
before the stand-in declared it, jsforce 3 returned ``undefined`` for every record.
``.ci/test.sh`` installs jsforce into ``SFCRED_TEST_JSFORCE`` (its node_modules folder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import make_keypair, require
from _wsdl import session

from sfcred import keys
from sfcred.testing.server import FakeSalesforce

SCRIPT = Path(__file__).parent / "js" / "metadata_roundtrip.js"
USER = "deployer@example.com"

pytestmark = pytest.mark.slow


def node_env() -> dict[str, str]:
    modules = os.environ.get("SFCRED_TEST_JSFORCE", "")
    tools = os.environ.get("SFCRED_TEST_SF_PATH", "")
    path = f"{tools}:{os.environ['PATH']}" if tools else os.environ["PATH"]
    require(modules and Path(modules, "jsforce").is_dir() and shutil.which("node", path=path),
            "jsforce and node")
    return dict(os.environ, NODE_PATH=modules, PATH=path)


@pytest.fixture
def sf() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as server:
        yield server


def test_jsforce_reads_both_records_whole_and_updates_their_certificates(
    sf: FakeSalesforce,
) -> None:
    env = node_env()
    pair = make_keypair()
    sf.add_app("3MVG9connected", pair.cert_pem, full_name="Acme")
    sf.add_app("3MVG9external", pair.cert_pem, kind="external", full_name="Ext")
    sf.add_user(USER)
    sf.preauthorize("3MVG9connected", USER)
    sf.grant_metadata(USER)
    before = {cid: sf.app_record(cid) for cid in ("3MVG9connected", "3MVG9external")}
    new_app = keys.cert_der_b64(make_keypair(common_name="next app").cert_pem)
    new_eca = keys.cert_der_b64(make_keypair(common_name="next eca").cert_pem)
    env.update(INSTANCE_URL=sf.url, ACCESS_TOKEN=session(sf, pair.key_pem, "3MVG9connected",
                                                         USER),
               CERT_APP=new_app, CERT_ECA=new_eca)
    done = subprocess.run(["node", str(SCRIPT)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    app, eca = out["read"]["app"], out["read"]["eca"]
    assert app["fullName"] == "Acme"
    assert app["contactEmail"] == "admin@example.com"
    assert app["oauthConfig"]["certificate"] == before["3MVG9connected"]["certificate"]
    assert app["oauthConfig"]["consumerKey"] == "3MVG9connected"
    assert app["oauthConfig"]["scopes"] == ["Api", "RefreshToken", "Web"]
    assert eca["fullName"] == "Ext_glbloauth"
    assert eca["certificate"] == before["3MVG9external"]["certificate"]
    assert eca["externalClientApplication"] == "Ext"
    assert [s["success"] in (True, "true") for s in out["saved"]] == [True, True]
    assert sf.app_record("3MVG9connected")["certificate"] == new_app
    assert sf.app_record("3MVG9external")["certificate"] == new_eca
    for cid in before:  # written back whole: nothing but the certificate changed
        assert sf.app_record(cid)["fields"] == before[cid]["fields"]
    assert out["fault"] is not None
    assert "INVALID_SESSION_ID" in out["fault"]["name"] + out["fault"]["message"]
