"""The stand-in's Metadata API, and sfcred's client of it, checked by artifacts nobody here wrote:
Salesforce's Metadata WSDL (v63.0, as simple-salesforce ships it) through xmlschema, strict
zeep, and simple-salesforce's ``mdapi`` (zeep as it configures it) over TLS. jsforce, the
JavaScript client, is driven in ``test_jsforce_e2e.py``.

Every envelope sfcred sends and every stand-in answer is validated against the WSDL's schema;
a record holding every field of ConnectedApp and of ExtlClntAppGlobalOauthSettings goes
through read -> ``with_certificate`` -> update and comes back unchanged but for its
certificate.
"""

from __future__ import annotations

import base64
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import trustme
import zeep
import zeep.exceptions
from _support import make_keypair
from _wsdl import MD, SOAP, WSDL, body_errors, sample_fields, session
from simple_salesforce.api import Salesforce

from sfcred import keys
from sfcred.errors import SalesforceRefused
from sfcred.salesforce.metadata import MetadataClient
from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce

USER = "deployer@example.com"
CONNECTED, ECA, ECA_NAME = "3MVG9connected", "3MVG9external", "Ext_glbloauth"


class Recorder(httpx.HTTPTransport):
    """Every request body and answer body of one client, as they went over the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[bytes, int, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        body = response.read()
        self.exchanges.append((request.content, response.status_code, body))
        return httpx.Response(response.status_code, headers=response.headers, content=body,
                              request=request)


def _org(sf: FakeSalesforce, eca_fields: list[tuple[str, Any]] | None = None,
         app_fields: list[tuple[str, Any]] | None = None) -> tuple[str, str]:
    """A connected app "Acme" and an External Client App "Ext" (ECA-shaped fields), a
    deployer with every Metadata permission; returns its token and the key's PEM."""
    pair = make_keypair()
    sf.add_app(CONNECTED, pair.cert_pem, full_name="Acme", fields=app_fields)
    sf.add_app(ECA, pair.cert_pem, kind="external", full_name="Ext", fields=eca_fields)
    sf.add_user(USER)
    for client_id in (CONNECTED, ECA):
        sf.preauthorize(client_id, USER)
    sf.grant_metadata(USER)
    return session(sf, pair.key_pem, ECA, USER), pair.key_pem


@pytest.fixture
def sf() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as server:
        yield server


def new_certificate() -> str:
    return keys.cert_der_b64(make_keypair(common_name="next").cert_pem)


# ---------------------------------------------------------------- the schema


def test_every_envelope_sfcred_sends_and_every_answer_is_valid_against_the_wsdl(
    sf: FakeSalesforce,
) -> None:
    token, _ = _org(sf)
    wire = Recorder()
    md = MetadataClient(sf.url, Secret(token), client=httpx.Client(transport=wire, timeout=10))
    app = md.read("ConnectedApp", "Acme")
    eca = md.read("ExtlClntAppGlobalOauthSettings", ECA_NAME, )
    assert app is not None
    assert eca is not None
    assert md.read("ConnectedApp", "Nope") is None  # an empty record: still valid
    md.update(app.with_certificate(new_certificate()))
    md.update(eca.with_certificate(new_certificate()))
    with pytest.raises(SalesforceRefused):  # a refused save: SaveResult with errors first
        md.update(app.with_certificate("bm90IGEgY2VydGlmaWNhdGU="))
    md.close()
    assert len(wire.exchanges) == 6
    for sent, status, answer in wire.exchanges:
        assert body_errors(sent) == [], sent[:300]
        assert status == 200
        assert body_errors(answer) == [], answer[:300]


