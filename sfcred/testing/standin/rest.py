"""A sliver of the REST data API: the version list and a fixed Account query.

Enough for clients such as simple-salesforce to prove a minted token works end to end.
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
_ACCOUNT_QUERY = re.compile(r"^\s*SELECT\s+\S.*?\s+FROM\s+Account\b", re.IGNORECASE | re.DOTALL)


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
    if not _ACCOUNT_QUERY.match(soql):
        message = "The stand-in answers only SELECT ... FROM Account"
        return json_reply(400, [{"message": message, "errorCode": "MALFORMED_QUERY"}])
    records = [
        {
            "attributes": {
                "type": "Account",
                "url": f"/services/data/v{version}/sobjects/Account/{record_id}",
            },
            "Id": record_id,
            "Name": name,
        }
        for record_id, name in ACCOUNTS
    ]
    return json_reply(200, {"totalSize": len(records), "done": True, "records": records})
