"""The Metadata API client (``salesforce.metadata``): envelopes built and read with
ElementTree, the record written back whole (certificate replaced, consumer key left out,
every other field and its order kept), faults named, hostile answers refused; against the
stand-in's SOAP endpoint in this process."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from sfcred.errors import SalesforceRefused, SalesforceUnreachable
from sfcred.salesforce import metadata
from sfcred.salesforce.metadata import MD, AppRecord, MetadataClient, q
from sfcred.secret import Secret
from sfcred.testing.server import FakeSalesforce

pytestmark = pytest.mark.unit

RECORD = f"""<records xmlns="{MD}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:type="ConnectedApp"><fullName>Acme</fullName><contactEmail>a@b.c</contactEmail>
<label>Acme</label><oauthConfig><callbackUrl>https://x/cb</callbackUrl>
<certificate>T0xE</certificate><consumerKey>3MVG9abc</consumerKey><scopes>Api</scopes>
<scopes>Web</scopes></oauthConfig><oauthPolicy><ipRelaxation>ENFORCE</ipRelaxation>
</oauthPolicy></records>"""


def names(element: ET.Element) -> list[str]:
    return [e.tag.split("}")[-1] for e in element.iter()]


def test_the_update_keeps_every_field_but_the_consumer_key() -> None:
    record = AppRecord("ConnectedApp", "Acme", ET.fromstring(RECORD))
    assert record.certificate() == "T0xE"
    out = record.with_certificate("TkVX")
    assert out.tag == q("metadata")
    assert out.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "met:ConnectedApp"
    assert out.findtext(f"{q('oauthConfig')}/{q('certificate')}") == "TkVX"
    assert out.find(f"{q('oauthConfig')}/{q('consumerKey')}") is None
    expected = [n for n in names(ET.fromstring(RECORD)) if n != "consumerKey"]
    assert names(out)[1:] == expected[1:]  # same fields, same order
    assert [e.text for e in out.iter(q("scopes"))] == ["Api", "Web"]
    assert record.certificate() == "T0xE"  # the record as read is untouched


def test_a_missing_certificate_goes_where_the_wsdl_sequence_puts_it() -> None:
    """The certificate goes after the fields the type's sequence puts before it, present or
    not: after callbackUrl in ConnectedAppOauthConfig; after fullName (and callbackUrl,
    optional there) in ExtlClntAppGlobalOauthSettings; never first."""
    bare = RECORD.replace("<certificate>T0xE</certificate>", "")
    out = AppRecord("ConnectedApp", "Acme", ET.fromstring(bare)).with_certificate("TkVX")
    children = [c.tag.split("}")[-1] for c in out.find(q("oauthConfig")) or []]
    assert children[:2] == ["callbackUrl", "certificate"]
    asset = bare.replace("<callbackUrl>", "<assetTokenConfig><assetAudiences>a</assetAudiences>"
                         "</assetTokenConfig><callbackUrl>")
    out = AppRecord("ConnectedApp", "Acme", ET.fromstring(asset)).with_certificate("TkVX")
    children = [c.tag.split("}")[-1] for c in out.find(q("oauthConfig")) or []]
    assert children[:3] == ["assetTokenConfig", "callbackUrl", "certificate"]
    eca = ET.fromstring(f'<records xmlns="{MD}"><fullName>E_glbloauth</fullName>'
                        "<consumerKey>k</consumerKey><isPkceRequired>true</isPkceRequired>"
                        "</records>")
    out = AppRecord("ExtlClntAppGlobalOauthSettings", "E_glbloauth", eca).with_certificate("Q")
    assert [c.tag.split("}")[-1] for c in out] == ["fullName", "certificate", "isPkceRequired"]
    with_callback = ET.fromstring(f'<records xmlns="{MD}"><fullName>E_glbloauth</fullName>'
                                  "<callbackUrl>https://cb</callbackUrl><label>E</label>"
                                  "</records>")
    out = AppRecord("ExtlClntAppGlobalOauthSettings", "E_glbloauth",
                    with_callback).with_certificate("Q")
    assert [c.tag.split("}")[-1] for c in out] == ["fullName", "callbackUrl", "certificate",
                                                   "label"]


def test_an_app_without_oauth_settings_is_refused_before_any_write() -> None:
    plain = ET.fromstring(f'<records xmlns="{MD}"><fullName>Plain</fullName></records>')
    with pytest.raises(SalesforceRefused, match="no OAuth settings"):
        AppRecord("ConnectedApp", "Plain", plain).with_certificate("Q")


@pytest.fixture
def sf(rsa_keypair) -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as sf:
        yield sf


def session(sf: FakeSalesforce, rsa_keypair, perms: tuple[str, ...] = ()) -> tuple[str, str]:
    """A live access token of a user with ``perms``, and the app's client id."""
    pair = rsa_keypair()
    client_id = "3MVG9" + "x" * 20
    sf.add_app(client_id, pair.cert_pem, full_name="Acme")
    sf.add_user("u@example.com")
    sf.preauthorize(client_id, "u@example.com")
    sf.grant_metadata("u@example.com", *(perms or ("none",)))
    from sfcred.testing.standin.records import App, User

    state = sf.state
    app: App = state.apps()[client_id]
    user = state.user("u@example.com")
    assert isinstance(user, User)
    return state.issue_session(app, user, scope="api", refresh=False)["access_token"], client_id


