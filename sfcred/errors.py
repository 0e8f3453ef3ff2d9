"""The one exception tree of sfcred. Every class carries its exit code
(docs/reference/exit-codes.md).

    SfcredError                 (exit 1)  base; never raised itself
    ├── InputError              (exit 1)  bad protocol input, bad flag value, unreadable file
    │   └── NotServed           (exit 1)  the request names a host/scheme no profile owns;
    │                                     under git's name: silent, exit 0
    ├── ConfigError             (exit 1)  a profile that is missing, incomplete or refused
    ├── UsageError              (exit 2)  a command line that does not parse
    ├── SalesforceRefused       (exit 3)  the token endpoint said no: carries error, cause, fix
    ├── SalesforceUnreachable   (exit 4)  no answer, or 5xx / garbage after the retries
    └── KeyringUnavailable      (exit 5)  no usable keyring, or it is locked

The message of each is one line that says what happened; ``hint`` says what to do next.
No message ever holds a secret: callers pass names and fingerprints, never values.
Only ``cli.py`` turns these into exit codes and stderr lines.
"""

from __future__ import annotations

TYPE_CHECKING = False  # on the warm path: typing is not imported
if TYPE_CHECKING:
    from sfcred.salesforce.refusals import Refusal


class SfcredError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(SfcredError):
    exit_code = 1


class NotServed(InputError):
    """Not ours to answer: a host, scheme or user that the chosen profile does not own.

    git asks every configured helper about every host, so under git's name this is the
    ordinary "not mine" answer (nothing printed, exit 0); typed by a person it is exit 1.
    """


class ConfigError(SfcredError):
    exit_code = 1


class UsageError(SfcredError):
    exit_code = 2


class SalesforceRefused(SfcredError):
    """Salesforce answered with an OAuth error. ``cause`` and ``fix`` are plain words.

    ``error`` and ``description`` are the server's words made safe on the way in (one line,
    no control characters, capped: ``untrusted.server_words``), so no caller can print them raw.
    """

    exit_code = 3

    def __init__(
        self,
        error: str,
        description: str,
        *,
        cause: str,
        fix: str,
        status: int | None = None,
        server_date: str | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        from sfcred.untrusted import quoted, server_words

        error, description = server_words(error, 80), server_words(description)
        desc = f" {quoted(description)}" if description else ""
        super().__init__(f"Salesforce refused the token request: {error}{desc}", hint=fix)
        self.error = error
        self.description = description
        self.cause = cause
        self.fix = fix
        self.status = status
        self.server_date = server_date
        self.refusal = refusal  # set by salesforce.refusals.explain, the one classifier


class SalesforceUnreachable(SfcredError):
    exit_code = 4


class KeyringUnavailable(SfcredError):
    exit_code = 5