def test_a_fault_binds_its_prefix_and_carries_the_detail(sf: FakeSalesforce) -> None:
    token, _ = _org(sf)
    sf.grant_metadata(USER, "none")
    answer = httpx.post(f"{sf.url}/services/Soap/m/63.0", timeout=10, headers={
        "SOAPAction": '""', "Content-Type": "text/xml"}, content=_read_envelope(token))
    assert answer.status_code == 500
    root = ET.fromstring(answer.content)  # the stand-in's own answer
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "sf:INSUFFICIENT_ACCESS"
    assert b'xmlns:sf="http://soap.sforce.com/2006/04/metadata"' in answer.content
    detail = fault.find(f"detail/{{{MD}}}UnexpectedErrorFault")
    assert detail is not None
    assert detail.findtext(f"{{{MD}}}exceptionCode") == "INSUFFICIENT_ACCESS"
    assert "insufficient access" in (detail.findtext(f"{{{MD}}}exceptionMessage") or "")


def _read_envelope(token: str, type_name: str = "ConnectedApp", name: str = "Acme") -> bytes:
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns="{MD}"><soapenv:Header>'
            f"<SessionHeader><sessionId>{token}</sessionId></SessionHeader></soapenv:Header>"
            f"<soapenv:Body><readMetadata><type>{type_name}</type><fullNames>{name}</fullNames>"
            "</readMetadata></soapenv:Body></soapenv:Envelope>").encode()


# ---------------------------------------------------------------- every field, round trip


@pytest.mark.parametrize(("type_name", "holder"), [
    ("ConnectedApp", "oauthConfig"), ("ExtlClntAppGlobalOauthSettings", None)])
def test_a_record_with_every_wsdl_field_survives_read_certificate_and_update(
    sf: FakeSalesforce, type_name: str, holder: str | None
) -> None:
    if holder is None:  # the ECA's settings: fullName, certificate, consumerKey apart
        fields = sample_fields(type_name, ("fullName", "certificate", "consumerKey"))
        token, _ = _org(sf, eca_fields=fields)
        client_id, name = ECA, ECA_NAME
    else:
        oauth = sample_fields("ConnectedAppOauthConfig", ("certificate", "consumerKey"))
        fields = [(n, oauth if n == holder else v)
                  for n, v in sample_fields(type_name, ("fullName",))]
        token, _ = _org(sf, app_fields=fields)
        client_id, name = CONNECTED, "Acme"
    assert len(fields) > 15
    if holder is not None:  # ConnectedApp repeats attributes, ipRanges, profileName ...
        assert len({n for n, _ in fields}) < len(fields)
    wire = Recorder()
    md = MetadataClient(sf.url, Secret(token), client=httpx.Client(transport=wire, timeout=10))
    record = md.read(type_name, name)
    assert record is not None
    certificate = new_certificate()
    md.update(record.with_certificate(certificate))
    md.close()
    after = sf.app_record(client_id)
    assert after["fields"] == fields  # every field, every repeat, in order
    assert after["certificate"] == certificate
    for sent, _, answer in wire.exchanges:
        assert body_errors(sent) == []
        assert body_errors(answer) == []


# ---------------------------------------------------------------- strict zeep


def _zeep(sf: FakeSalesforce, **settings: Any) -> tuple[Any, Any]:
    client = zeep.Client(WSDL.as_uri(), settings=zeep.Settings(**settings))
    service = client.create_service(f"{{{MD}}}MetadataBinding", f"{sf.url}/services/Soap/m/63.0")
    return client, service


def test_strict_zeep_reads_and_updates_both_types_and_parses_faults(sf: FakeSalesforce) -> None:
    token, _ = _org(sf)
    client, service = _zeep(sf, strict=True)
    header = client.get_element("ns0:SessionHeader")(sessionId=token)
    app = service.readMetadata("ConnectedApp", ["Acme"], _soapheaders=[header])[0]
    assert app.fullName == "Acme"
    assert app.oauthConfig.consumerKey == CONNECTED
    assert app.oauthConfig.certificate == sf.app_record(CONNECTED)["certificate"]
    assert app.oauthConfig.scopes == ["Api", "RefreshToken", "Web"]
    eca = service.readMetadata("ExtlClntAppGlobalOauthSettings", [ECA_NAME],
                               _soapheaders=[header])[0]
    assert eca.certificate == sf.app_record(ECA)["certificate"]
    assert eca.externalClientApplication == "Ext"
    app.oauthConfig.certificate = new_certificate()
    app.oauthConfig.consumerKey = None
    saved = service.updateMetadata([app], _soapheaders=[header])
    assert (saved[0].fullName, saved[0].success) == ("Acme", True)
    assert sf.app_record(CONNECTED)["certificate"] == app.oauthConfig.certificate
    app.oauthConfig.certificate = "bm90IGEgY2VydGlmaWNhdGU="
    refused = service.updateMetadata([app], _soapheaders=[header])[0]
    assert refused.success is False
    assert refused.errors[0].statusCode == "FIELD_INTEGRITY_EXCEPTION"
    bad = client.get_element("ns0:SessionHeader")(sessionId="00Dnot!valid")
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.readMetadata("ConnectedApp", ["Acme"], _soapheaders=[bad])
    assert fault.value.code == "sf:INVALID_SESSION_ID"
    assert "Invalid Session ID" in fault.value.message


