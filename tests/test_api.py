"""The Python API against the stand-in, in process: get_token / erase_token / Token, and the
auth classes for httpx (sync and async) and requests / simple-salesforce, which keep working
across a token revoked mid-run with exactly one new mint."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import redirect_stderr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests
import trustme
from _support import counting_imports
from simple_salesforce.api import Salesforce

import sfcred
from sfcred.cli import main
from sfcred.testing.server import FakeSalesforce

USER = "api@example.com"
QUERY = "/services/data/v60.0/query?q=SELECT+Id,+Name+FROM+Account"  # a dead token: 401


@pytest.fixture
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeSalesforce]:
    yield from _org(tmp_path_factory, None)


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_org(tmp_path_factory: pytest.TempPathFactory, tls_ca: trustme.CA,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    """The same over TLS (simple-salesforce always speaks https), its CA trusted."""
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    yield from _org(tmp_path_factory, context)


def _org(tmp_path_factory: pytest.TempPathFactory,
         context: ssl.SSLContext | None) -> Iterator[FakeSalesforce]:
    """A profile `acme` made through the CLI in this process (the memory keyring)."""
    cert = tmp_path_factory.mktemp("cert") / "acme.crt"
    with FakeSalesforce(ssl_context=context) as sf:
        with redirect_stderr(io.StringIO()):
            assert main(["profile", "add", "acme", "--client-id", "3MVG9api", "--username",
                         USER, "--login-url", sf.url, "--generate-key", "--cert-out",
                         str(cert)]) == 0
        sf.add_app("3MVG9api", cert.read_text())
        sf.add_user(USER)
        sf.preauthorize("3MVG9api", USER)
        yield sf


def revoke(sf: FakeSalesforce, token: str) -> None:
    done = httpx.post(f"{sf.url}/services/oauth2/revoke", data={"token": token}, timeout=10)
    assert done.status_code == 200
    assert not sf.valid_token(token)


def test_import_sfcred_is_cheap() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import sfcred"],
                          env=counting_imports(os.environ), capture_output=True, text=True,
                          timeout=60, check=True)
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "sfcred" in imported
    assert not {"httpx", "keyring", "cryptography", "jwt", "sfcred.api"} & imported


def test_get_token_and_its_redacted_repr(org: FakeSalesforce) -> None:
    tok = sfcred.get_token("acme")
    assert org.valid_token(tok.access_token)
    assert (tok.profile, tok.username, tok.instance_url) == ("acme", USER, org.url)
    assert tok.expires_at.tzinfo is not None
    assert tok.expires_at.utcoffset() == dt.timedelta(0)
    assert tok.access_token not in repr(tok)
    assert tok.access_token not in str(tok)
    assert sfcred.get_token() == tok  # the default, from the cache: no second mint
    assert sfcred.get_token(host=org.url.split("://")[1]) == tok
    assert org.token_requests == 1


def test_erase_token_forgets_only_the_token_named(org: FakeSalesforce) -> None:
    tok = sfcred.get_token("acme")
    assert sfcred.erase_token("acme", token="not-that-one") is False
    assert sfcred.get_token("acme") == tok
    assert sfcred.erase_token("acme", token=tok.access_token) is True
    assert sfcred.get_token("acme") != tok
    assert org.token_requests == 2


def test_errors_are_the_clis_tree(org: FakeSalesforce) -> None:
    with pytest.raises(sfcred.NotServed):
        sfcred.get_token(host="github.com")
    with pytest.raises(sfcred.ConfigError) as e:
        sfcred.get_token("nosuch")
    assert isinstance(e.value, sfcred.SfcredError)
    assert e.value.exit_code == 1


def test_httpx_auth_survives_a_revoked_token_with_one_new_mint(org: FakeSalesforce) -> None:
    with httpx.Client(auth=sfcred.SalesforceAuth("acme"), base_url=org.url, timeout=10) as c:
        first = c.get(QUERY)
        assert first.status_code == 200
        revoke(org, sfcred.get_token("acme").access_token)
        again = c.get(QUERY)
        assert again.status_code == 200
        assert again.json()["totalSize"] == 2
        assert c.get(QUERY).status_code == 200
    assert org.token_requests == 2  # the first mint, and one after the revoke


def test_httpx_async_auth_survives_a_revoked_token_with_one_new_mint(
    org: FakeSalesforce,
) -> None:
    async def run() -> list[int]:
        async with httpx.AsyncClient(auth=sfcred.SalesforceAuth("acme"), base_url=org.url,
                                     timeout=10) as c:
            codes = [(await c.get(QUERY)).status_code]
            revoke(org, sfcred.get_token("acme").access_token)
            codes.append((await c.get(QUERY)).status_code)
            return codes

    assert asyncio.run(run()) == [200, 200]
    assert org.token_requests == 2


def test_requests_and_simple_salesforce_survive_a_revoked_token(
    tls_org: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = tls_org
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)  # requests would prefer it
    session = requests.Session()
    session.verify = os.environ["SSL_CERT_FILE"]
    session.auth = sfcred.RequestsAuth("acme")
    tok = sfcred.get_token("acme")
    sf = Salesforce(instance_url=tok.instance_url, session_id=tok.access_token, session=session)
    assert sf.query("SELECT Id, Name FROM Account")["totalSize"] == 2
    revoke(org, tok.access_token)
    result = sf.query("SELECT Id, Name FROM Account")  # no user code for the expiry
    assert result["done"] is True
    assert org.token_requests == 2
    plain = session.get(f"{org.url}{QUERY}", timeout=10)
    assert plain.status_code == 200
    assert plain.history == []  # no 401 on the way: the new token is used from then on


def test_the_auth_never_sends_the_token_to_another_host(org: FakeSalesforce) -> None:
    with FakeSalesforce() as other:
        with httpx.Client(auth=sfcred.SalesforceAuth("acme"), timeout=10) as c, \
                pytest.raises(sfcred.InputError, match="refusing to send the token"):
            c.get(f"{other.url}/services/oauth2/userinfo")
        session = requests.Session()
        session.auth = sfcred.RequestsAuth("acme")
        with pytest.raises(sfcred.InputError, match="refusing to send the token"):
            session.get(f"{other.url}/services/oauth2/userinfo", timeout=10)
        assert other.requests == []  # nothing at all reached the other server


class _Redirecting(BaseHTTPRequestHandler):
    """An "instance" that sends every request on to another host, which answers 401."""

    target = ""

    def do_GET(self) -> None:
        self.send_response(302 if self.target else 401)
        if self.target:
            self.send_header("Location", f"{self.target}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def redirecting_instance(org: FakeSalesforce) -> Iterator[str]:
    """The profile's token names an instance that redirects to a host answering 401."""
    servers: list[ThreadingHTTPServer] = []
    for _ in range(2):  # the second redirects to the first
        target = f"http://127.0.0.1:{servers[0].server_address[1]}" if servers else ""
        handler = type("Handler", (_Redirecting,), {"target": target})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    instance = f"http://127.0.0.1:{servers[1].server_address[1]}"
    org.fail_next("instance_url", value=instance)
    try:
        yield instance
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_a_401_from_the_host_a_redirect_led_to_renews_nothing(
    org: FakeSalesforce, redirecting_instance: str
) -> None:
    with httpx.Client(auth=sfcred.SalesforceAuth("acme"), follow_redirects=True,
                      timeout=10) as c:
        codes = [c.get(f"{redirecting_instance}/services/data").status_code for _ in range(3)]
    session = requests.Session()
    session.auth = sfcred.RequestsAuth("acme")
    codes += [session.get(f"{redirecting_instance}/services/data", timeout=10).status_code
              for _ in range(3)]
    assert codes == [401] * 6  # the other host's answer, passed on as it is
    assert org.token_requests == 1  # the first mint only: no login per request


