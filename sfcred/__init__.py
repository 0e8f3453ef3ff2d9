"""sfcred: Salesforce JWT-bearer credentials from the OS keyring, served like git credentials.

The Python API (``docs/reference/python-api.md``): ``get_token``, ``erase_token``, ``Token``,
``SalesforceAuth`` (httpx), ``RequestsAuth`` (requests), and the error tree (``SfcredError``
and its subclasses). ``import sfcred`` is cheap: each name is imported on first use, and the
keyring, httpx and cryptography only when a token must be minted.
"""

from __future__ import annotations

__version__ = "0.2.0"

_LAZY = {
    "get_token": "sfcred.api",
    "erase_token": "sfcred.api",
    "Token": "sfcred.api",
    "SalesforceAuth": "sfcred.auth",
    "RequestsAuth": "sfcred.auth",
    "SfcredError": "sfcred.errors",
    "InputError": "sfcred.errors",
    "NotServed": "sfcred.errors",
    "ConfigError": "sfcred.errors",
    "UsageError": "sfcred.errors",
    "SalesforceRefused": "sfcred.errors",
    "SalesforceUnreachable": "sfcred.errors",
    "KeyringUnavailable": "sfcred.errors",
}
__all__ = [
    "ConfigError",
    "InputError",
    "KeyringUnavailable",
    "NotServed",
    "RequestsAuth",
    "SalesforceAuth",
    "SalesforceRefused",
    "SalesforceUnreachable",
    "SfcredError",
    "Token",
    "UsageError",
    "__version__",
    "erase_token",
    "get_token",
]

TYPE_CHECKING = False  # mypy sees the imports; at run time they are lazy (__getattr__)
if TYPE_CHECKING:
    from sfcred.api import Token, erase_token, get_token
    from sfcred.auth import RequestsAuth, SalesforceAuth
    from sfcred.errors import (
        ConfigError,
        InputError,
        KeyringUnavailable,
        NotServed,
        SalesforceRefused,
        SalesforceUnreachable,
        SfcredError,
        UsageError,
    )


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sfcred' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
