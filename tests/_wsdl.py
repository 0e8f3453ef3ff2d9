"""Salesforce's Metadata API WSDL (v63.0, as simple-salesforce ships it), for conformance tests.

- ``schema()``: its XML Schema (xmlschema), built once per process (about 5 s);
- ``body_errors(xml)``: what the schema says of a SOAP envelope's Body content, validated in
  place so that QNames in ``xsi:type`` resolve against the document's own namespaces;
- ``sample_fields(type)``: a record holding every field of a type, repeated elements twice,
  nested types filled in, values of each field's simple type (enumerations: a listed value);
- ``session(sf, ...)``: a live access token from the stand-in's token endpoint (a JWT bearer
  request signed with pyjwt, as any client makes one).
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import simple_salesforce
import xmlschema

from sfcred.testing.server import FakeSalesforce

WSDL = Path(simple_salesforce.__file__).parent / "metadata.wsdl"
MD = "http://soap.sforce.com/2006/04/metadata"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
Fields = list[tuple[str, Any]]


@functools.cache
def schema() -> xmlschema.XMLSchema:
    text = WSDL.read_text(encoding="utf-8")
    start, end = text.index("<xsd:schema"), text.index("</xsd:schema>") + len("</xsd:schema>")
    root_tag = text[text.index("<definitions"):text.index(">", text.index("<definitions"))]
    part = text[start:end]
    tag_end = part.index(">")
    # The schema's QNames ("xsd:string", "tns:Metadata") use prefixes declared on the WSDL's
    # root: carry them over to the schema element that is built on its own.
    extra = "".join(f' xmlns:{p}="{u}"' for p, u in re.findall(r'xmlns:(\w+)="([^"]+)"', root_tag)
                    if f"xmlns:{p}=" not in part[:tag_end])
    return xmlschema.XMLSchema(part[:tag_end] + extra + part[tag_end:])


def body_errors(xml: bytes) -> list[str]:
    """Every schema error in the SOAP Body's content (and the Header's, if any)."""
    found: list[str] = []
    for where in ("soapenv:Header/*", "soapenv:Body/*"):
        for error in schema().iter_errors(xml.decode("utf-8"), path=f"/soapenv:Envelope/{where}",
                                          namespaces={"soapenv": SOAP}):
            found.append(f"{where}: {error.reason} at {error.path}")
    return found


_SIMPLE = {"boolean": "true", "decimal": "7", "float": "1.5", "double": "1.5", "date": "2026-01-02",
           "dateTime": "2026-01-02T03:04:05.000Z", "time": "03:04:05.000Z", "base64Binary": "QUJD"}


def sample_fields(type_name: str, leave_out: tuple[str, ...] = (), depth: int = 0) -> Fields:
    """Every element of ``type_name`` (base types' included), in sequence order."""
    xsd_type: Any = schema().types[type_name]
    out: Fields = []
    for element in xsd_type.content.iter_elements():
        name = str(element.local_name)
        if name in leave_out:
            continue
        repeats = 2 if element.max_occurs is None or element.max_occurs > 1 else 1
        for i in range(repeats):
            value = _value(element, name, i, depth)
            if value is not None:
                out.append((name, value))
    return out


def _value(element: Any, name: str, i: int, depth: int) -> Any:
    xsd_type = element.type
    if xsd_type.is_complex():
        if depth >= 3 or xsd_type.name is None:
            return None
        fields = sample_fields(xsd_type.local_name, depth=depth + 1)
        return fields or None
    if xsd_type.enumeration:
        return str(xsd_type.enumeration[i % len(xsd_type.enumeration)])
    primitive = xsd_type.primitive_type.local_name if xsd_type.primitive_type else "string"
    return _SIMPLE.get(primitive, f"{name}-{i}")


def session(sf: FakeSalesforce, key_pem: str, client_id: str, username: str) -> str:
    """An access token of ``username`` minted at the stand-in's token endpoint."""
    claims = {"iss": client_id, "sub": username, "aud": sf.url, "exp": int(time.time()) + 120,
              "jti": secrets.token_hex(8)}
    assertion = jwt.encode(claims, key_pem, algorithm="RS256")
    answer = httpx.post(f"{sf.url}/services/oauth2/token", timeout=10,
                        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                              "assertion": assertion})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token
