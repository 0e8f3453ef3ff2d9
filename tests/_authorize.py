"""What the authorize tests share: the URL a run prints, a made-up client secret, a free
port, and what a browser does."""

from __future__ import annotations

import re
import socket

import httpx

URL_RE = re.compile(r"(https?://\S+/services/oauth2/authorize\?\S+)")
CLIENT_SECRET = "SECRET" + "7" * 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browse(url: str) -> httpx.Response:
    """What a browser does: the authorize page (the stand-in's user consents or not), then the
    redirect to sfcred's callback, whose page is returned."""
    first = httpx.get(url, follow_redirects=False, timeout=10)
    assert first.status_code == 302, first.text
    return httpx.get(first.headers["location"], timeout=60)