# ---------------------------------------------------------------- simple-salesforce mdapi


@pytest.fixture
def tls_sf(tmp_path_factory: pytest.TempPathFactory,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    """The stand-in over TLS (simple-salesforce speaks https only), its CA trusted by httpx,
    requests and zeep's own session."""
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.setenv(name, str(ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeSalesforce(ssl_context=context) as server:
        yield server


def test_simple_salesforce_mdapi_reads_whole_records_and_updates_the_certificate(
    tls_sf: FakeSalesforce,
) -> None:
    sf = tls_sf
    token, _ = _org(sf)
    session_ = requests.Session()
    client = Salesforce(instance_url=sf.url, session_id=token, session=session_,
                        version="63.0")
    app: Any = client.mdapi.ConnectedApp.read(["Acme"])  # one name: the record itself
    assert app.fullName == "Acme"
    assert app.contactEmail == "admin@example.com"
    assert app.oauthConfig.certificate == sf.app_record(CONNECTED)["certificate"]
    assert app.oauthConfig.callbackUrl
    eca: Any = client.mdapi.ExtlClntAppGlobalOauthSettings.read([ECA_NAME])
    assert eca.certificate == sf.app_record(ECA)["certificate"]
    assert eca.isPkceRequired is True
    before = sf.app_record(CONNECTED)["fields"]
    certificate = new_certificate()
    app.oauthConfig.certificate = certificate
    app.oauthConfig.consumerKey = None
    client.mdapi.ConnectedApp.update(app)
    after = sf.app_record(CONNECTED)
    assert after["certificate"] == certificate
    assert after["fields"] == before  # nothing else lost
    assert base64.b64decode(certificate)  # bare base64 DER, as the WSDL's string holds it


FRESH_PROCESS = """
import sys, zeep
from sfcred.testing.server import FakeSalesforce
sys.path.insert(0, sys.argv[1])
from _support import make_keypair
from _wsdl import MD, WSDL, session
assert "sfcred.salesforce.metadata" not in sys.modules  # nobody registered its prefixes
pair = make_keypair()
with FakeSalesforce() as sf:
    sf.add_app("3MVG9fresh", pair.cert_pem, full_name="Acme")
    sf.add_user("u@example.com")
    sf.preauthorize("3MVG9fresh", "u@example.com")
    sf.grant_metadata("u@example.com")
    client = zeep.Client(WSDL.as_uri(), settings=zeep.Settings(strict=True))
    service = client.create_service(f"{{{MD}}}MetadataBinding", f"{sf.url}/services/Soap/m/63.0")
    header = client.get_element("ns0:SessionHeader")(
        sessionId=session(sf, pair.key_pem, "3MVG9fresh", "u@example.com"))
    app = service.readMetadata("ConnectedApp", ["Acme"], _soapheaders=[header])[0]
    print(type(app).__name__, app.contactEmail, app.oauthConfig.consumerKey)
"""


def test_the_stand_in_answers_right_in_a_process_of_its_own() -> None:
    """The stand-in as a user runs it: in a process where sfcred's own Metadata client (which
    registers the same XML prefixes) was never imported. A new user's first try found the
    envelope's prefixes wrong there (two ``xmlns:xsi``), and zeep reading bare records."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ConnectedApp", "admin@example.com", "3MVG9fresh"]