def test_read_and_update_against_the_stand_in(sf: FakeSalesforce, rsa_keypair) -> None:
    token, client_id = session(sf, rsa_keypair, ("modify_all_data", "customize_application"))
    md = MetadataClient(sf.url, Secret(token))
    before = sf.app_record(client_id)
    record = md.read("ConnectedApp", "Acme")
    assert record is not None
    assert record.certificate() == before["certificate"]
    assert md.read("ConnectedApp", "Nope") is None
    new = rsa_keypair(name="next")
    from sfcred import keys

    md.update(record.with_certificate(keys.cert_der_b64(new.cert_pem)))
    after = sf.app_record(client_id)
    assert after["fields"] == before["fields"]
    assert base64.b64decode(str(after["certificate"])) != base64.b64decode(
        str(before["certificate"]))
    with pytest.raises(SalesforceRefused, match="consumer key"):  # the stand-in refuses one
        md.update(_with_key(record))
    md.close()


def _with_key(record: AppRecord) -> ET.Element:
    out = record.with_certificate(record.certificate() or "")
    oauth = out.find(q("oauthConfig"))
    assert oauth is not None
    ET.SubElement(oauth, q("consumerKey")).text = "3MVG9"
    return out


def test_faults_are_named_with_what_to_grant(sf: FakeSalesforce, rsa_keypair) -> None:
    token, _ = session(sf, rsa_keypair)
    with pytest.raises(SalesforceRefused) as denied:
        MetadataClient(sf.url, Secret(token)).read("ConnectedApp", "Acme")
    assert denied.value.exit_code == 3
    assert "Modify Metadata Through Metadata API Functions" in (denied.value.hint or "")
    assert "Metadata API call readMetadata: INSUFFICIENT_ACCESS" in denied.value.message
    with pytest.raises(SalesforceRefused) as eca:
        MetadataClient(sf.url, Secret(token), eca=True).read(
            "ExtlClntAppGlobalOauthSettings", "Acme_glbloauth")
    assert "View External Client Apps Consumer Secrets in Metadata" in (eca.value.hint or "")
    with pytest.raises(SalesforceRefused, match="INVALID_SESSION_ID"):
        MetadataClient(sf.url, Secret("00Dx!not-a-session")).read("ConnectedApp", "Acme")
    assert token not in denied.value.message


def hostile(body: bytes, status: int = 200) -> MetadataClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    return MetadataClient("https://acme.my.salesforce.com", Secret("t"),
                          client=httpx.Client(transport=transport))


def test_hostile_answers_are_refused_not_parsed() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            b"<Envelope>&lol;</Envelope>")
    with pytest.raises(SalesforceUnreachable, match="DTD"):
        hostile(bomb).read("ConnectedApp", "Acme")
    with pytest.raises(SalesforceUnreachable, match="no SOAP envelope"):
        hostile(b"<html>login</html", 302).read("ConnectedApp", "Acme")
    with pytest.raises(SalesforceUnreachable, match="HTTP 503"):
        hostile(b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">'
                b"<e:Body><x/></e:Body></e:Envelope>", 503).read("ConnectedApp", "Acme")


