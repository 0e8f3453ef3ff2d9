"""Auth for HTTP clients: ``SalesforceAuth`` (httpx, sync and async) and ``RequestsAuth``
(requests, and so simple-salesforce's ``session=``).

Both set ``Authorization: Bearer <token>`` on every request and, on a 401 from the token's
own instance (or a 403 whose body is Salesforce's dead-session answer, ``Bad_OAuth_Token``
from userinfo or ``INVALID_SESSION_ID``: ``DEAD_SESSION``), forget that token (only that
one: another client may already hold a newer one), get a new one and resend the request
once. Both refuse to send the token anywhere but its own instance (the host and scheme of
its ``instance_url``), as the credential helper does for ``host=``: a client with this auth
pointed at another URL gets an ``InputError``, not a leaked
token.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

import httpx

from sfcred.api import Token, erase_token, get_token
from sfcred.errors import InputError
from sfcred.untrusted import origin, same_host

if TYPE_CHECKING:
    import requests


class _Source:
    """The token of one profile, renewed after a 401."""

    def __init__(self, profile: str | None, host: str | None) -> None:
        self.profile = profile
        self.host = host

    def token(self) -> Token:
        return get_token(self.profile, host=self.host)

    def renewed(self, failed: Token) -> Token:
        erase_token(self.profile, host=self.host, token=failed.access_token)
        return get_token(self.profile, host=self.host)

    @staticmethod
    def owns(token: Token, scheme: str, netloc: str) -> bool:
        """``scheme://netloc`` is the token's own instance."""
        return _owns(token.instance_url, scheme, netloc)

    @staticmethod
    def check(token: Token, scheme: str, netloc: str) -> None:
        if not _Source.owns(token, scheme, netloc):
            raise InputError(
                f"refusing to send the token of profile {token.profile} to {scheme}://{netloc}: "
                f"it is for {token.instance_url}",
                hint="point the client at the instance URL (Token.instance_url)",
            )


@functools.lru_cache(maxsize=64)
def _owns(instance_url: str, scheme: str, netloc: str) -> bool:
    """Kept per (instance, target): a client asks the same pair on every request."""
    own = origin(instance_url)
    return own is not None and own[0] == scheme and same_host(netloc, own[1], scheme)


DEAD_SESSION = (b"Bad_OAuth_Token", b"INVALID_SESSION_ID")


def dead_session(status: int, body: bytes) -> bool:
    """Salesforce's answer for a dead token: a 401, or a 403 that says so (userinfo answers
    ``Bad_OAuth_Token``; other 403s are permissions, and a new token would not help)."""
    return status == 401 or (status == 403 and any(m in body[:4096] for m in DEAD_SESSION))


def _own(response: httpx.Response, token: Token) -> bool:
    url = response.request.url
    return _Source.owns(token, url.scheme, url.netloc.decode("ascii"))


def _renew(response: httpx.Response, token: Token) -> bool:
    """The token is dead only when the token's own instance says so: a host that a redirect
    led to never saw it (and renewing there would cost a login per request, and still end
    in a 401). A 403's body has been read (``_read_403``)."""
    return response.status_code in (401, 403) and _own(response, token) and dead_session(
        response.status_code, response.content if response.status_code == 403 else b"")


class SalesforceAuth(httpx.Auth):
    """``httpx.Client(auth=SalesforceAuth("prod"))``, or ``httpx.AsyncClient(...)``."""

    requires_request_body = True  # a request is resent once after a 401: keep its body

    def __init__(self, profile: str | None = None, *, host: str | None = None) -> None:
        self._source = _Source(profile, host)

    def _apply(self, request: httpx.Request, token: Token) -> httpx.Request:
        _Source.check(token, request.url.scheme, request.url.netloc.decode("ascii"))
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        return request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._source.token()
        response = yield self._apply(request, token)
        if response.status_code == 403 and _own(response, token):
            response.read()  # a 403 tells a dead session by its body
        if _renew(response, token):
            yield self._apply(request, self._source.renewed(token))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        import anyio.to_thread

        # Minting blocks (a file lock, the keyring, a sync HTTP call): off the event loop.
        token = await anyio.to_thread.run_sync(self._source.token)
        response = yield self._apply(request, token)
        if response.status_code == 403 and _own(response, token):
            await response.aread()
        if _renew(response, token):
            renewed = await anyio.to_thread.run_sync(self._source.renewed, token)
            yield self._apply(request, renewed)


class RequestsAuth:
    """``session.auth = RequestsAuth("prod")`` (a requests ``AuthBase``, without importing
    requests until a request is made)."""

    def __init__(self, profile: str | None = None, *, host: str | None = None) -> None:
        self._source = _Source(profile, host)

    def _apply(self, r: requests.PreparedRequest, token: Token) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(r.url or "")
        _Source.check(token, parts.scheme, parts.netloc)
        r.headers["Authorization"] = f"Bearer {token.access_token}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._source.token()
        self._apply(r, token)
        r.register_hook("response", self._make_retry(token))
        return r

    def _make_retry(self, token: Token) -> Any:
        def retry(response: requests.Response, **kwargs: Any) -> requests.Response:
            if response.status_code not in (401, 403) \
                    or getattr(response.request, "_sfcred_retry", False):
                return response
            from urllib.parse import urlsplit

            parts = urlsplit(response.url or "")
            if not _Source.owns(token, parts.scheme, parts.netloc):
                return response  # another host (a redirect's target) never saw this token
            if not dead_session(response.status_code, response.content):
                return response  # a 403 for want of a permission: a new token is no help
            response.close()
            again = response.request.copy()
            again._sfcred_retry = True  # type: ignore[attr-defined]  # resent once, not more
            self._apply(again, self._source.renewed(token))
            resent: requests.Response = response.connection.send(again, **kwargs)
            resent.history.append(response)
            resent.request = again
            return resent

        return retry
