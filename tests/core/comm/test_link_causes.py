"""Link failures carry their cause as data (`core.comm.causes`) beside the same English text.

The text is what Python users and older peers always read; the cause (code + params) is what
the layers above word in their reader's language. A cause from a peer (in an abort, in a
refused hello) is checked like any other input from the network.
"""

from __future__ import annotations

import pickle

import pytest

from core.comm.causes import CAUSES, MAX_DEPTH, LinkCause
from core.comm.tls import TlsConfig, make_certificate
from core.errors import LinkError

pytestmark = pytest.mark.timeout(60)


def test_a_cause_is_its_english_text_as_the_engine_always_wrote_it():
    lost = LinkCause("lost_not_restored", peer="bob", reason="Socket closed", seconds=10.0)
    assert lost == "lost connection to 'bob' (Socket closed); not restored within 10s"
    assert lost.code == "lost_not_restored"
    assert lost.lost
    mismatch = LinkCause("version_mismatch", peer="bob", theirs=1, party="alice", ours=2)
    assert mismatch == "protocol mismatch: 'bob' speaks link version 1, 'alice' speaks 2"
    assert not mismatch.lost


def test_an_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown link cause 'nope'"):
        LinkCause("nope")


def test_a_link_error_takes_its_cause_and_keeps_it_through_pickling():
    cause = LinkCause("timeout", party="alice", seconds=5, peer="bob")
    error = LinkError(cause)
    assert str(error) == "'alice' timed out after 5s waiting for 'bob'"
    assert error.cause.code == "timeout"
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error)
    assert again.cause.params == cause.params
    assert LinkError("plain words").cause is None


def test_a_cause_crosses_the_wire_nested_and_all():
    refused = LinkCause("restarted", peer="bob")
    lost = LinkCause("lost_refused", peer="bob", reason="Socket closed", refusal=refused)
    several = LinkCause("several", causes=[lost, LinkCause("gave_up", party="a", peer="c")])
    back = LinkCause.from_wire(several.to_wire())
    assert back == several
    assert back.params["causes"][0].params["refusal"].code == "restarted"


@pytest.mark.parametrize(
    "sent",
    [
        None,
        "lost",
        {"code": "nope", "params": {}},
        {"code": "lost", "params": []},
        {"code": "lost", "params": {"peer": "bob"}},  # `seconds` missing
        {"code": "lost", "params": {"peer": "bob", "seconds": "soon"}},  # not a number
        {"code": "at_party", "params": {"party": "a", "reason": {"code": "nope", "params": {}}}},
        {"code": "at_party", "params": {"party": "a", "reason": object()}},
    ],
)
def test_a_malformed_cause_from_a_peer_is_dropped(sent):
    assert LinkCause.from_wire(sent) is None


def test_a_peers_cause_is_bounded_in_depth_and_text():
    nested = LinkCause("closed").to_wire()
    for _ in range(MAX_DEPTH + 2):
        nested = {"code": "at_party", "params": {"party": "a", "reason": nested}}
    assert LinkCause.from_wire(nested) is None
    long = LinkCause.from_wire({"code": "peer_closed", "params": {"peer": "x" * 10_000}})
    assert len(long.params["peer"]) == 500


def test_every_code_has_an_english_template():
    assert all(isinstance(text, str) and text for text in CAUSES.values())


def test_a_wrong_certificate_says_why_as_a_cause():
    key, cert = make_certificate("bob")
    _, other = make_certificate("mallory")
    pinned = TlsConfig(key, cert, {"alice": cert})
    problem = pinned.identity_problem("alice", other)
    assert problem.code == "foreign_certificate"
    assert problem.params == {"peer": "alice"}
    assert problem == "a peer claiming to be 'alice' presented another party's certificate"


@pytest.fixture(params=["socket", "grpc"])
def pair(request, linked):
    return linked(request.param)


def test_an_abort_carries_its_cause_and_the_callers_message(pair):
    link = pair["bob"].link(["alice", "bob"], "main")
    failed = LinkCause("party_failed", party="alice", error="ValueError")
    pair["alice"].abort(failed, message={"msgid": "stopped at %(node)s", "params": {"node": "n"}})
    with pytest.raises(LinkError) as raised:
        link.recv(0)
    assert str(raised.value) == "'bob': 'alice' aborted: 'alice' failed with ValueError"
    aborted = raised.value.cause.params["reason"]
    assert aborted.code == "aborted"
    assert aborted.params["reason"].code == "party_failed"
    assert aborted.params["message"] == {"msgid": "stopped at %(node)s", "params": {"node": "n"}}


def test_an_oversized_abort_message_is_left_out_and_the_words_still_go(pair):
    link = pair["bob"].link(["alice", "bob"], "main")
    pair["alice"].abort("'alice' failed", message={"msgid": "x" * 20_000, "params": {}})
    with pytest.raises(LinkError, match="'alice' aborted: 'alice' failed") as raised:
        link.recv(0)
    aborted = raised.value.cause.params["reason"]
    assert aborted.params["reason"] == "'alice' failed"
    assert "message" not in aborted.params