def test_a_fresh_token_is_kept_in_the_process_until_its_file_changes(
    org: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sfcred.api

    tok = sfcred.get_token("acme")
    assert sfcred.get_token("acme") == tok  # read from the file once (the mint wrote it)
    real_pick = sfcred.api._pick

    def no_pick(*args: object) -> object:
        raise AssertionError("the kept token was not used")

    monkeypatch.setattr(sfcred.api, "_pick", no_pick)
    assert [sfcred.get_token("acme") for _ in range(100)] == [tok] * 100  # no cache read
    monkeypatch.setattr(sfcred.api, "_pick", real_pick)
    # Another process erases it (`sfcred erase`: the cache file goes): the next call mints.
    os.remove(os.path.join(os.environ["XDG_RUNTIME_DIR"], "sfcred", "acme.token"))
    again = sfcred.get_token("acme")
    assert again != tok
    assert org.token_requests == 2
    assert sfcred.get_token("acme") == again
    # When the index chooses (no name: the default), a changed index is a new read too.
    assert sfcred.get_token() == again
    monkeypatch.setattr(sfcred.api, "_pick", no_pick)
    assert sfcred.get_token() == again
    index = os.path.join(os.environ["XDG_CONFIG_HOME"], "sfcred", "profiles.json")
    os.utime(index, ns=(1, 1))
    with pytest.raises(AssertionError, match="kept token was not used"):
        sfcred.get_token()
    monkeypatch.setattr(sfcred.api, "_pick", real_pick)
    assert sfcred.get_token() == again
    # A token near its end is never handed out from memory.
    import time

    monkeypatch.setattr(time, "time", lambda: again.expires_at.timestamp() - 1)
    monkeypatch.setattr(sfcred.api, "_pick", no_pick)
    with pytest.raises(AssertionError, match="kept token was not used"):
        sfcred.get_token("acme")
