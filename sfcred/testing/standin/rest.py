"""A sliver of the REST data API: the version list and a fixed Account query.

Enough for clients such as simple-salesforce, and the Salesforce CLI's ``sf data query``, to
prove a minted token works end to end. ``sf`` first asks the query's columns
(``?q=...&columns=true``, answered with ``columnMetadata``), then the records.
"""

from __future__ import annotations

import re

from sfcred.testing.standin import errors as err
from sfcred.testing.standin.model import Org
from sfcred.testing.standin.oauth import bearer
from sfcred.testing.standin.replies import Reply, json_reply

VERSIONS = {
    "55.0": "Summer '22",
    "56.0": "Winter '23",
    "57.0": "Spring '23",
    "58.0": "Summer '23",
    "59.0": "Winter '24",
    "60.0": "Spring '24",
    "61.0": "Summer '24",
    "62.0": "Winter '25",
}
ACCOUNTS = (("001000000000001AAA", "Acme"), ("001000000000002AAA", "Global Media"))

_VERSIONED = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_ACCOUNT_QUERY = re.compile(r"^\s*SELECT\s+(\S.*?)\s+FROM\s+Account\b", re.IGNORECASE | re.DOTALL)
FIELDS = {"id": ("Id", "id"), "name": ("Name", "string")}  # Account's fields: name, SOAP type


def versions() -> Reply:
    listing = [
        {"label": label, "url": f"/services/data/v{number}", "version": number}
        for number, label in VERSIONS.items()
    ]
    return json_reply(200, listing)


def handles(path: str) -> bool:
    return path.rstrip("/") == "/services/data" or _VERSIONED.match(path) is not None


def data(org: Org, path: str, query: dict[str, str], authorization: str | None) -> Reply:
    """GET under /services/data/: versions without a session, everything else with one."""
    if path.rstrip("/") == "/services/data":
        return versions()
    match = _VERSIONED.match(path)
    if match is None or match.group(1) not in VERSIONS:
        return json_reply(404, [err.NOT_FOUND])
    tok = bearer(authorization)
    if tok is None or org.use_session(tok) is None:
        return json_reply(401, [err.INVALID_SESSION], **{"WWW-Authenticate": "Token"})
    version, rest = match.group(1), (match.group(2) or "/").rstrip("/")
    if rest == "":
        base = f"/services/data/v{version}"
        return json_reply(200, {"query": f"{base}/query", "sobjects": f"{base}/sobjects"})
    if rest != "/query":
        return json_reply(404, [err.NOT_FOUND])
    soql = query.get("q", "")
    found = _ACCOUNT_QUERY.match(soql)
    if not found:
        message = "The stand-in answers only SELECT ... FROM Account"
        return json_reply(400, [{"message": message, "errorCode": "MALFORMED_QUERY"}])
    wanted = [f.strip() for f in found.group(1).split(",")]
    unknown = [f for f in wanted if f.lower() not in FIELDS]
    if unknown:
        message = f"No such column '{unknown[0]}' on entity 'Account'."
        return json_reply(400, [{"message": message, "errorCode": "INVALID_FIELD"}])
    fields = [FIELDS[f.lower()][0] for f in wanted]
    if query.get("columns") == "true":
        return json_reply(200, _columns(fields))
    records = []
    for record_id, name in ACCOUNTS:
        values = {"Id": record_id, "Name": name}
        record: dict[str, object] = {"attributes": {
            "type": "Account", "url": f"/services/data/v{version}/sobjects/Account/{record_id}",
        }}
        record.update((f, values[f]) for f in fields)
        records.append(record)
    return json_reply(200, {"totalSize": len(records), "done": True, "records": records})


def _columns(fields: list[str]) -> dict[str, object]:
    """What Salesforce answers to ``columns=true``: the query's column metadata."""
    kinds = {name: kind for name, kind in FIELDS.values()}
    return {
        "columnMetadata": [
            {"aggregate": False, "apexType": "Id" if kinds[f] == "id" else "String",
             "booleanType": False, "columnName": f, "custom": False, "displayName": f,
             "foreignKeyName": None, "insertable": f != "Id", "joinColumns": [],
             "numberType": False, "textType": kinds[f] == "string", "updatable": f != "Id"}
            for f in fields
        ],
        "entityName": "Account", "groupBy": False, "idSelect": "Id" in fields,
        "keyPrefix": "001",
    }
