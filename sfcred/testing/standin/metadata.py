"""The Metadata API's SOAP endpoint, ``POST /services/Soap/m/{version}``: ``readMetadata`` and
``updateMetadata`` of ``ConnectedApp`` and ``ExtlClntAppGlobalOauthSettings`` records, enough
for ``sfcred rotate --deploy``.

As Salesforce does: the session is the ``SessionHeader``'s access token; a user needs "Modify
Metadata Through Metadata API Functions" (or "Modify All Data") and "Customize Application",
and for External Client Apps also "View External Client Apps Consumer Secrets in Metadata"
with the org setting that allows it (``grant_metadata``); an update that provides
``consumerKey`` is refused; the record is replaced by what the update sends, so a client that
leaves a field out loses it (tests see that). A saved certificate (bare base64 DER) reaches
the servers over ``propagation_delay`` seconds (``Org.deploy_certificate``).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sfcred.testing.standin.model import Org
from sfcred.testing.standin.records import App
from sfcred.testing.standin.replies import Reply

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TYPES = {"ConnectedApp": "connected", "ExtlClntAppGlobalOauthSettings": "external"}
# The permission names of grant_metadata, and the words Salesforce's Setup uses for them.
PERMISSIONS = {
    "modify_metadata": "Modify Metadata Through Metadata API Functions",
    "modify_all_data": "Modify All Data",
    "customize_application": "Customize Application",
    "view_eca_secrets": "View External Client Apps Consumer Secrets in Metadata",
}
# simple-salesforce always sends the trailing slash; Salesforce answers both forms.
_PATH = re.compile(r"/services/Soap/m/(\d{2,3})\.0/?")

# The prefixes Salesforce writes (and sfcred's own client registers the same: the registry is
# process-wide). The metadata namespace gets none: answers declare it as the default.
ET.register_namespace("soapenv", SOAP)
ET.register_namespace("xsi", XSI)


def default_fields(app: App) -> list[tuple[str, object]]:
    """What a real record holds besides its name, certificate and consumer key: the fields a
    lossy update would drop (policies, scopes, callbacks)."""
    callback = app.callback_urls[0] if app.callback_urls else "http://localhost:1717/cb"
    if app.kind == "external":
        return [("callbackUrl", callback), ("externalClientApplication", app.full_name),
                ("isConsumerSecretOptional", "false"), ("isPkceRequired", "true"),
                ("isSecretRequiredForRefreshToken", "true")]
    return [("contactEmail", "admin@example.com"), ("description", "Integration (sfcred tests)"),
            ("label", app.full_name.replace("_", " ")),
            ("oauthConfig", [("callbackUrl", callback), ("isAdminApproved", "true"),
                             ("scopes", "Api"), ("scopes", "RefreshToken"), ("scopes", "Web")]),
            ("oauthPolicy", [("ipRelaxation", "BYPASS"), ("refreshTokenPolicy", "infinite")])]


def handles(path: str) -> bool:
    return _PATH.fullmatch(path) is not None


def q(name: str) -> str:
    return f"{{{MD}}}{name}"


def _envelope(body_child: ET.Element) -> Reply:
    """An answer as Salesforce writes it: the metadata namespace is the DEFAULT namespace
    (``xmlns="...metadata"``), so a record's ``xsi:type="ConnectedApp"`` names the WSDL's
    type (clients such as zeep and jsforce resolve the unprefixed QName against it)."""
    envelope = ET.Element(f"{{{SOAP}}}Envelope")
    ET.SubElement(envelope, f"{{{SOAP}}}Body").append(body_child)
    xml = ET.tostring(envelope, encoding="unicode", default_namespace=MD)
    return Reply(200, b'<?xml version="1.0" encoding="UTF-8"?>' + xml.encode(),
                 "text/xml;charset=UTF-8")


def fault(code: str, text: str) -> Reply:
    """A SOAP fault as the Metadata API sends one: ``sf`` bound to the metadata namespace, the
    code as ``sf:CODE``, and a ``detail`` with the ``UnexpectedErrorFault`` Salesforce's APIs
    put there (``exceptionCode``, ``exceptionMessage``)."""
    words = escape(text)
    message = escape(text.split(": ", 1)[1] if text.startswith(f"{code}: ") else text)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:sf="{MD}" xmlns:xsi="{XSI}">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{escape(code)}</faultcode><faultstring>{words}</faultstring>"
        '<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage>"
        "</sf:UnexpectedErrorFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Reply(500, xml.encode(), "text/xml;charset=UTF-8")


def soap(org: Org, path: str, body: bytes, soap_action: str | None) -> Reply:
    match = _PATH.fullmatch(path)
    assert match is not None
    if int(match.group(1)) < 31:
        return fault("UNSUPPORTED_API_VERSION", "UNSUPPORTED_API_VERSION: Invalid Api version")
    if soap_action is None:
        return fault("INVALID_REQUEST", "INVALID_REQUEST: SOAPAction HTTP header missing")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:  # SOAP has no DTDs; none is expanded
        return fault("INVALID_XML", "INVALID_XML: a DTD is not allowed")
    try:
        root = ET.fromstring(body)  # noqa: S314  # no DTD (above); expat 2.5 caps expansion
    except ET.ParseError:
        return fault("INVALID_XML", "INVALID_XML: the request is not XML")
    token = root.findtext(f"{{{SOAP}}}Header/{q('SessionHeader')}/{q('sessionId')}") or ""
    operation = root.find(f"{{{SOAP}}}Body/*")
    session = org.use_session(token.strip())
    if session is None:
        return fault("INVALID_SESSION_ID",
                     "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: "
                     "Illegal Session")
    if operation is None or operation.tag not in (q("readMetadata"), q("updateMetadata")):
        name = operation.tag if operation is not None else "(none)"
        return fault("INVALID_OPERATION", f"No operation available for request {name}")
    op = operation.tag.split("}")[1]
    hold = org.metadata_hold.get(op, 0.0)
    if hold:
        time.sleep(hold)  # a slow Metadata API: tests kill the client mid-call
    raw = org.metadata_answer.get(op)
    if raw is not None:  # a hostile answer (too deep, a DTD), sent as given
        return Reply(200, raw, "text/xml")
    with org.lock:
        if op == "readMetadata":
            return _read(org, session.username, operation)
        return _update(org, session.username, operation)


def _denied(org: Org, username: str, kind: str) -> Reply | None:
    have = org.metadata_permissions(username)
    missing = [] if have & {"modify_metadata", "modify_all_data"} else ["modify_metadata"]
    missing += [p for p in ("customize_application",) if p not in have]
    if kind == "external" and "view_eca_secrets" not in have:
        missing.append("view_eca_secrets")
    entity = "ExtlClntAppGlobalOauthSettings" if kind == "external" else "ConnectedApp"
    if missing:
        return fault("INSUFFICIENT_ACCESS",
                     f"INSUFFICIENT_ACCESS: insufficient access rights on entity: {entity}")
    if kind == "external" and not org.eca_secrets_via_metadata:
        return fault("INSUFFICIENT_ACCESS",
                     "INSUFFICIENT_ACCESS: Allow Access to OAuth Consumer Secrets via Metadata "
                     "API is not enabled for this org")
    return None


def _kind(type_name: str | None) -> str | None:
    return TYPES.get(type_name or "")


def _read(org: Org, username: str, operation: ET.Element) -> Reply:
    type_name = operation.findtext(q("type"))
    kind = _kind(type_name)
    if kind is None:
        return fault("INVALID_TYPE", f"INVALID_TYPE: Unknown type name '{type_name}' specified")
    denied = _denied(org, username, kind)
    if denied is not None:
        return denied
    answer = ET.Element(q("readMetadataResponse"))
    result = ET.SubElement(answer, q("result"))
    for name in (e.text or "" for e in operation.findall(q("fullNames"))):
        org.metadata_calls.append(("readMetadata", str(type_name), name))
        app = org.app_by_name(kind, name)
        if app is None:
            # An org without the component answers an empty record (Metadata, whose fullName
            # is optional; records is not nillable): no fullName reads as "not found".
            ET.SubElement(result, q("records"))
            continue
        result.append(record_of(org, app, str(type_name)))
    return _envelope(answer)


def record_of(org: Org, app: App, type_name: str) -> ET.Element:
    """The app as its metadata record, certificate and consumer key in their WSDL places."""
    record = ET.Element(q("records"), {f"{{{XSI}}}type": type_name})
    ET.SubElement(record, q("fullName")).text = metadata_name(app)
    der = org.record_certificate(app)
    extra: list[tuple[str, object]] = (
        [("certificate", base64.b64encode(der).decode())] if der else [])
    extra.append(("consumerKey", app.client_id))
    if app.kind == "connected":
        for name, value in app.fields:
            if name == "oauthConfig" and isinstance(value, list):
                _fields(ET.SubElement(record, q(name)), _in_place(value, extra))
            else:
                _fields(record, [(name, value)])
    else:
        _fields(record, _in_place(app.fields, extra))
    return record


def metadata_name(app: App) -> str:
    """A connected app's developer name; an External Client App's global OAuth settings are
    ``{app}_glbloauth``."""
    return f"{app.full_name}_glbloauth" if app.kind == "external" else app.full_name


# What the WSDL's sequences put before certificate and consumerKey (ConnectedAppOauthConfig:
# assetTokenConfig, callbackUrl; ExtlClntAppGlobalOauthSettings: fullName, kept apart here,
# and callbackUrl). Every one is optional, so the place comes from the type.
_BEFORE_CERTIFICATE = frozenset({"assetTokenConfig", "callbackUrl"})


def _in_place(fields: list[tuple[str, object]],
                    extra: list[tuple[str, object]]) -> list[tuple[str, object]]:
    at = max((i + 1 for i, (n, _) in enumerate(fields) if n in _BEFORE_CERTIFICATE), default=0)
    return fields[:at] + extra + fields[at:]


def _fields(parent: ET.Element, fields: list[tuple[str, object]]) -> None:
    for name, value in fields:
        child = ET.SubElement(parent, q(name))
        if isinstance(value, list):
            _fields(child, value)
        else:
            child.text = str(value)


def _parse_fields(element: ET.Element) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for child in element:
        name = child.tag.split("}")[-1]
        out.append((name, _parse_fields(child) if len(child) else (child.text or "")))
    return out


def _update(org: Org, username: str, operation: ET.Element) -> Reply:
    answer = ET.Element(q("updateMetadataResponse"))
    for record in operation.findall(q("metadata")):
        type_name = (record.get(f"{{{XSI}}}type") or "").split(":")[-1]
        kind = _kind(type_name)
        if kind is None:
            return fault("INVALID_TYPE", f"INVALID_TYPE: Unknown type name '{type_name}'")
        denied = _denied(org, username, kind)
        if denied is not None:
            return denied
        name = record.findtext(q("fullName")) or ""
        org.metadata_calls.append(("updateMetadata", type_name, name))
        result = ET.SubElement(answer, q("result"))
        error = _apply(org, kind, type_name, name, record)
        if error:  # SaveResult's sequence: errors, fullName, success
            errors = ET.SubElement(result, q("errors"))
            ET.SubElement(errors, q("message")).text = error[1]
            ET.SubElement(errors, q("statusCode")).text = error[0]
        ET.SubElement(result, q("fullName")).text = name
        ET.SubElement(result, q("success")).text = "false" if error else "true"
    return _envelope(answer)


def _apply(org: Org, kind: str, type_name: str, name: str,
           record: ET.Element) -> tuple[str, str] | None:
    app = org.app_by_name(kind, name)
    if app is None:
        return ("INVALID_CROSS_REFERENCE_KEY",
                f"In field: fullName - no {type_name} named {name} found")
    fields = [f for f in _parse_fields(record) if f[0] != "fullName"]
    holder = fields
    if kind == "connected":
        oauth = next((v for n, v in fields if n == "oauthConfig" and isinstance(v, list)), None)
        if oauth is None:
            return ("FIELD_INTEGRITY_EXCEPTION", "oauthConfig: Required fields are missing")
        holder = oauth
    if any(n == "consumerKey" for n, _ in holder):
        return ("FIELD_INTEGRITY_EXCEPTION",
                "consumerKey: You can't change the consumer key of an existing app")
    cert = [v for n, v in holder if n == "certificate"]
    key, der = None, b""
    if cert:
        try:
            der = base64.b64decode(str(cert[0]), validate=True)
            public = x509.load_der_x509_certificate(der).public_key()
        except (binascii.Error, ValueError):
            return ("FIELD_INTEGRITY_EXCEPTION", "certificate: not a valid certificate")
        if not isinstance(public, rsa.RSAPublicKey):
            return ("FIELD_INTEGRITY_EXCEPTION", "certificate: not an RSA certificate")
        key = public
    holder[:] = [(n, v) for n, v in holder if n != "certificate"]
    app.fields = fields
    if key is not None and der != org.record_certificate(app):
        org.deploy_certificate(app, key, der)
    return None
