"""The node link turns an authenticated call into a peer actor, and nothing else into one."""

from __future__ import annotations

import time

import grpc
import pytest

from console.nodes.link.envelope import Envelope
from console.nodes.link.service import Refused, peer_actor
from console.nodes.models import PeerRoute
from workflows.actors import Kind

pytestmark = pytest.mark.django_db


def _call_from(sender: str) -> Envelope:
    return Envelope(sender=sender, nonce="n-1", timestamp=time.time(), body={})


def test_a_call_with_the_pinned_certificate_of_an_enabled_route_acts_as_that_node(route_to_zed):
    actor = peer_actor(_call_from("zed"), route_to_zed.certificate.encode())
    assert (actor.kind, actor.node, actor.user) == (Kind.PEER, route_to_zed.node, None)
    assert str(actor) == "peer node:zed"


def test_a_call_naming_another_sender_than_its_certificate_is_refused(route_to_zed):
    with pytest.raises(Refused, match="the certificate is zed's") as refused:
        peer_actor(_call_from("alice"), route_to_zed.certificate.encode())
    assert refused.value.status == grpc.StatusCode.PERMISSION_DENIED


def test_a_call_over_a_disabled_route_is_refused(route_to_zed):
    PeerRoute.objects.filter(pk=route_to_zed.pk).update(enabled=False)
    with pytest.raises(Refused, match="disabled its route to zed"):
        peer_actor(_call_from("zed"), route_to_zed.certificate.encode())


def test_a_certificate_pinned_by_no_route_is_refused(route_to_zed):
    from console.nodes.identity import make_key_and_certificate

    _, stranger = make_key_and_certificate("zed")
    with pytest.raises(Refused, match="pair the nodes first") as refused:
        peer_actor(_call_from("zed"), stranger)
    assert refused.value.status == grpc.StatusCode.UNAUTHENTICATED
