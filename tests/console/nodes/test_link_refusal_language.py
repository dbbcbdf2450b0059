"""The node service's refusals read in the calling node's reader's language.

alice's node service (`console.nodes.link.service`) refuses a call from its peer zed: a replayed
nonce, a disabled route, a malformed or stale envelope. The refusal is sent as msgid + params
in the gRPC details; here it crosses a real gRPC call (`refused_over_grpc`) and the calling
side's error (`transport._call_error`) is worded for a reader in Simplified Chinese and one in
English. alice's audit entry of the refused call keeps English words whatever language is
active (a message handed to the audit writer is worded in English, never stored as an object).
"""

from __future__ import annotations

import time

import grpc
import pytest
from django.utils import translation

from console.audit.models import AuditEvent
from console.nodes import identity as ids
from console.nodes.link import service as service_module
from console.nodes.link import transport
from console.nodes.link.envelope import MAX_MESSAGE_BYTES, EnvelopeError, seal, unseal
from console.nodes.link.service import NodeService
from console.nodes.models import PeerRoute
from tests.console.federation.test_refusal_language import refused_over_grpc
from workflows.messages import parse, render

pytestmark = pytest.mark.django_db
ZH, EN = "zh-hans", "en"


class Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(details)
        self.code, self.details = code, details


class CallFrom:
    """The gRPC context of a call presenting `certificate`; `abort` raises what it was given."""

    def __init__(self, certificate: str):
        self.certificate = certificate.encode()

    def auth_context(self) -> dict:
        return {"x509_pem_cert": [self.certificate]}

    def abort(self, code: grpc.StatusCode, details: str):
        raise Aborted(code, details)


@pytest.fixture
def call_alice(route_to_zed, settings, monkeypatch):
    """Call alice's Health with a payload, as zed: her reply, or the refusal zed reads."""
    settings.PRIVPAD_NODE_CALL_WINDOW_SECONDS = 120
    # The handler runs in this test's transaction, not in a server thread of its own.
    monkeypatch.setattr(service_module, "close_old_connections", lambda: None)
    service = NodeService(ids.load_identity())
    handle = service.handler("Health", service.health)

    def call(payload: bytes) -> bytes | transport.NodeCallError:
        try:
            return handle(payload, CallFrom(route_to_zed.certificate))
        except Aborted as refused:
            rpc = refused_over_grpc(refused.details, refused.code)
            return transport._call_error("alice", "h:1", rpc)

    return call


def words(error: transport.NodeCallError) -> dict[str, str]:
    return {language: render(error.message.stored(), language) for language in (ZH, EN)}


def test_a_replayed_nonce_reads_in_the_callers_language(call_alice):
    recorded = seal("zed", {})
    assert unseal(call_alice(recorded)).body["name"] == "alice"
    refused = call_alice(recorded)
    assert refused.code == "refused"
    assert words(refused) == {
        ZH: "节点 alice（h:1）：拒绝了调用：重放的调用：该随机数（nonce）已被使用",
        EN: "Node alice at h:1: refused the call: replayed call: this nonce was already used",
    }


def test_a_disabled_route_reads_in_the_callers_language(call_alice, route_to_zed):
    PeerRoute.objects.filter(pk=route_to_zed.pk).update(enabled=False)
    refused = call_alice(seal("zed", {}))
    assert words(refused) == {
        ZH: "节点 alice（h:1）：拒绝了调用：本节点已禁用到 zed 的路由",
        EN: "Node alice at h:1: refused the call: this node has disabled its route to zed",
    }


@pytest.mark.parametrize(
    ("payload", "chinese", "english"),
    [
        (
            lambda: seal("zed", {}, timestamp=time.time() - 600),
            "拒绝了消息：时间戳过期：比本节点时钟慢 600 秒（仅接受 120 秒以内的调用）",
            "rejected the message: stale timestamp: 600 s behind this node's clock (calls are "
            "accepted within 120 s)",
        ),
        (
            lambda: seal("zed", {}, timestamp=time.time() + 600),
            "拒绝了消息：时间戳过期：比本节点时钟快 600 秒（仅接受 120 秒以内的调用）",
            "rejected the message: stale timestamp: 600 s ahead of this node's clock (calls "
            "are accepted within 120 s)",
        ),
        (
            lambda: b"\xc1not msgpack",
            "拒绝了消息：消息格式错误（",
            "rejected the message: malformed message (",
        ),
        (
            lambda: b"\x81\xa8protocol\xa6nope/1",
            "拒绝了消息：不是 privpad-node/1 消息",
            "rejected the message: not a privpad-node/1 message",
        ),
        (
            lambda: b"x" * (MAX_MESSAGE_BYTES + 1),
            f"拒绝了消息：{MAX_MESSAGE_BYTES + 1} 字节的消息超过上限 {MAX_MESSAGE_BYTES}",
            f"rejected the message: message of {MAX_MESSAGE_BYTES + 1} bytes exceeds "
            f"{MAX_MESSAGE_BYTES}",
        ),
    ],
    ids=["behind", "ahead", "garbage", "other-protocol", "oversized"],
)
def test_an_envelope_refusal_reads_in_the_callers_language(call_alice, payload, chinese, english):
    refused = call_alice(payload())
    assert refused.code == "rejected"
    shown = words(refused)
    assert shown[ZH].startswith(f"节点 alice（h:1）：{chinese}"), shown[ZH]
    assert shown[EN].startswith(f"Node alice at h:1: {english}"), shown[EN]


def test_the_audit_of_a_refused_call_keeps_english_words_under_any_language(call_alice):
    recorded = seal("zed", {})
    call_alice(recorded)
    with translation.override(ZH):
        call_alice(recorded)
        call_alice(seal("zed", {}, timestamp=time.time() - 600))
    denied = AuditEvent.objects.filter(outcome="denied").order_by("pk")
    reasons = [event.detail["reason"] for event in denied]
    assert reasons[-2:] == [
        "replayed call: this nonce was already used",
        "stale timestamp: 600 s behind this node's clock (calls are accepted within 120 s)",
    ]


def test_an_envelope_error_is_english_text_for_logs_and_a_message_for_readers():
    with pytest.raises(EnvelopeError) as raised:
        unseal(b"\xc1")
    assert str(raised.value).startswith("malformed message (")
    assert parse(raised.value.message.stored())["msgid"] == "malformed message (%(problem)s)"


def test_a_health_check_refused_here_is_audited_in_english_and_kept_for_each_reader(
    route_to_zed,
):
    from console.nodes.pairing import check_health

    PeerRoute.objects.filter(pk=route_to_zed.pk).update(enabled=False)
    route_to_zed.refresh_from_db()
    with translation.override(ZH), pytest.raises(transport.NodeCallError):
        check_health(route_to_zed)
    made = AuditEvent.objects.filter(outcome="failed").latest("pk")
    assert made.detail["reason"] == ("Node zed at 127.0.0.1:9: the route is disabled on this node")
    route_to_zed.refresh_from_db()
    assert render(route_to_zed.last_error, ZH) == "节点 zed（127.0.0.1:9）：该路由在本节点上已禁用"
    assert render(route_to_zed.last_error, EN) == made.detail["reason"]
