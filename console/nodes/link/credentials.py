"""Which certificates a call to a peer trusts, and which key pair this node presents to it.

Normally: the peer's pinned certificate, and this node's current pair. Around a certificate
rotation (`console.nodes.rotation`) both sides widen this for the grace period only:
- the peer rotated: its replaced certificate is trusted as well until `previous_valid_until`
  (`PeerRoute.trusted_certificates`);
- this node rotated and the peer has not pinned the new certificate yet: this node presents its
  previous pair, the one the peer still pins, while it is kept (until the grace period ends).
"""

from __future__ import annotations

from dataclasses import dataclass

from console.nodes import identity as ids
from console.nodes.models import CertificateRotation, PeerRoute, RotationNotice


@dataclass(frozen=True)
class LinkCredentials:
    root_cert: bytes
    key: bytes
    cert_chain: bytes


def for_route(route: PeerRoute, identity: ids.NodeIdentity) -> LinkCredentials:
    """What a call to `route`'s peer uses (see the module docstring)."""
    presented = identity
    if not told_current_certificate(route, identity):
        previous = ids.load_previous_identity()
        if previous is not None:
            presented = previous
    return LinkCredentials(route.trusted_certificates(), presented.key_pem, presented.cert_pem)


def told_current_certificate(route: PeerRoute, identity: ids.NodeIdentity) -> bool:
    """Whether the peer pins this node's current certificate (false while not yet told)."""
    rotation = CertificateRotation.objects.filter(new_fingerprint=identity.fingerprint).first()
    if rotation is None:
        return True  # no rotation to this certificate: the peer pinned it when pairing
    notice = RotationNotice.objects.filter(rotation=rotation, route=route).first()
    return notice is None or notice.status == RotationNotice.Status.CONFIRMED
