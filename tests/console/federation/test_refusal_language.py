"""A peer's refusal is sent as msgid + params and worded at the receiving node in its reader's
language (`console.federation.handlers.refuse`, `console.nodes.link`, `workflows.messages`).

A refusal crosses a real gRPC call here (an in-process server aborting as the node service
does), so the details survive the transport's header encoding. An older peer that sends
English words is shown as it is, inside the reader's language.
"""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from django.utils import translation

from console.federation.outbox import _failed
from console.nodes.link import transport
from console.nodes.link.service import Refused
from tests.console.federation.conftest import deliver
from tests.console.federation.test_member_runs import bob_identity, started  # noqa: F401
from tests.console.federation.test_run_start import bobs_copy  # noqa: F401
from workflows.messages import parse, render, translatable, wire_text
from workflows.models import Run, Status

ZH, EN = "zh-hans", "en"


def refused_over_grpc(details: str, code=grpc.StatusCode.PERMISSION_DENIED) -> grpc.RpcError:
    """The RpcError a caller gets from a server that aborts with `details`."""

    def handle(request, context):
        context.abort(code, details)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    method = grpc.unary_unary_rpc_method_handler(handle)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("t.T", {"M": method})])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with (
            grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
            pytest.raises(grpc.RpcError) as raised,
        ):
            channel.unary_unary("/t.T/M")(b"", timeout=10)
        return raised.value
    finally:
        server.stop(None)


@pytest.mark.django_db
def test_a_refusal_carries_its_msgid_and_params(started, at_bob):  # noqa: F811
    with pytest.raises(Refused) as refused:
        deliver(at_bob["carol"], "RunAbort", {"run": 41})
    details = refused.value.details()
    assert details.isascii()
    assert parse(details) == {
        "msgid": "%(peer)s started no such run on this node",
        "params": {"peer": "carol"},
    }
    assert str(refused.value) == "carol started no such run on this node"  # the audit's words


@pytest.mark.parametrize("reader", [ZH, EN])
def test_a_peers_refusal_reads_in_the_readers_language(reader):
    refusal = Refused(
        grpc.StatusCode.PERMISSION_DENIED,
        translatable("%(peer)s started no such run on this node", peer="carol"),
    )
    error = transport._call_error("bob", "h:1", refused_over_grpc(refusal.details()))
    assert error.code == "refused"
    with translation.override(reader):
        shown = str(error)
    expected = {
        ZH: "节点 bob（h:1）：拒绝了调用：carol 没有在本节点启动这样的运行",
        EN: "Node bob at h:1: refused the call: carol started no such run on this node",
    }
    assert shown == expected[reader]


def test_an_older_peers_english_refusal_is_kept_as_its_words():
    rpc = refused_over_grpc("this invitation has expired", grpc.StatusCode.INVALID_ARGUMENT)
    error = transport._call_error("alice", "h:2", rpc)
    assert error.code == "rejected"
    assert render(error.message.stored(), ZH) == (
        "节点 alice（h:2）：拒绝了消息：this invitation has expired"
    )
    assert render(error.message.stored(), EN) == (
        "Node alice at h:2: rejected the message: this invitation has expired"
    )


def test_a_status_the_caller_does_not_know_keeps_the_peers_details():
    rpc = refused_over_grpc(
        wire_text(translatable("consent was withdrawn")), grpc.StatusCode.INTERNAL
    )
    error = transport._call_error("alice", "h:3", rpc)
    assert render(error.message.stored(), ZH) == "节点 alice（h:3）：internal：同意已被撤回"


class _Outgoing:
    """What `outbox._failed` reads and writes of an outgoing message."""

    def __init__(self):
        self.attempts, self.method, self.last_error, self.state = 1, "RunAbort", "", "pending"
        self.message_id = "m1"
        self.peer = type("Peer", (), {"name": "bob"})()

    def save(self, update_fields):
        self.saved = update_fields


def test_a_kept_last_error_is_worded_for_whoever_reads_it(monkeypatch):
    from console.federation import outbox

    monkeypatch.setattr(outbox.audit, "call_made", lambda *args, **kwargs: None)
    refusal = translatable("%(peer)s started no such run on this node", peer="carol")
    error = transport.NodeCallError(
        "bob", "h:1", translatable("refused the call: %(details)s", details=refusal), "refused"
    )
    message = _Outgoing()
    _failed(message, None, error)
    assert render(message.last_error, ZH).endswith("carol 没有在本节点启动这样的运行")
    assert render(message.last_error, EN).endswith("carol started no such run on this node")


@pytest.mark.django_db
def test_an_initiators_reason_for_not_starting_reads_in_the_members_language(
    started,  # noqa: F811
    at_bob,
):
    reason = wire_text(
        translatable(
            "nodes that could not take part: %(nodes)s",
            nodes=[translatable("%(node)s: %(reason)s", node="carol", reason="unreachable")],
        )
    )
    assert deliver(at_bob["alice"], "RunAbort", {"run": 41, "reason": reason}) == {
        "cancelled": True
    }
    run = Run.objects.get()
    assert run.status == Status.CANCELLED
    assert render(run.message, ZH) == "未开始：无法参与的节点：carol：unreachable"
    assert (
        render(run.message, EN) == "not started: nodes that could not take part: carol: unreachable"
    )


@pytest.mark.django_db
def test_an_audited_call_keeps_a_refusal_in_english_whoever_made_the_call():
    """The pairing refusal that crashed `node accept` (a message where text was expected)."""
    from console.audit.models import AuditEvent
    from console.nodes.link import audit

    error = transport.NodeCallError(
        "alice", "127.0.0.1:1", translatable("the invitation was already used, has expired")
    )
    with translation.override("zh-hans"):
        audit.call_made("alice", "Hello", audit.Outcome.FAILED, error.reason)
        audit.call_received("Hello", "alice", "ab" * 32, audit.Outcome.DENIED, error.message)
    made, received = AuditEvent.objects.order_by("pk")
    assert made.detail["reason"] == "the invitation was already used, has expired"
    assert received.detail["reason"] == (
        "Node alice at 127.0.0.1:1: the invitation was already used, has expired"
    )
