"""Pairing invitations: the one line of text (or file) one node's admin gives another's.

    privpad-invitation/1;node=alice;address=alice.example.org:7443;fingerprint=<64 hex>;
    id=<invitation id>;secret=<43 characters>          (one line, no spaces)

`node`, `address` and `fingerprint` say whom to call and which certificate it must present
(the acceptor pins it). `id` and `secret` let the inviter recognise the acceptor: the secret is
the private key of a one-time certificate authority that the inviter's node service trusts
while the invitation is open (and never stores); the acceptor certifies its own node key with
it for the pairing handshake, so TLS itself proves both that the acceptor holds the invitation
and that it holds the key of the certificate it then asks the inviter to pin. Anyone who
reads the line can pair in the acceptor's place before it does: hand it over like a password.

Pure functions, no Django: the parser names every problem it finds.
"""

from __future__ import annotations

import base64
import datetime
import re
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext

from console.nodes.identity import load_certificate

PREFIX = "privpad-invitation/"
VERSION = "1"
FIELDS = ("node", "address", "fingerprint", "id", "secret")
MAX_TEXT = 2000
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")


class InvitationError(ValueError):
    """An invitation text that cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class InvitationText:
    node: str
    address: str
    fingerprint: str
    id: str
    secret: bytes

    def render(self) -> str:
        secret = base64.urlsafe_b64encode(self.secret).decode().rstrip("=")
        parts = [f"node={self.node}", f"address={self.address}"]
        parts += [f"fingerprint={self.fingerprint}", f"id={self.id}", f"secret={secret}"]
        return PREFIX + VERSION + ";" + ";".join(parts)

    def authority_key(self) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(int.from_bytes(self.secret, "big"), ec.SECP256R1())


def new_secret() -> tuple[str, bytes]:
    """A fresh (invitation id, secret): the secret is a valid P-256 private scalar."""
    key = ec.generate_private_key(ec.SECP256R1())
    return secrets.token_urlsafe(12), key.private_numbers().private_value.to_bytes(32, "big")


def parse(text: str) -> InvitationText:
    """The invitation in `text`; InvitationError naming the first problem otherwise."""
    line = "".join((text or "").split())  # line breaks added by mail clients are harmless
    if not line:
        raise InvitationError(
            gettext("The invitation is empty: paste the whole line it was given as.")
        )
    if len(line) > MAX_TEXT:
        raise InvitationError(
            gettext("The invitation is %(length)s characters long; at most %(max)s.")
            % {"length": len(line), "max": MAX_TEXT}
        )
    if not line.startswith(PREFIX):
        raise InvitationError(
            gettext("This is not a PrivPad invitation: it must start with “%(prefix)s”.")
            % {"prefix": PREFIX}
        )
    version, _, rest = line[len(PREFIX) :].partition(";")
    if version != VERSION:
        raise InvitationError(
            gettext(
                "Invitation version “%(version)s” is not supported (this node reads version "
                "%(supported)s)."
            )
            % {"version": version, "supported": VERSION}
        )
    fields = _fields(rest)
    return InvitationText(
        node=_check(
            fields, "node", _NAME, gettext("a node name (lower-case letters, digits, - or _)")
        ),
        address=check_address(fields["address"]),
        fingerprint=_check(
            fields, "fingerprint", _FINGERPRINT, gettext("64 lower-case hex digits")
        ),
        id=_check(fields, "id", _ID, gettext("16 letters, digits, - or _")),
        secret=_secret(fields["secret"]),
    )


def _fields(rest: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in filter(None, rest.split(";")):
        key, sep, value = part.partition("=")
        if not sep or key not in FIELDS:
            raise InvitationError(
                gettext("The invitation has an unknown part “%(part)s”.") % {"part": part[:40]}
            )
        if key in fields:
            raise InvitationError(gettext("The invitation gives “%(key)s” twice.") % {"key": key})
        fields[key] = value
    missing = [name for name in FIELDS if not fields.get(name)]
    if missing:
        raise InvitationError(
            gettext("The invitation has no %(parts)s: it was cut short; copy the whole line.")
            % {"parts": ", ".join(missing)}
        )
    return fields


def _check(fields: dict[str, str], key: str, pattern: re.Pattern, expected: str) -> str:
    value = fields[key]
    if not pattern.match(value):
        raise InvitationError(
            gettext("The invitation's %(key)s “%(value)s” is not %(expected)s.")
            % {"key": key, "value": value[:70], "expected": expected}
        )
    return value


def check_node_name(name: str) -> str:
    """`name` if peers can be given it in an invitation; InvitationError otherwise."""
    if not _NAME.match(name):
        raise InvitationError(
            gettext(
                "The node name “%(name)s” must be 1 to 40 lower-case letters, digits, - or _, "
                "starting with a letter or digit."
            )
            % {"name": name[:60]}
        )
    return name


def check_address(address: str) -> str:
    """`address` if it is host:port (IPv6 in brackets); InvitationError otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not _HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvitationError(
            gettext("The address “%(address)s” is not host:port with a port from 1 to 65535.")
            % {"address": address[:80]}
        )
    return address


def _secret(value: str) -> bytes:
    try:
        secret = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        secret = b""
    if len(secret) != 32:
        raise InvitationError(gettext("The invitation's secret is damaged (it is not 32 bytes)."))
    try:
        ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
    except ValueError:
        raise InvitationError(
            gettext("The invitation's secret is damaged (not a valid key).")
        ) from None
    return secret


def _authority_name(invitation_id: str) -> x509.Name:
    common_name = f"PrivPad invitation {invitation_id}"
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def authority_certificate(
    invitation_id: str, secret: bytes, expires_at: datetime.datetime
) -> bytes:
    """The one-time CA certificate the inviter's service trusts while the invitation is open."""
    from cryptography.hazmat.primitives.serialization import Encoding

    key = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
    name = _authority_name(invitation_id)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(expires_at)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM)


def acceptor_certificate(invitation: InvitationText, node_name: str, node_cert_pem: bytes) -> bytes:
    """The acceptor's node key certified by the invitation (its client certificate in Hello)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(_authority_name(invitation.id))
        .public_key(load_certificate(node_cert_pem).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(node_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(invitation.authority_key(), hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM)


def invitation_id_of(cert_pem: bytes | str) -> str | None:
    """The invitation a client certificate was certified by, if it is an acceptor certificate."""
    issuer = load_certificate(cert_pem).issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    prefix = "PrivPad invitation "
    if issuer and str(issuer[0].value).startswith(prefix):
        return str(issuer[0].value)[len(prefix) :]
    return None
