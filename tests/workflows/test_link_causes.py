"""Every engine link cause is worded in the reader's language (`workflows.link_causes`).

The engine says why a link failed as a `core.comm.causes.LinkCause` (code + params); a network
run keeps the message `link_error_message` builds, rendered for each reader. These tests build
a cause of every code from its English template's own params and check both languages, then
the run-level shapes: a lost peer, a peer's abort carrying its own message, start-up failures
of several peers, and an error the engine gave no cause.
"""

from __future__ import annotations

import string

import pytest

from core.comm.causes import CAUSES, LinkCause
from core.errors import LinkError
from workflows.link_causes import MESSAGES, UNWRAPPED, cause_message, link_error_message
from workflows.messages import render, stored, translatable

ZH, EN = "zh-hans", "en"
SAMPLES = {
    "seconds": 10.0,
    "theirs": 1,
    "ours": 2,
    "dial": 3,
    "expected": 7,
    "kept": 9,
    "last": 5,
    "size": 123456,
    "parties": ["alice", "bob"],
}


def fields(code: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(CAUSES[code]) if name}


def sample(code: str) -> LinkCause:
    """A cause of `code` with every param its template names (text params name their role)."""
    return LinkCause(code, **{name: SAMPLES.get(name, f"<{name}>") for name in fields(code)})


def test_every_cause_code_of_the_engine_is_worded_here():
    assert set(MESSAGES) | UNWRAPPED == set(CAUSES)
    assert not set(MESSAGES) & UNWRAPPED


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_each_cause_reads_in_chinese_and_english_with_all_its_params(code):
    message = cause_message(sample(code))
    english, chinese = render(stored(message), EN), render(stored(message), ZH)
    for name in fields(code) - {"seconds", "parties", "theirs", "ours"}:
        value = str(SAMPLES.get(name, f"<{name}>"))
        assert value in english, (code, name, english)
        assert value in chinese, (code, name, chinese)
    assert "%(" not in english + chinese
    assert chinese != english, f"{code}: no zh-hans translation of {message.msgid!r}"
    assert any("\u4e00" <= char <= "\u9fff" for char in chinese), chinese


def test_seconds_are_whole_and_party_lists_are_joined_for_the_reader():
    lost = cause_message(LinkCause("lost", peer="bob", seconds=2.4))
    assert render(stored(lost), EN) == (
        "lost connection to bob (its stream broke and was not restored within 2 s)"
    )
    assert render(stored(lost), ZH) == "与 bob 的连接已断开（数据流中断，2 秒内未恢复）"
    stranger = cause_message(LinkCause("stranger", peer="mallory", parties=["alice", "bob"]))
    assert render(stored(stranger), EN) == "mallory is not a party of this run (alice, bob)"


def test_a_lost_peer_at_this_party_reads_without_naming_this_party():
    """`at_party` ("'alice': ...") is worded as its inner cause: the reader is at alice."""
    lost = LinkCause("lost_not_restored", peer="bob", reason="Socket closed", seconds=10)
    error = LinkError(LinkCause("at_party", party="alice", reason=lost))
    assert str(error) == (
        "'alice': lost connection to 'bob' (Socket closed); not restored within 10s"
    )
    said = translatable(
        "lost contact with %(party)s: %(error)s", party="bob", error=link_error_message(error)
    )
    assert render(stored(said), ZH) == (
        "与 bob 失去联系：与 bob 的连接已断开（Socket closed）；10 秒内未恢复"
    )
    assert render(stored(said), EN) == (
        "lost contact with bob: lost connection to bob (Socket closed); not restored within 10 s"
    )


def test_a_peers_abort_reads_its_own_message_in_the_readers_language():
    stopped = translatable(
        "%(party)s stopped at node %(node)s: %(reason)s",
        party="carol",
        node="train",
        reason=translatable("cancelled at %(party)s", party="carol"),
    )
    aborted = LinkCause(
        "aborted",
        peer="carol",
        reason="'carol' stopped at node train: cancelled at carol",
        message=stopped.stored(),
    )
    said = link_error_message(LinkError(LinkCause("at_party", party="alice", reason=aborted)))
    assert render(stored(said), ZH) == "carol 已中止：carol 在节点 train 停止：已在 carol 处取消"
    assert (
        render(stored(said), EN) == "carol aborted: carol stopped at node train: cancelled at carol"
    )


def test_an_older_peers_abort_keeps_its_words_and_a_cause_it_sent_is_worded():
    words = LinkCause("aborted", peer="bob", reason="'bob' failed with RuntimeError")
    assert render(stored(cause_message(words)), ZH) == "bob 已中止：'bob' failed with RuntimeError"
    failed = LinkCause("party_failed", party="bob", error="RuntimeError")
    caused = LinkCause("aborted", peer="bob", reason=failed)
    assert render(stored(cause_message(caused)), ZH) == "bob 已中止：bob 出错（RuntimeError）"


def test_start_up_failures_of_several_peers_are_each_worded():
    several = LinkCause(
        "several",
        causes=[
            LinkCause("gave_up", party="alice", peer="bob"),
            LinkCause("gave_up", party="alice", peer="carol"),
        ],
    )
    assert str(several) == "'alice' gave up dialling 'bob'; 'alice' gave up dialling 'carol'"
    said = translatable(
        "cannot reach %(parties)s: the run refuses to start (%(error)s)",
        parties=["bob", "carol"],
        error=link_error_message(LinkError(several)),
    )
    assert "alice 已放弃连接 bob" in render(stored(said), ZH)
    assert "alice 已放弃连接 carol" in render(stored(said), ZH)


def test_a_link_error_without_a_cause_keeps_its_english_words():
    error = LinkError("frame has a malformed tuple")
    assert error.cause is None
    assert link_error_message(error) == "frame has a malformed tuple"


def test_a_workflow_level_link_error_reads_in_the_readers_language():
    from workflows.placement import WorkflowLinkError

    error = WorkflowLinkError(
        "'bob' sent a malformed workflow message",
        translatable("%(party)s sent a malformed workflow message", party="bob"),
    )
    said = link_error_message(error)
    assert render(stored(said), ZH) == "bob 发送了格式错误的工作流消息"
    assert str(error) == "'bob' sent a malformed workflow message"
