"""Link failures carry their cause as data (`core.comm.causes`) beside the same English text.

The text is what Python users and older peers always read; the cause (code + params) is what
the layers above word in their reader's language. A cause from a peer (in an abort, in a
refused hello) is checked like any other input from the network.
"""

from __future__ import annotations

import pickle

import pytest

from core.comm.causes import CAUSES, MAX_DEPTH, TLS_FAILURE, LinkCause, startup_order
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


# ----- which start-up error a party reports (`startup_order`) -----------------------------------
def _unreachable(reason: str = "connection refused (Connection refused)") -> LinkCause:
    return LinkCause(
        "unreachable", party="bob", peer="alice", address="127.0.0.1:9", seconds=3, reason=reason
    )


def _waited_for(party: str) -> LinkCause:
    """alice's abort, as bob reads it, saying that `party` did not connect back to her."""
    silent = LinkCause(
        "no_hello_at", party="alice", peer=party, address="127.0.0.1:9101", seconds=3
    )
    setup = LinkCause("setup_failed", party="alice", reason=silent)
    aborted = LinkCause("aborted", peer="alice", reason=setup)
    return LinkCause("at_party", party="bob", reason=aborted)


def test_a_party_reports_its_own_unreachable_peer_before_the_peers_word_that_it_did_not_dial():
    """bob could not reach alice at the address he has for her; alice, waiting for him to
    dial back, gave up and told him: bob reports his own failure, which names the address."""
    assert startup_order(_unreachable(), "bob") < startup_order(_waited_for("bob"), "bob")


def test_what_a_peer_revealed_about_anything_else_comes_first():
    about_carol = _waited_for("carol")  # alice waited for carol, not for bob: news to bob
    refused = LinkCause("dial_refused", peer="alice", party="bob", reason="wrong certificate")
    tls = _unreachable(f"{TLS_FAILURE} (the peer refused our certificate)")
    orders = [startup_order(c, "bob") for c in (about_carol, refused, tls, _unreachable())]
    assert orders[0] == orders[1] < orders[2] < orders[3]
    gave_up = LinkCause("gave_up", party="bob", peer="alice")  # (from an older peer)
    assert startup_order(gave_up, "bob") > startup_order(_waited_for("bob"), "bob")


def test_a_peer_that_waited_for_several_parties_including_this_one_is_news_about_the_others():
    silent = {"party": "alice", "address": "127.0.0.1:9101", "seconds": 3}
    both = LinkCause(
        "several",
        causes=[
            LinkCause("no_hello_at", peer="bob", **silent),
            LinkCause("no_hello_at", peer="carol", **silent),
        ],
    )
    aborted = LinkCause("aborted", peer="alice", reason=both)
    assert startup_order(aborted, "bob") == 0
