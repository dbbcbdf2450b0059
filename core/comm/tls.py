"""Mutual TLS for network links: each party's key and certificate, and how peers are trusted.

`TlsConfig.from_dict({"key": ..., "cert": ..., "peers": {"bob": ..., ...}})` pins every peer to
its own certificate (nodes that paired by exchanging `fingerprint`s then exchange the
certificates themselves: gRPC verifies against certificates, not digests); `{"key", "cert",
"ca"}` instead trusts any certificate a CA the parties agree on issued *for that party's name*
(its DNS name or common name). Values are PEM text/bytes or paths to PEM files.

Both ends authenticate: a party's client checks the server it dials is the expected party
(gRPC verifies the chain against that party's pinned certificate or the CA, for the party name
used as TLS target name), and a party's server asks for client certificates and, after the
handshake, checks that the certificate is the one of the party the peer claims to be. A
certificate made with `make_certificate` carries the party's name as DNS name and is its own
CA, so it can be pinned directly.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass, field

from core.comm.causes import LinkCause
from core.errors import ConfigError


def _pem(value, what: str) -> bytes:
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str) and value.lstrip().startswith("-----BEGIN"):
        data = value.encode()
    elif isinstance(value, str | os.PathLike):
        try:
            with open(value, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise ConfigError(f"cannot read the {what} file {value!r}: {exc.strerror}") from None
    else:
        raise ConfigError(f"the {what} must be PEM text or a file path, got {type(value).__name__}")
    if b"-----BEGIN" not in data:
        raise ConfigError(f"the {what} is not PEM")
    return data


def load_certificate(pem: bytes | str, what: str = "certificate"):
    """The X.509 certificate in PEM `pem`; ConfigError naming `what` if it is not one."""
    from cryptography import x509

    data = pem.encode() if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise ConfigError(f"the {what} is not a valid certificate: {exc}") from None


def fingerprint(pem: bytes | str) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex (what nodes exchange to pair)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    der = load_certificate(pem).public_bytes(Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def expiry(pem: bytes | str) -> datetime.datetime:
    """When the certificate stops being valid (UTC)."""
    return load_certificate(pem).not_valid_after_utc


def names_of(pem: bytes) -> set[str]:
    """The DNS names and common names a certificate was issued for."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = load_certificate(pem)
    names = {a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names |= set(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    return {str(n) for n in names}


@dataclass
class TlsConfig:
    """This party's key pair and how it recognises its peers."""

    key: bytes
    cert: bytes
    peer_certs: dict[str, bytes] = field(default_factory=dict)
    ca: bytes | None = None

    @classmethod
    def from_dict(cls, spec: dict, peers: list[str]) -> TlsConfig:
        if not isinstance(spec, dict):
            raise ConfigError(f"tls must be a dict with key, cert and peers or ca, got {spec!r}")
        unknown = set(spec) - {"key", "cert", "peers", "ca"}
        if unknown:
            raise ConfigError(f"unknown tls settings {sorted(unknown)}")
        for name in ("key", "cert"):
            if name not in spec:
                raise ConfigError(f"tls needs this party's {name!r}")
        config = cls(_pem(spec["key"], "private key"), _pem(spec["cert"], "certificate"))
        load_certificate(config.cert, "certificate")
        if ("peers" in spec) == ("ca" in spec):
            raise ConfigError("tls needs exactly one of 'peers' (pinned certificates) or 'ca'")
        if "ca" in spec:
            config.ca = _pem(spec["ca"], "CA certificate")
            load_certificate(config.ca, "CA certificate")
            return config
        given = spec["peers"]
        if not isinstance(given, dict) or set(given) != set(peers):
            raise ConfigError(
                f"tls 'peers' must pin a certificate for each of {sorted(peers)}, "
                f"got {sorted(given) if isinstance(given, dict) else given!r}"
            )
        for peer, value in given.items():
            pem = _pem(value, f"certificate of {peer!r}")
            load_certificate(pem, f"certificate of {peer!r}")
            config.peer_certs[peer] = pem
        return config

    def roots_for(self, peer: str) -> bytes:
        """What a certificate presented by `peer` must chain to."""
        return self.ca if self.ca is not None else self.peer_certs[peer]

    def all_roots(self) -> bytes:
        return self.ca if self.ca is not None else b"".join(self.peer_certs.values())

    def identity_problem(self, party: str, presented: bytes | None) -> LinkCause | None:
        """Why `presented` is not `party`'s certificate (None if it is)."""
        if not presented:
            return LinkCause("no_certificate", peer=party)
        if self.ca is None:
            if fingerprint(presented) != fingerprint(self.peer_certs[party]):
                return LinkCause("foreign_certificate", peer=party)
            return None
        if party not in names_of(presented):
            return LinkCause("misnamed_certificate", peer=party)
        return None


def make_certificate(
    party: str, *, issuer: tuple[bytes, bytes] | None = None, days: int = 365
) -> tuple[bytes, bytes]:
    """A new (private key PEM, certificate PEM) for `party` (EC P-256).

    Self-signed and usable as its own trust anchor unless `issuer` = (CA key PEM, CA cert PEM)
    signs it. Its DNS name and common name are the party name. Its subject also carries a
    random serial-number attribute: TLS libraries pick a trust anchor by subject name alone, so
    two certificates of one party trusted side by side (before and after a rotation) must not
    share a subject. Meant for tests and pairing.
    """
    import secrets

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, party),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, secrets.token_hex(8)),
        ]
    )
    if issuer is None:
        signer, issuer_name, is_ca = key, name, True
    else:
        signer = serialization.load_pem_private_key(issuer[0], password=None)
        issuer_name, is_ca = load_certificate(issuer[1], "CA certificate").subject, False
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(party)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
