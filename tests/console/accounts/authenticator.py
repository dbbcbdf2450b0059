"""A software WebAuthn authenticator (ES256, no attestation) for the passkey tests.

It builds exactly what a browser hands the page: client data JSON, CBOR attestation objects
and signed assertions, from a P-256 key made here, so the server's checks meet real bytes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from console.accounts.webauthn import b64url_encode


def cbor(value) -> bytes:
    """Encode ints, bytes, str, lists and dicts (the subset WebAuthn uses)."""
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(value)


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 256**size:
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError(n)


class SoftAuthenticator:
    def __init__(self, rp_id: str = "testserver", origin: str = "http://testserver") -> None:
        self.rp_id, self.origin = rp_id, origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counter = 0

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.counter) + extra

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps(data).encode()

    def create(self, options: dict, **overrides) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
        auth_data = self._auth_data(0x41, attested + cbor(cose))
        client = self._client_data(
            "webauthn.create",
            overrides.get("challenge", options["challenge"]),
            overrides.get("origin"),
        )
        return {
            "id": b64url_encode(self.credential_id),
            "clientDataJSON": b64url_encode(client),
            "attestationObject": b64url_encode(
                cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
            ),
        }

    def get(self, options: dict, *, counter_step: int = 1, key=None, **overrides) -> dict:
        self.counter += counter_step
        auth_data = self._auth_data(0x01)
        client = self._client_data(
            "webauthn.get",
            overrides.get("challenge", options["challenge"]),
            overrides.get("origin"),
        )
        signed = auth_data + hashlib.sha256(client).digest()
        signature = (key or self.key).sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url_encode(self.credential_id),
            "clientDataJSON": b64url_encode(client),
            "authenticatorData": b64url_encode(auth_data),
            "signature": b64url_encode(signature),
        }
