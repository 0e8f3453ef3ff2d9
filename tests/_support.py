"""Plain helpers shared by conftest.py and the tests (no fixtures here: they are unit-testable).

``tests/`` is deliberately not a package: pytest puts this folder on ``sys.path`` (its default
"prepend" import mode), so tests import these helpers as ``from _support import ...``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial
    from sfcred.testing.server import FakeSalesforce

SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
MEMORY_BACKEND = "sfcred.testing.keyrings.MemoryKeyring"
LIMITED_BACKEND = "sfcred.testing.keyrings.LimitedKeyring"
FAIL_BACKEND = "sfcred.testing.keyrings.FailKeyring"

Verdict = Literal["run", "skip", "fail"]

_TRUE = {"1", "true", "yes", "on"}


def require(available: object, missing: str, how: str = "run through .ci/test.sh") -> None:
    """A test that needs a real part (a shell, a server, root): skipped for a developer who
    lacks it, but a failure in CI (``CI`` true), where nothing may be silently skipped."""
    if available:
        return
    import pytest

    if os.environ.get("CI", "").strip().lower() in _TRUE:
        pytest.fail(f"{missing}, but CI must run this test ({how})")
    pytest.skip(f"{missing} ({how})")


def secret_service_verdict(environ: Mapping[str, str]) -> tuple[Verdict, str]:
    """Decide whether a test needing the real Secret Service runs, is skipped, or fails.

    It runs when ``SFCRED_TEST_SECRET_SERVICE=1`` (set by ``.ci/test.sh`` once its probe of a
    throwaway gnome-keyring succeeded). Otherwise a developer's plain ``pytest`` skips it, but
    CI (``CI`` set to true) fails it: in CI these tests must never be silently skipped.
    """
    if environ.get("SFCRED_TEST_SECRET_SERVICE") == "1":
        return "run", ""
    if environ.get("CI", "").strip().lower() in _TRUE:
        return "fail", (
            "CI is set but SFCRED_TEST_SECRET_SERVICE is not 1: the real Secret Service tests "
            "must run in CI. Run the tests with `bash .ci/test.sh`, which starts an unlocked "
            "throwaway gnome-keyring in a private D-Bus session."
        )
    return "skip", (
        "needs the real Secret Service: run `bash .ci/test.sh`, or set "
        "SFCRED_TEST_SECRET_SERVICE=1 inside a session with an unlocked gnome-keyring"
    )


def purge_secret_service(service: str) -> int:
    """Delete every Secret Service item of a test: its ``service`` attribute equals or starts
    with ``service`` (the test's unique ``SFCRED_KEYRING_SERVICE``). Returns how many."""
    import secretstorage

    count = 0
    with closing(secretstorage.dbus_init()) as conn:
        for collection in secretstorage.get_all_collections(conn):
            if collection.is_locked():
                continue
            for item in collection.get_all_items():
                if item.get_attributes().get("service", "").startswith(service):
                    item.delete()
                    count += 1
    return count


def installed_script(name: str) -> list[str] | None:
    """The console script ``name`` installed next to the running interpreter, if any."""
    bindir = Path(sys.executable).parent
    for candidate in (bindir / name, bindir / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    return None


@dataclass(frozen=True)
class KeyPair:
    """An RSA key and its self-signed certificate, made at run time (never committed).

    The key material is kept out of ``repr`` so a failing assertion never prints a key.
    """

    bits: int
    key: rsa.RSAPrivateKey = field(repr=False)
    cert: x509.Certificate = field(repr=False)

    @property
    def key_pem(self) -> str:
        """PKCS#8 PEM, unencrypted (``-----BEGIN PRIVATE KEY-----``)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def key_pem_pkcs1(self) -> str:
        """PKCS#1 PEM (``-----BEGIN RSA PRIVATE KEY-----``), as openssl genrsa used to write."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()

    @property
    def key_der(self) -> bytes:
        """PKCS#8 DER."""
        return self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def key_pem_encrypted(self, passphrase: str) -> str:
        """PKCS#8 PEM encrypted with ``passphrase`` (``-----BEGIN ENCRYPTED PRIVATE KEY-----``)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        ).decode()

    @property
    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def material(self) -> KeyMaterial:
        """The pair as the program keeps it (``sfcred.keys.KeyMaterial``)."""
        from sfcred.keys import material

        return material(self.key, self.cert)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def make_keypair(bits: int = 2048, common_name: str = "sfcred test", *,
                 age_days: int = 1, days: int = 365) -> KeyPair:
    """The one way tests make a key: an RSA key of ``bits`` and a certificate issued
    ``age_days`` ago, valid for ``days`` from then. (``conftest.KeyPool`` only stands in for
    the keys the program itself generates in the test process.)"""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=age_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(bits=bits, key=key, cert=cert)


def files_under(*roots: Path) -> list[Path]:
    """Every regular file (links left out) under ``roots``, once each, sorted: for scans
    proving a secret was written nowhere."""
    found: set[Path] = set()
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for n in names:
                p = Path(dirpath, n)
                if p.is_file() and not p.is_symlink():
                    found.add(p)
    return sorted(found)


def app_standin(material: Any, client_id: str, username: str) -> Iterator[FakeSalesforce]:
    """A running stand-in whose app holds ``material``'s certificate, the user
    pre-authorized: ``yield from`` it in a fixture."""
    from sfcred.testing.server import FakeSalesforce

    with FakeSalesforce() as server:
        server.add_app(client_id, material.cert_pem)
        server.add_user(username)
        server.preauthorize(client_id, username)
        yield server


def counting_imports(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for a process whose imports a test counts (``-X importtime``): without the
    variables that make coverage start in it (coverage's own ``.pth`` starts it in every
    process when ``COVERAGE_PROCESS_START`` is set, and would add its imports)."""
    return {k: v for k, v in env.items() if not k.startswith("COVERAGE_")}


class Clock:
    """A clock a test moves by hand (``clock.t += 60``), injected where sfcred takes ``clock``."""

    def __init__(self) -> None:
        import time

        self.t = time.time()

    def __call__(self) -> float:
        return self.t
