"""This installation's node identity: an ECDSA P-256 key pair and a self-signed certificate.

The certificate names the node (common name and DNS name = the node's name) and is its own
trust anchor, so a peer pins it as is: gRPC's TLS (BoringSSL) verifies the chain against the
pinned certificate and the name against the node name. Peers recognise each other by the
certificate's SHA-256 fingerprint, exchanged out of band in an invitation. The certificate and
fingerprint rules are the engine's (`core.comm.tls`), so node links and engine links agree.

Files: `<NODE_IDENTITY_DIR>/node.key` and `node.crt`, both 0600 in a 0700 directory. After a
certificate rotation (`console.nodes.rotation`) the replaced pair stays beside them as
`previous.key` and `previous.crt` until its grace period ends, then is deleted.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings

from core.comm import tls
from core.errors import ConfigError

CERTIFICATE_DAYS = 825
KEY_FILE, CERT_FILE = "node.key", "node.crt"
PREVIOUS_KEY_FILE, PREVIOUS_CERT_FILE = "previous.key", "previous.crt"
T = TypeVar("T")


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


def _checked(function: Callable[..., T], *args) -> T:
    """`function(*args)` from core.comm.tls, its ConfigError as an IdentityError."""
    try:
        return function(*args)
    except ConfigError as error:
        raise IdentityError(str(error)) from None


def fingerprint(cert_pem: bytes | str) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex (what nodes exchange to pair)."""
    return _checked(tls.fingerprint, cert_pem)


def load_certificate(cert_pem: bytes | str):
    return _checked(tls.load_certificate, cert_pem)


def certificate_expiry(cert_pem: bytes | str) -> datetime.datetime:
    return _checked(tls.expiry, cert_pem)


def certificate_name(cert_pem: bytes | str) -> str:
    """The node name a certificate was issued for (its common name)."""
    names = load_certificate(cert_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise IdentityError("the certificate names no node (no common name)")
    return str(names[0].value)


def same_public_key(cert_a: bytes | str, cert_b: bytes | str) -> bool:
    return _spki(load_certificate(cert_a).public_key()) == _spki(
        load_certificate(cert_b).public_key()
    )


def _spki(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def make_key_and_certificate(name: str, days: int = CERTIFICATE_DAYS) -> tuple[bytes, bytes]:
    """A new (private key PEM, self-signed certificate PEM) for node `name`."""
    return tls.make_certificate(name, days=days)


def identity_dir() -> Path:
    return Path(settings.NODE_IDENTITY_DIR)


def identity_exists(directory: Path | None = None) -> bool:
    directory = directory or identity_dir()
    return (directory / KEY_FILE).exists() or (directory / CERT_FILE).exists()


def load_identity(directory: Path | None = None) -> NodeIdentity:
    """This node's identity from its files; IdentityError naming the missing file otherwise."""
    directory = directory or identity_dir()
    try:
        return _load_pair(directory, KEY_FILE, CERT_FILE)
    except FileNotFoundError as error:
        raise IdentityError(
            f"this installation has no node identity ({error.filename} is missing): "
            "run `manage.py node init --name NAME --address HOST:PORT` first"
        ) from None


def load_previous_identity(directory: Path | None = None) -> NodeIdentity | None:
    """The key pair a rotation replaced, while it is kept for the grace period (else None)."""
    directory = directory or identity_dir()
    try:
        return _load_pair(directory, PREVIOUS_KEY_FILE, PREVIOUS_CERT_FILE)
    except FileNotFoundError:
        return None


def _load_pair(directory: Path, key_file: str, cert_file: str, attempts: int = 5) -> NodeIdentity:
    """Read a key and its certificate; retried while a rotation is replacing the two files."""
    for attempt in range(attempts):
        key_pem = (directory / key_file).read_bytes()
        cert_pem = (directory / cert_file).read_bytes()
        if _key_matches(key_pem, cert_pem):
            return NodeIdentity(certificate_name(cert_pem), key_pem, cert_pem)
        if attempt < attempts - 1:
            time.sleep(0.05)
    raise IdentityError(f"{directory / key_file} is not the key of {directory / cert_file}")


def _key_matches(key_pem: bytes, cert_pem: bytes) -> bool:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        return False
    return _spki(key.public_key()) == _spki(load_certificate(cert_pem).public_key())


def write_identity(name: str, directory: Path | None = None) -> NodeIdentity:
    """Create and store a new key pair and certificate, replacing any previous one."""
    directory = directory or identity_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    key_pem, cert_pem = make_key_and_certificate(name)
    _write_private(directory / KEY_FILE, key_pem)
    _write_private(directory / CERT_FILE, cert_pem)
    return NodeIdentity(name=name, key_pem=key_pem, cert_pem=cert_pem)


def rotate_identity(directory: Path | None = None) -> tuple[NodeIdentity, NodeIdentity]:
    """Keep the current pair as the previous one and make a new current pair; (old, new).

    The previous pair is written first, so a crash midway leaves the current pair intact.
    """
    directory = directory or identity_dir()
    old = load_identity(directory)
    _write_private(directory / PREVIOUS_KEY_FILE, old.key_pem)
    _write_private(directory / PREVIOUS_CERT_FILE, old.cert_pem)
    key_pem, cert_pem = make_key_and_certificate(old.name)
    _write_private(directory / KEY_FILE, key_pem)
    _write_private(directory / CERT_FILE, cert_pem)
    return old, NodeIdentity(name=old.name, key_pem=key_pem, cert_pem=cert_pem)


def restore_identity(old: NodeIdentity, directory: Path | None = None) -> None:
    """Undo `rotate_identity`: `old` is the current pair again, and no previous pair is kept."""
    directory = directory or identity_dir()
    _write_private(directory / KEY_FILE, old.key_pem)
    _write_private(directory / CERT_FILE, old.cert_pem)
    forget_previous_identity(directory)


def forget_previous_identity(directory: Path | None = None) -> bool:
    """Delete the previous key pair (its grace period is over); whether there was one."""
    directory = directory or identity_dir()
    existed = (directory / PREVIOUS_KEY_FILE).exists()
    for name in (PREVIOUS_KEY_FILE, PREVIOUS_CERT_FILE):
        (directory / name).unlink(missing_ok=True)
    return existed


def _write_private(path: Path, data: bytes) -> None:
    """Write through a 0600 temporary file renamed into place (never a half-written key)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
