"""RSA keys and certificates: import (PEM/DER, PKCS#1/PKCS#8, encrypted), generation,
self-signed certificates for the connected app, and fingerprints that are safe to show."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sfcred.errors import InputError
from sfcred.secret import Secret

MIN_BITS = 2048
RSA = "rsa"
CLIENT_SECRET = "client-secret"  # noqa: S105  # a kind of material, not a secret
SIZES = (2048, 3072, 4096)
DEFAULT_CERT_DAYS = 730


@dataclass(frozen=True)
class KeyMaterial:
    """A private key (PKCS#8 PEM, hidden) and the certificate that goes with it.

    ``checked``: the key is known valid, because cryptography checked it in full when it
    entered sfcred (import, generation, the environment) and, for a stored key, its bytes
    still match the digest recorded then. Such a key signs without a second check
    (``signing_key``).

    ``kind`` ``client-secret``: a client credentials profile's consumer secret in
    ``key_pem`` and no certificate; it lives in the same slots (active, pending, previous)
    and the same store items as a key, so rotation and fleet mode treat both alike."""

    key_pem: Secret
    cert_pem: str
    checked: bool = field(default=False, compare=False)
    kind: str = RSA

    @property
    def key_id(self) -> str:
        if self.kind == CLIENT_SECRET:
            return secret_id(self.key_pem)
        return key_id(public_key(self))

    @property
    def is_secret(self) -> bool:
        return self.kind == CLIENT_SECRET


def client_secret(value: str) -> KeyMaterial:
    """A consumer secret as material; refused if empty or not one printable line."""
    value = value.strip()
    if not value or len(value) > 1024 or not value.isprintable():
        raise InputError("the client secret must be 1-1024 printable characters on one line")
    return KeyMaterial(key_pem=Secret(value), cert_pem="", checked=True, kind=CLIENT_SECRET)


def stored_form(material: KeyMaterial) -> str:
    """The JSON a store keeps (a key's as before secrets existed: no ``kind``)."""
    import json

    kind = {"kind": material.kind} if material.is_secret else {}
    return json.dumps({"key": material.key_pem.reveal(), "cert": material.cert_pem, **kind})


def secret_id(value: Secret) -> str:
    """A short stable id for a consumer secret (a salted digest: names the item, shows
    nothing of the secret)."""
    digest = hashlib.sha256(b"sfcred client secret\0" + value.reveal().encode())
    return "s" + digest.hexdigest()[:15]


def load_private_key(data: bytes, passphrase: bytes | None = None) -> rsa.RSAPrivateKey:
    if b"CERTIFICATE-----" in data:
        raise InputError("that file holds a certificate, not a private key: pass the key file")
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise InputError("that file holds a public key, not a private key: pass the key file")
    encrypted = b"ENCRYPTED" in data
    if encrypted and passphrase is None:
        raise InputError(
            "the key is passphrase-protected: pass the passphrase with --key-passphrase-stdin"
        )
    loader = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=passphrase if encrypted or passphrase else None)
    except TypeError:
        # A passphrase was given for a key that has none, or the other way round.
        if passphrase is not None:
            try:
                key = loader(data, password=None)
            except (ValueError, TypeError) as e:
                raise InputError("the file is not a readable private key") from e
        else:
            raise InputError("the key needs a passphrase: use --key-passphrase-stdin") from None
    except ValueError as e:
        if encrypted or passphrase is not None:
            raise InputError("wrong passphrase for the key, or the key is damaged") from e
        raise InputError("the file is not a PEM or DER private key") from e
    except Exception as e:  # cryptography raises UnsupportedAlgorithm for exotic keys
        raise InputError(f"the key cannot be read ({type(e).__name__})") from e
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(
            f"the key is {type(key).__name__.replace('PrivateKey', '').strip('_') or 'not RSA'}, "
            "but Salesforce's JWT bearer flow signs with RS256: use an RSA key"
        )
    if key.key_size < MIN_BITS:
        raise InputError(f"the RSA key has {key.key_size} bits; use at least {MIN_BITS}")
    return key


def generate_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    if bits not in SIZES:
        raise InputError(f"key size must be one of {', '.join(map(str, SIZES))}")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def self_signed_cert(
    key: rsa.RSAPrivateKey,
    common_name: str,
    days: int = DEFAULT_CERT_DAYS,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    now = now or dt.datetime.now(dt.timezone.utc)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sfcred"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def key_to_pem(key: rsa.RSAPrivateKey) -> Secret:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Secret(pem.decode("ascii"))


def cert_to_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def material(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> KeyMaterial:
    return KeyMaterial(key_pem=key_to_pem(key), cert_pem=cert_to_pem(cert), checked=True)


def private_of(key_pem: Secret) -> rsa.RSAPrivateKey:
    """The private key, checked in full now."""
    return signing_key(KeyMaterial(key_pem, ""))


def signing_key(material: KeyMaterial) -> rsa.RSAPrivateKey:
    """The private key, ready to sign.

    OpenSSL's check of an RSA private key (that its factors are prime) is most of its load:
    60 ms of a 60 ms load of a 2048-bit key here, a fifth of a whole cold mint (measured with
    ``load_pem_private_key`` both ways). A ``checked`` key had that check when it entered
    sfcred, so it is not repeated on every mint; any other key gets it in full (cryptography:
    an invalid key loaded unchecked may misbehave)."""
    key = serialization.load_pem_private_key(
        material.key_pem.reveal().encode("ascii"), password=None,
        unsafe_skip_rsa_key_validation=material.checked,
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key")
    return key


def readable(material: KeyMaterial) -> bool:
    """Whether the key and certificate parse (a ``checked`` key: microseconds), so material
    damaged in the keyring is a named error where it is read, not a ValueError where used."""
    if material.is_secret:
        value = material.key_pem.reveal()
        return bool(value) and value.isprintable() and not material.cert_pem
    try:
        signing_key(material)
        if material.cert_pem:
            load_cert(material.cert_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def public_key(material: KeyMaterial) -> rsa.RSAPublicKey:
    """The public half, loaded as ``signing_key`` loads the key (checked once, on entry)."""
    return signing_key(material).public_key()


def public_of(key_pem: Secret) -> rsa.RSAPublicKey:
    """The public half of a key checked in full now (doctor's key check, for one)."""
    return private_of(key_pem).public_key()


def _spki(pub: rsa.RSAPublicKey) -> bytes:
    return pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(pub: rsa.RSAPublicKey) -> str:
    """OpenSSH-style SHA256 fingerprint of the public key: safe to print."""
    digest = hashlib.sha256(_spki(pub)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def key_id(pub: rsa.RSAPublicKey) -> str:
    """A short stable id for keyring item names."""
    return hashlib.sha256(_spki(pub)).hexdigest()[:16]


def cert_matches(cert_pem: str, pub: rsa.RSAPublicKey) -> bool:
    return _spki(load_cert(cert_pem).public_key()) == _spki(pub)  # type: ignore[arg-type]


def cert_start(cert_pem: str) -> dt.datetime:
    return load_cert(cert_pem).not_valid_before_utc


def cert_der_b64(cert_pem: str) -> str:
    """The certificate as bare base64 DER: what the Metadata API's certificate fields hold."""
    import base64

    from cryptography.hazmat.primitives import serialization

    return base64.b64encode(load_cert(cert_pem).public_bytes(serialization.Encoding.DER)).decode()


def cert_expiry(cert_pem: str) -> dt.datetime:
    return load_cert(cert_pem).not_valid_after_utc
