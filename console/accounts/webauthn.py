"""WebAuthn passkeys as a second factor: registration and assertion checks (W3C WebAuthn L2).

Scope: ES256 credentials (ECDSA P-256 with SHA-256, COSE algorithm -7), which every platform
authenticator and security key offers. Registration asks for no attestation ("none"): the
authenticator's make is not verified, the key is trusted on first use by the signed-in user.
Each ceremony's challenge (32 random bytes) lives in the session and is used once.

Checks follow the specification's verification steps: the client data's type, challenge and
origin; the RP ID hash and the user-presence flag of the authenticator data; at sign-in the
signature over `authenticatorData || SHA-256(clientDataJSON)` with the stored public key, and a
signature counter that must grow when the authenticator keeps one (a clone otherwise).

Input from the browser is bounded and parsed by a small CBOR decoder that knows only the types
WebAuthn uses (no tags, no indefinite lengths); nothing is unpickled or evaluated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MAX_INPUT_BYTES = 16_384
MAX_CBOR_DEPTH = 8
COSE_ES256 = -7
FLAG_USER_PRESENT = 0x01
FLAG_ATTESTED_DATA = 0x40
CHALLENGE_KEY = "privpad_webauthn_challenge"


class WebAuthnError(ValueError):
    """The browser's answer does not pass a check; the message names which."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_INPUT_BYTES * 2:
        raise WebAuthnError("a field is missing or too long")
    try:
        padded = (text + "=" * (-len(text) % 4)).replace("-", "+").replace("_", "/")
        return base64.b64decode(padded, validate=True)
    except (ValueError, TypeError) as error:
        raise WebAuthnError("a field is not base64url") from error


# --- CBOR (RFC 8949), the subset WebAuthn uses ---------------------------------------------


