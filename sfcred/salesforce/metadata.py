"""The Metadata API over SOAP: read an app's record, write it back with another certificate.

``POST {instance_url}/services/Soap/m/{version}`` (``API_VERSION``, 60.0: the first with the
External Client App's ``certificate``), ``SOAPAction: ""``, the session id in the
``SessionHeader`` (an access token minted with the active key). Envelopes are built and read
with ElementTree, never with string templates. An answer is checked by expat before any tree
is built (``_parse``): nested deeper than ``MAX_DEPTH`` or holding a DTD (SOAP has none), in
whatever encoding it declares, it is refused. Bodies are capped like every answer from a
server, and each call runs within its deadline (``SFCRED_TIMEOUT``), so an answer dripped
one byte at a time ends the call, not the command's patience.

``AppRecord`` keeps the record exactly as read, so the update writes every field back (a lossy
update drops the app's policies and scopes) with two changes only: the certificate (bare
base64 DER), and no ``consumerKey`` (Salesforce refuses an update that provides one).
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.parsers import expat

import httpx

from sfcred.deadline import mint_budget
from sfcred.errors import SalesforceRefused, SalesforceUnreachable
from sfcred.salesforce import http, trace
from sfcred.secret import Secret

API_VERSION = "60.0"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONNECTED_APP = "ConnectedApp"
ECA_OAUTH = "ExtlClntAppGlobalOauthSettings"
MAX_SOAP = 4 << 20
MAX_DEPTH = 64  # a readMetadata answer is about 8 deep; copy.deepcopy recurses per level

ET.register_namespace("soapenv", SOAP)
ET.register_namespace("xsi", XSI)
ET.register_namespace("met", MD)

# What to grant, by the names Setup shows (docs/rotation.md: the message names what is missing).
PERMISSIONS = ('"Modify Metadata Through Metadata API Functions" (or "Modify All Data") and '
               '"Customize Application"')
ECA_PERMISSIONS = (PERMISSIONS + ', and "View External Client Apps Consumer Secrets in Metadata" '
                   'with the org setting "Allow Access to OAuth Consumer Secrets via Metadata API"')


def q(name: str) -> str:
    return f"{{{MD}}}{name}"


# The fields the WSDL's sequence puts before ``certificate`` in the element that holds it:
# ConnectedAppOauthConfig (assetTokenConfig, callbackUrl, certificate, ...) and
# ExtlClntAppGlobalOauthSettings (Metadata's fullName, then callbackUrl, certificate, ...).
# Each is optional, so the place is found from the type, not from a neighbour.
BEFORE_CERTIFICATE = {
    CONNECTED_APP: frozenset({q("assetTokenConfig"), q("callbackUrl")}),
    ECA_OAUTH: frozenset({q("fullName"), q("callbackUrl")}),
}


def metadata_name(app: str, eca: bool) -> str:
    """The full name ``--app`` stands for: an External Client App's global OAuth settings
    are ``{app}_glbloauth``."""
    return f"{app}_glbloauth" if eca else app


@dataclass
class AppRecord:
    type_name: str
    full_name: str
    element: ET.Element  # the <records> element as read: every field, in order

    def _holder(self) -> ET.Element | None:
        """Where certificate and consumer key live: ``oauthConfig`` (connected app), or the
        record itself (External Client App global OAuth settings)."""
        if self.type_name == CONNECTED_APP:
            return self.element.find(q("oauthConfig"))
        return self.element

    def certificate(self) -> str | None:
        holder = self._holder()
        text = holder.findtext(q("certificate")) if holder is not None else None
        return "".join(text.split()) if text else None

    def with_certificate(self, certificate_b64: str) -> ET.Element:
        """The ``<metadata>`` element for ``updateMetadata``: the record as read, with this
        certificate, without the consumer key."""
        record = copy.deepcopy(self.element)
        record.tag = q("metadata")
        record.attrib.clear()
        record.set(f"{{{XSI}}}type", f"met:{self.type_name}")
        holder = record.find(q("oauthConfig")) if self.type_name == CONNECTED_APP else record
        if holder is None:
            raise SalesforceRefused(
                "NO_OAUTH_CONFIG", f"{self.full_name} has no OAuth settings",
                cause=f"the app {self.full_name} is not an OAuth (JWT) app",
                fix="enable OAuth settings with digital signatures on the app first")
        for key in holder.findall(q("consumerKey")):
            holder.remove(key)
        cert = holder.find(q("certificate"))
        if cert is None:  # after what the type's sequence puts before it, present or not
            before = BEFORE_CERTIFICATE[self.type_name]
            at = max((i + 1 for i, c in enumerate(holder) if c.tag in before), default=0)
            cert = ET.Element(q("certificate"))
            holder.insert(at, cert)
        cert.text = certificate_b64
        return record


class MetadataClient:
    """One session's Metadata API calls at one instance."""

    def __init__(self, instance_url: str, session: Secret, *, version: str = API_VERSION,
                 eca: bool = False, client: httpx.Client | None = None,
                 budget: float | None = None) -> None:
        self.eca = eca  # which permissions a refusal names
        self.url = f"{http.check_instance_url(instance_url)}/services/Soap/m/{version}"
        self._session = session
        self._http = client or http.client()
        self.budget = mint_budget() if budget is None else budget  # per call, as a mint

    def close(self) -> None:
        self._http.close()

    def read(self, type_name: str, full_name: str) -> AppRecord | None:
        """The record, or None when the org has no such component."""
        op = ET.Element(q("readMetadata"))
        ET.SubElement(op, q("type")).text = type_name
        ET.SubElement(op, q("fullNames")).text = full_name
        answer = self._call(op)
        record = answer.find(f"{q('result')}/{q('records')}")
        if record is None or record.get(f"{{{XSI}}}nil") == "true" \
                or not record.findtext(q("fullName")):
            return None
        return AppRecord(type_name, full_name, record)

    def update(self, record: ET.Element) -> None:
        op = ET.Element(q("updateMetadata"))
        op.append(record)
        answer = self._call(op)
        result = answer.find(q("result"))
        if result is not None and result.findtext(q("success")) == "true":
            return
        code = (result.findtext(f"{q('errors')}/{q('statusCode')}") if result is not None
                else None) or "UNKNOWN_ERROR"
        message = (result.findtext(f"{q('errors')}/{q('message')}") if result is not None
                   else None) or "no result"
        if code == "INSUFFICIENT_ACCESS":
            raise _refusal(code, message, "updateMetadata", self.eca)
        raise _refused("updateMetadata", code, message, "Salesforce refused to save the app",
                       "see Salesforce's words; nothing was changed at Salesforce")

    def _call(self, operation: ET.Element) -> ET.Element:
        envelope = ET.Element(f"{{{SOAP}}}Envelope")
        header = ET.SubElement(envelope, f"{{{SOAP}}}Header")
        session = ET.SubElement(ET.SubElement(header, q("SessionHeader")), q("sessionId"))
        session.text = self._session.reveal()
        ET.SubElement(envelope, f"{{{SOAP}}}Body").append(operation)
        body = ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
        headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}
        name = operation.tag.split("}")[-1]
        timeout = http.timeouts(self._http.timeout, self.budget)

        def exchange() -> tuple[bytes, int]:
            trace.say(f"POST {self.url} ({name})")  # the envelope holds the session: not traced
            with self._http.stream("POST", self.url, content=body, headers=headers,
                                   timeout=timeout) as r:
                trace.say(f"POST {self.url} ({name}): HTTP {r.status_code}")
                return http.read_capped(r, MAX_SOAP), r.status_code

        try:
            raw, status = http.within(exchange, self.budget,
                                      f"the Metadata API at {self.url} did not answer {name}")
        except httpx.HTTPError as e:
            raise SalesforceUnreachable(
                f"the Metadata API at {self.url} did not answer {name} ({type(e).__name__})",
                hint="check the network; rerun the same command to continue") from None
        root = _parse(raw, status, name)
        fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
        if fault is not None:
            code = (fault.findtext("faultcode") or "").split(":")[-1] or "FAULT"
            raise _refusal(code, fault.findtext("faultstring") or "", name, self.eca)
        if status != 200:
            raise SalesforceUnreachable(f"the Metadata API answered {name} with HTTP {status}",
                                        hint="rerun the same command to continue")
        answer = root.find(f"{{{SOAP}}}Body/*")
        if answer is None:
            raise SalesforceUnreachable(f"the Metadata API's answer to {name} is empty")
        return answer


