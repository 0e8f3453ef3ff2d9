"""`sfcred profile import-sf` on auth files this test writes in the Salesforce CLI's format
(`DIR/USERNAME.json`, `DIR/alias.json`): a JWT org by alias and by username, a web-login org
refused with the reason, `--all`, and sf's files left exactly as they were."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from _support import files_under

from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.secret_service

JWT_USER, WEB_USER, CID = "jwt@acme.com", "web@acme.com", "3MVG9fromsf"


@pytest.fixture
def sf_dir(tmp_path: Path, standin: FakeSalesforce, rsa_keypair) -> Path:
    """An ~/.sfdx with one JWT org (alias `acme-prod`) and one web-login org (`acme-web`)."""
    folder = tmp_path / "sfdx"
    folder.mkdir()
    key = tmp_path / "server.key"
    key.write_text(rsa_keypair.key_pem_pkcs1)  # as `openssl genrsa` writes it
    (folder / f"{JWT_USER}.json").write_text(json.dumps({
        "accessToken": "00Dsf!stale-token-of-sf", "instanceUrl": standin.url,
        "loginUrl": standin.url, "orgId": "00D000000000001", "username": JWT_USER,
        "clientId": CID, "privateKey": str(key), "isDevHub": False,
    }))
    (folder / f"{WEB_USER}.json").write_text(json.dumps({
        "accessToken": "00Dsf!web", "refreshToken": "5Aep-web", "instanceUrl": standin.url,
        "loginUrl": standin.url, "username": WEB_USER, "clientId": "PlatformCLI",
    }))
    (folder / "alias.json").write_text(json.dumps({"orgs": {"acme-prod": JWT_USER,
                                                            "acme-web": WEB_USER}}))
    standin.add_app(CID, rsa_keypair.cert_pem)
    standin.add_user(JWT_USER)
    standin.preauthorize(CID, JWT_USER)
    return folder


def digests(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files_under(folder)}


def test_a_jwt_org_by_alias_mints_and_sf_files_stay_as_they_were(
    run_sfcred, sf_dir: Path, standin: FakeSalesforce
) -> None:
    before = digests(sf_dir.parent)
    done = run_sfcred("profile", "import-sf", "acme-prod", "--sf-dir", str(sf_dir))
    assert done.returncode == 0, done.stderr
    assert "as profile acme-prod" in done.stderr
    shown = json.loads(run_sfcred("profile", "show", "acme-prod", "--json").stdout)
    assert (shown["username"], shown["client_id"]) == (JWT_USER, CID)
    assert shown["instance_host"] == standin.url.split("://")[1]  # learned from sf's file
    got = run_sfcred("get", "-p", "acme-prod", "--format", "token")
    assert got.returncode == 0, got.stderr
    assert standin.valid_token(got.stdout.strip())
    assert got.stdout.strip() != "00Dsf!stale-token-of-sf"  # minted, not copied
    assert digests(sf_dir.parent) == before


def test_by_username_with_a_name(run_sfcred, sf_dir: Path) -> None:
    done = run_sfcred("profile", "import-sf", JWT_USER, "--name", "prod", "--sf-dir",
                      str(sf_dir))
    assert done.returncode == 0, done.stderr
    assert run_sfcred("profile", "list", "--names").stdout == "prod\n"


def test_a_web_login_org_is_refused_with_the_reason(run_sfcred, sf_dir: Path) -> None:
    done = run_sfcred("profile", "import-sf", "acme-web", "--sf-dir", str(sf_dir))
    assert done.returncode == 1
    assert "web login" in done.stderr
    assert "sf org login jwt" in done.stderr
    assert run_sfcred("profile", "list", "--names").stdout == ""


def test_all_imports_the_jwt_orgs_and_says_which_it_skipped(run_sfcred, sf_dir: Path) -> None:
    done = run_sfcred("profile", "import-sf", "--all", "--sf-dir", str(sf_dir))
    assert done.returncode == 0, done.stderr
    assert f"skipped {WEB_USER}" in done.stderr
    assert run_sfcred("profile", "list", "--names").stdout == "acme-prod\n"
    again = run_sfcred("profile", "import-sf", "--all", "--sf-dir", str(sf_dir))
    assert again.returncode == 1  # exists: --force to replace
    assert "--force" in again.stderr
    forced = run_sfcred("profile", "import-sf", "--all", "--force", "--sf-dir", str(sf_dir))
    assert forced.returncode == 0, forced.stderr


def test_an_unknown_org_names_the_aliases(run_sfcred, sf_dir: Path) -> None:
    done = run_sfcred("profile", "import-sf", "nosuch", "--sf-dir", str(sf_dir))
    assert done.returncode == 1
    assert "acme-prod" in done.stderr