def cbor_decode(data: bytes, pos: int = 0, depth: int = 0) -> tuple[object, int]:
    """Decode one CBOR item at `pos`; return it and the position after it."""
    if depth > MAX_CBOR_DEPTH or pos >= len(data):
        raise WebAuthnError("malformed CBOR")
    major, info = data[pos] >> 5, data[pos] & 31
    value, pos = _cbor_argument(data, pos + 1, info)
    if major == 0:
        return value, pos
    if major == 1:
        return -1 - value, pos
    if major in (2, 3):
        if pos + value > len(data):
            raise WebAuthnError("malformed CBOR")
        raw = data[pos : pos + value]
        return (raw if major == 2 else raw.decode("utf-8", "strict")), pos + value
    if major == 4:
        items = []
        for _ in range(value):
            item, pos = cbor_decode(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if major == 5:
        mapping = {}
        for _ in range(value):
            key, pos = cbor_decode(data, pos, depth + 1)
            mapping[key], pos = cbor_decode(data, pos, depth + 1)
        return mapping, pos
    if major == 7 and info in (20, 21, 22):
        return {20: False, 21: True, 22: None}[info], pos
    raise WebAuthnError("unsupported CBOR item")


def _cbor_argument(data: bytes, pos: int, info: int) -> tuple[int, int]:
    if info < 24:
        return info, pos
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes or pos + sizes[info] > len(data):
        raise WebAuthnError("malformed CBOR")
    size = sizes[info]
    value = int.from_bytes(data[pos : pos + size], "big")
    if value > MAX_INPUT_BYTES and info != 27:
        raise WebAuthnError("CBOR item too large")
    return value, pos + size


# --- ceremonies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelyingParty:
    """Who asks: the RP ID (the site's host name) and the origin the browser reports."""

    rp_id: str
    origin: str

    @classmethod
    def of(cls, request) -> RelyingParty:
        """The RP of this request: its host name (no port) and its scheme://host[:port]."""
        host = request.get_host()
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return cls(rp_id=name, origin=f"{request.scheme}://{host}")


@dataclass(frozen=True)
class NewCredential:
    credential_id: str  # base64url
    public_key_der: bytes
    sign_count: int


def new_challenge(session) -> str:
    challenge = b64url_encode(secrets.token_bytes(32))
    session[CHALLENGE_KEY] = challenge
    return challenge


def _take_challenge(session) -> str:
    challenge = session.pop(CHALLENGE_KEY, None)
    if not challenge:
        raise WebAuthnError("no passkey request is waiting: start again")
    return challenge


def _client_data(client_data_json: bytes, kind: str, challenge: str, rp: RelyingParty) -> None:
    try:
        data = json.loads(client_data_json)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebAuthnError("client data is not JSON") from error
    if not isinstance(data, dict) or data.get("type") != kind:
        raise WebAuthnError(f"client data is not a {kind} answer")
    if not secrets.compare_digest(str(data.get("challenge", "")), challenge):
        raise WebAuthnError("the answer is for another challenge")
    if data.get("origin") != rp.origin:
        raise WebAuthnError(f"the answer comes from {data.get('origin')!r}, not {rp.origin!r}")


def _authenticator_data(auth_data: bytes, rp: RelyingParty) -> tuple[int, int]:
    """Check the RP ID hash and user presence; return (flags, signature counter)."""
    if len(auth_data) < 37:
        raise WebAuthnError("authenticator data too short")
    if not secrets.compare_digest(auth_data[:32], hashlib.sha256(rp.rp_id.encode()).digest()):
        raise WebAuthnError(f"the passkey is for another site than {rp.rp_id!r}")
    flags = auth_data[32]
    if not flags & FLAG_USER_PRESENT:
        raise WebAuthnError("the authenticator did not confirm the user's presence")
    return flags, struct.unpack(">I", auth_data[33:37])[0]


def verify_registration(session, rp: RelyingParty, body: dict) -> NewCredential:
    """Check a `navigator.credentials.create()` answer; return the credential to store."""
    challenge = _take_challenge(session)
    client_data = b64url_decode(body.get("clientDataJSON"))
    _client_data(client_data, "webauthn.create", challenge, rp)
    attestation, _ = cbor_decode(b64url_decode(body.get("attestationObject")))
    if not isinstance(attestation, dict) or not isinstance(attestation.get("authData"), bytes):
        raise WebAuthnError("attestation object without authenticator data")
    auth_data = attestation["authData"]
    flags, sign_count = _authenticator_data(auth_data, rp)
    if not flags & FLAG_ATTESTED_DATA or len(auth_data) < 55:
        raise WebAuthnError("no credential in the authenticator data")
    id_length = int.from_bytes(auth_data[53:55], "big")
    credential_id = auth_data[55 : 55 + id_length]
    cose_key, _ = cbor_decode(auth_data, 55 + id_length)
    return NewCredential(b64url_encode(credential_id), _es256_key(cose_key), sign_count)


def _es256_key(cose_key) -> bytes:
    if not isinstance(cose_key, dict) or cose_key.get(3) != COSE_ES256 or cose_key.get(1) != 2:
        raise WebAuthnError("only ES256 (P-256) passkeys are supported")
    x, y = cose_key.get(-2), cose_key.get(-3)
    if cose_key.get(-1) != 1 or not (isinstance(x, bytes) and isinstance(y, bytes)):
        raise WebAuthnError("the passkey's public key is not a P-256 point")
    try:
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        key = numbers.public_key()
    except ValueError as error:
        raise WebAuthnError("the passkey's public key is not on the curve") from error
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def verify_assertion(
    session, rp: RelyingParty, body: dict, public_key_der: bytes, count: int
) -> int:
    """Check a `navigator.credentials.get()` answer against the stored key; return the counter."""
    challenge = _take_challenge(session)
    client_data = b64url_decode(body.get("clientDataJSON"))
    _client_data(client_data, "webauthn.get", challenge, rp)
    auth_data = b64url_decode(body.get("authenticatorData"))
    _flags, sign_count = _authenticator_data(auth_data, rp)
    signature = b64url_decode(body.get("signature"))
    key = serialization.load_der_public_key(public_key_der)
    try:
        signed = auth_data + hashlib.sha256(client_data).digest()
        key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as error:
        raise WebAuthnError("the passkey's signature does not verify") from error
    if (sign_count or count) and sign_count <= count:
        raise WebAuthnError("the passkey's counter went back: it may have been cloned")
    return sign_count
