"""``sfcred standin --tls``: a private CA and a server certificate for 127.0.0.1 and localhost,
kept in the stand-in's folder so that clients told to trust the CA keep trusting it across
restarts.

The CA's key signs once and is never written: nobody can make another certificate that the
CA file vouches for. Files: ``ca.pem`` (the CA certificate, to trust), ``server.pem`` and
``server-key.pem`` (0600, the listeners' chain and key). Elliptic-curve keys (P-256): made in
milliseconds, and accepted by OpenSSL, Node and Python alike.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE, CERT_FILE, KEY_FILE = "ca.pem", "server.pem", "server-key.pem"
DAYS = 825  # the longest validity Apple's clients accept for a server certificate


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sfcred stand-in"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make(folder: Path, now: dt.datetime | None = None) -> None:
    """Write a new CA certificate and a server certificate (with its key) signed by it."""
    now = now or dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("sfcred stand-in CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    _write(folder / KEY_FILE, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()), 0o600)
    _write(folder / CERT_FILE, cert.public_bytes(pem), 0o644)
    _write(folder / CA_FILE, ca.public_bytes(pem), 0o644)  # last: its presence means "all made"


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def context(folder: Path) -> ssl.SSLContext:
    """The listeners' TLS context, from the folder's files (made first if missing or expired)."""
    if not _usable(folder):
        make(folder)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(folder / CERT_FILE, folder / KEY_FILE)
    return ctx


def _usable(folder: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate((folder / CERT_FILE).read_bytes())
        x509.load_pem_x509_certificate((folder / CA_FILE).read_bytes())
    except (OSError, ValueError):
        return False
    left = cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    return (folder / KEY_FILE).is_file() and left > dt.timedelta(days=1)


def trust_variables(ca_file: Path) -> dict[str, str]:
    """What to export so clients trust the CA: Python's ssl and httpx (SSL_CERT_FILE),
    requests and simple-salesforce (REQUESTS_CA_BUNDLE), Node and jsforce (NODE_EXTRA_CA_CERTS),
    curl (CURL_CA_BUNDLE)."""
    path = str(ca_file)
    return {"SSL_CERT_FILE": path, "REQUESTS_CA_BUNDLE": path, "NODE_EXTRA_CA_CERTS": path,
            "CURL_CA_BUNDLE": path}