def test_the_request_is_soap_with_the_session_and_an_empty_action() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=(
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
            b'<readMetadataResponse xmlns="http://soap.sforce.com/2006/04/metadata"><result>'
            b'<records xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:nil="true"/>'
            b"</result></readMetadataResponse></e:Body></e:Envelope>"))

    md = MetadataClient("https://acme.my.salesforce.com", Secret("00Dx!session"),
                        client=httpx.Client(transport=httpx.MockTransport(answer)))
    assert md.read("ConnectedApp", "Acme & <Co>") is None
    request = seen[0]
    assert str(request.url) == "https://acme.my.salesforce.com/services/Soap/m/60.0"
    assert request.headers["SOAPAction"] == '""'
    assert request.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(request.content)
    assert root.findtext(f".//{q('sessionId')}") == "00Dx!session"
    assert root.findtext(f".//{q('fullNames')}") == "Acme & <Co>"  # escaped, not templated
    assert metadata.API_VERSION == "60.0"


def test_depth_is_bounded_before_any_tree_is_built() -> None:
    """150,000 levels (about 1 MiB, under the 4 MiB cap) crashed ``copy.deepcopy`` with
    SIGSEGV; 1,000 raised RecursionError. Refused now by a linear expat pass, in well under a
    second; 64 levels still parse."""
    import time

    def nested(levels: int) -> bytes:
        return (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
                + b"<a>" * levels + b"</a>" * levels + b"</e:Body></e:Envelope>")

    for levels in (150_000, 1_000, metadata.MAX_DEPTH - 1):
        started = time.monotonic()
        with pytest.raises(SalesforceUnreachable, match=(
                "the Metadata API answer is nested deeper than 64 levels; refusing it")):
            hostile(nested(levels)).read("ConnectedApp", "Acme")
        assert time.monotonic() - started < 2
    assert hostile(nested(metadata.MAX_DEPTH - 2)).read("ConnectedApp", "Acme") is None


def test_a_dtd_is_refused_in_any_encoding_and_utf16_is_read() -> None:
    envelope = ('<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
                f'<readMetadataResponse xmlns="{MD}"><result>{RECORD}</result>'
                "</readMetadataResponse></e:Body></e:Envelope>")
    dtd = '<!DOCTYPE e:Envelope [<!ENTITY x "y">]>'
    for encoding, declared in (("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"),
                               ("utf-16-le", "UTF-16LE")):
        body = f'<?xml version="1.0" encoding="{declared}"?>{dtd}{envelope}'.encode(encoding)
        assert b"<!DOCTYPE" not in body
        with pytest.raises(SalesforceUnreachable, match="holds a DTD; refusing it"):
            hostile(body).read("ConnectedApp", "Acme")
    # An encoding expat cannot read (UTF-32) is refused too, as no envelope: never parsed.
    body = f'<?xml version="1.0" encoding="UTF-32"?>{dtd}{envelope}'.encode("utf-32")
    with pytest.raises(SalesforceUnreachable, match="no SOAP envelope"):
        hostile(body).read("ConnectedApp", "Acme")
    plain = f'<?xml version="1.0" encoding="UTF-16"?>{envelope}'.encode("utf-16")
    record = hostile(plain).read("ConnectedApp", "Acme")
    assert record is not None
    assert record.certificate() == "T0xE"


def test_a_dripped_answer_ends_the_call_at_its_budget() -> None:
    """A per-read timeout restarts with every byte; the call's budget does not."""
    import time

    def drip() -> Iterator[bytes]:
        while True:
            time.sleep(0.05)
            yield b" "

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=drip()))
    md = MetadataClient("https://acme.my.salesforce.com", Secret("t"), budget=0.5,
                        client=httpx.Client(transport=transport))
    started = time.monotonic()
    with pytest.raises(SalesforceUnreachable, match=r"did not answer readMetadata within 0\.5 s"):
        md.read("ConnectedApp", "Acme")
    assert time.monotonic() - started < 3