class _Refused(Exception):
    """Raised from expat's handlers: ends the check at the first offending event."""


def _check(raw: bytes) -> None:
    """Refuse, before ElementTree builds (or anything copies) a tree: nesting past MAX_DEPTH
    and any DTD. Expat decodes first (a UTF-16 answer is checked like UTF-8, which a search
    of the bytes for ``<!DOCTYPE`` was not) and keeps no tree, so a 150,000-deep answer costs
    one linear pass. Hand-written on purpose: defusedxml refuses DTDs and entities but does
    not bound depth, so it would not spare this check, and it is one more dependency."""
    depth = 0

    def start(tag: str, attrs: object) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise _Refused(f"is nested deeper than {MAX_DEPTH} levels")

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1

    def dtd(*args: object) -> None:
        raise _Refused("holds a DTD")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = dtd
    parser.EntityDeclHandler = dtd
    parser.Parse(raw, True)


def _parse(raw: bytes, status: int, name: str) -> ET.Element:
    try:
        _check(raw)
        return ET.fromstring(raw)  # noqa: S314  # checked above: no DTD, at most 64 deep
    except _Refused as e:
        raise SalesforceUnreachable(f"the Metadata API answer {e}; refusing it") from None
    except (ET.ParseError, expat.ExpatError):
        raise SalesforceUnreachable(
            f"the Metadata API answered {name} with HTTP {status} and no SOAP envelope",
            hint="is the instance URL right? rerun the same command to continue") from None


def _refused(operation: str, code: str, text: str, cause: str, fix: str) -> SalesforceRefused:
    error = SalesforceRefused(code, text, cause=cause, fix=fix)
    words = f' "{error.description}"' if error.description else ""
    error.message = f"Salesforce refused the Metadata API call {operation}: {error.error}{words}"
    error.args = (error.message,)
    return error


def _refusal(code: str, text: str, operation: str, eca: bool) -> SalesforceRefused:
    if code == "INSUFFICIENT_ACCESS":
        return _refused(
            operation, code, text, "the user may not read or change the app through the "
            "Metadata API",
            f"grant the user {ECA_PERMISSIONS if eca else PERMISSIONS}, or take the session "
            "from a deployer profile that has them: --deploy-profile OTHER")
    if code == "INVALID_SESSION_ID":
        return _refused(operation, code, text, "the Metadata API did not take the session",
                        "check that the app's OAuth scopes include api (Manage user data via "
                        "APIs); rerun the same command")
    return _refused(operation, code, text, f"the Metadata API refused {operation}",
                    "see Salesforce's words; rerun the same command once it is fixed")
