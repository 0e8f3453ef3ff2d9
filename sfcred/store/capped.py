"""A GET to the store that reads at most a given number of bytes of the answer.

hvac reads every answer whole, and any writer of ``tokens/`` can make a record of any size:
here the request goes through hvac's own adapter (the same address, token, namespace, TLS and
timeout) as a stream, and stops at the cap. Errors are hvac's exceptions, as its own calls
raise them, so ``VaultKV._call`` names them the same way.
"""

from __future__ import annotations

import json
from typing import Any

_CHUNK = 65536


class TooLarge(Exception):
    """A record's answer ran past the size cap the reader gave: not read, not sfcred's."""


def get_json(client: Any, url: str, limit: int) -> dict[str, Any]:
    """The JSON object answered to ``GET url``; ``TooLarge`` past ``limit`` bytes; hvac's
    exception for any status but 200 (``InvalidPath`` for 404)."""
    from hvac import exceptions, utils
    from hvac.adapters import RawAdapter

    # RawAdapter's request, not the JSON adapter's: that one parses the whole body itself.
    response = RawAdapter.request(client.adapter, "GET", url, raise_exception=False,
                                  stream=True)
    with response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(url)
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise TooLarge(url)
    try:
        answer = json.loads(bytes(body))
    except (ValueError, RecursionError):
        answer = None
    if response.status_code != 200:
        errors = answer.get("errors") if isinstance(answer, dict) else None
        utils.raise_for_error("GET", url, response.status_code, None if errors else "",
                              errors=errors)
    if not isinstance(answer, dict):
        raise exceptions.UnexpectedError("the answer is not a JSON object")
    return answer
