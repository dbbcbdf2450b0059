"""This installation's node identity: an ECDSA P-256 key pair and a self-signed certificate.

The certificate names the node (common name and DNS name = the node's name) and is its own
trust anchor, so a peer pins it as is: gRPC's TLS (BoringSSL) verifies the chain against the
pinned certificate and the name against the node name. Peers recognise each other by the
certificate's SHA-256 fingerprint, exchanged out of band in an invitation.

The same shapes as the engine's `core.comm.tls.make_certificate` and `fingerprint`
(network-engine branch): EC P-256, name as CN and DNS SAN, SHA-256 over DER in lower-case hex.

Files: `<NODE_IDENTITY_DIR>/node.key` and `node.crt`, both 0600 in a 0700 directory.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

CERTIFICATE_DAYS = 825
KEY_FILE, CERT_FILE = "node.key", "node.crt"


class IdentityError(Exception):
    """The node identity is missing, unreadable, or would be overwritten."""


@dataclass(frozen=True)
class NodeIdentity:
    """This node's name, private key and certificate (PEM bytes)."""

    name: str
    key_pem: bytes
    cert_pem: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert_pem)

    @property
    def expires_at(self) -> datetime.datetime:
        return certificate_expiry(self.cert_pem)


def fingerprint(cert_pem: bytes | str) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex (what nodes exchange to pair)."""
    der = load_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def load_certificate(cert_pem: bytes | str) -> x509.Certificate:
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as error:
        raise IdentityError(f"not a valid PEM certificate: {error}") from None


def certificate_expiry(cert_pem: bytes | str) -> datetime.datetime:
    return load_certificate(cert_pem).not_valid_after_utc


def certificate_name(cert_pem: bytes | str) -> str:
    """The node name a certificate was issued for (its common name)."""
    names = load_certificate(cert_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise IdentityError("the certificate names no node (no common name)")
    return str(names[0].value)


def same_public_key(cert_a: bytes | str, cert_b: bytes | str) -> bool:
    def spki(pem):
        return (
            load_certificate(pem)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    return spki(cert_a) == spki(cert_b)


def make_key_and_certificate(name: str, days: int = CERTIFICATE_DAYS) -> tuple[bytes, bytes]:
    """A new (private key PEM, self-signed certificate PEM) for node `name`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return private_key_pem(key), cert.public_bytes(serialization.Encoding.PEM)


def private_key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def identity_dir() -> Path:
    return Path(settings.NODE_IDENTITY_DIR)


def identity_exists(directory: Path | None = None) -> bool:
    directory = directory or identity_dir()
    return (directory / KEY_FILE).exists() or (directory / CERT_FILE).exists()


def load_identity(directory: Path | None = None) -> NodeIdentity:
    """This node's identity from its files; IdentityError naming the missing file otherwise."""
    directory = directory or identity_dir()
    try:
        key_pem = (directory / KEY_FILE).read_bytes()
        cert_pem = (directory / CERT_FILE).read_bytes()
    except FileNotFoundError as error:
        raise IdentityError(
            f"this installation has no node identity ({error.filename} is missing): "
            "run `manage.py node init --name NAME --address HOST:PORT` first"
        ) from None
    return NodeIdentity(name=certificate_name(cert_pem), key_pem=key_pem, cert_pem=cert_pem)


def write_identity(name: str, directory: Path | None = None) -> NodeIdentity:
    """Create and store a new key pair and certificate, replacing any previous one."""
    directory = directory or identity_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    key_pem, cert_pem = make_key_and_certificate(name)
    _write_private(directory / KEY_FILE, key_pem)
    _write_private(directory / CERT_FILE, cert_pem)
    return NodeIdentity(name=name, key_pem=key_pem, cert_pem=cert_pem)


def _write_private(path: Path, data: bytes) -> None:
    """Write through a 0600 temporary file renamed into place (never a half-written key)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
