"""A federation message refused for its body (`EnvelopeError`, `console.federation.wire`) reads
in the sending node's reader's language, as other refusals do (`test_refusal_language`); so
does why a member cannot join a run's engine links (`console.federation.engine`).
"""

from __future__ import annotations

import grpc
import pytest

from console.federation.engine import EngineSetupError, engine_network
from console.nodes.link import transport
from console.nodes.link.service import Refused
from tests.console.federation.conftest import deliver
from tests.console.federation.test_member_runs import ENGINES, bob_identity  # noqa: F401
from tests.console.federation.test_refusal_language import refused_over_grpc
from workflows.messages import parse, render

pytestmark = pytest.mark.django_db
ZH, EN = "zh-hans", "en"


def read_at_sender(refusal: Refused) -> dict[str, str]:
    """The refusal as alice's readers see it, after a real gRPC call carried it."""
    rpc = refused_over_grpc(refusal.details(), refusal.status)
    error = transport._call_error("bob", "h:1", rpc)
    return {language: render(error.message.stored(), language) for language in (ZH, EN)}


def test_a_malformed_field_is_refused_as_msgid_and_params(at_bob):
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "RunAbort", {"run": "forty-one"})
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert parse(refused.value.details()) == {
        "msgid": "the message's '%(key)s' is not a whole number >= %(minimum)s",
        "params": {"key": "run", "minimum": 1},
    }
    assert str(refused.value) == "the message's 'run' is not a whole number >= 1"  # the audit's
    assert read_at_sender(refused.value) == {
        ZH: "节点 bob（h:1）：拒绝了消息：消息中的“run”不是大于等于 1 的整数",
        EN: "Node bob at h:1: rejected the message: the message's 'run' is not a whole number >= 1",
    }


def test_a_malformed_message_id_reads_in_the_senders_language(at_bob):
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "RunAbort", {"run": 41}, message="not-an-id")
    assert read_at_sender(refused.value) == {
        ZH: "节点 bob（h:1）：拒绝了消息：消息的“message”标识不是 32 位十六进制数字",
        EN: "Node bob at h:1: rejected the message: the message's 'message' id is not 32 hex "
        "digits",
    }


def test_why_a_member_cannot_join_the_engine_links_reads_in_each_language(
    at_bob,
    bob_identity,  # noqa: F811
):
    at_bob["alice"].enabled = False
    at_bob["alice"].save(update_fields=["enabled"])
    with pytest.raises(EngineSetupError) as raised:
        engine_network(["alice", "bob"], "bob", ENGINES)
    assert str(raised.value) == "the route to alice is disabled on this node"
    assert render(raised.value.message, ZH) == "到 alice 的路由在本节点上已禁用"
