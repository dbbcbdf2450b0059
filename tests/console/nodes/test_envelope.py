"""The envelope of node-to-node calls: bounded, typed, fresh; never pickle."""

from __future__ import annotations

import pickle

import msgpack
import pytest

from console.nodes.link import envelope as env


def test_it_carries_sender_nonce_time_and_body():
    sealed = env.unseal(env.seal("bob", {"x": 1}, timestamp=1000.0))
    assert (sealed.sender, sealed.timestamp, sealed.body) == ("bob", 1000.0, {"x": 1})
    assert len(sealed.nonce) == 32


def test_each_message_gets_a_fresh_nonce():
    assert env.unseal(env.seal("bob", {})).nonce != env.unseal(env.seal("bob", {})).nonce


def _packed(**changes) -> bytes:
    fields = {"protocol": "privpad-node/1", "from": "b", "nonce": "a" * 32, "ts": 1, "body": {}}
    return msgpack.packb({**fields, **changes})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pickle.dumps({"from": "bob"}), "malformed message|not a privpad-node/1"),
        (b"\xc1", "malformed message"),
        (msgpack.packb([1, 2]), "not a privpad-node/1 message"),
        (_packed(protocol="privpad-node/0"), "not a privpad-node/1 message"),
        (_packed(**{"from": ""}), "names no sender"),
        (_packed(nonce="xyz"), "nonce is not 32 hex"),
        (_packed(ts="1"), "timestamp is not a number"),
        (_packed(ts=float("nan")), "timestamp is not a number"),
        (_packed(ts=True), "timestamp is not a number"),
        (_packed(body=[1]), "body is not a map"),
        (b"\x00" * (env.MAX_MESSAGE_BYTES + 1), "exceeds"),
    ],
)
def test_it_refuses_anything_but_a_well_formed_envelope(data, message):
    with pytest.raises(env.EnvelopeError, match=message):
        env.unseal(data)


def test_it_refuses_to_seal_an_oversized_body():
    with pytest.raises(env.EnvelopeError, match="exceeds"):
        env.seal("bob", {"blob": "x" * env.MAX_MESSAGE_BYTES})


def test_it_checks_the_timestamp_window_both_ways():
    sealed = env.unseal(env.seal("bob", {}, timestamp=1000.0))
    env.check_fresh(sealed, 120, now=1100.0)
    with pytest.raises(env.EnvelopeError, match="stale timestamp: 200 s behind"):
        env.check_fresh(sealed, 120, now=1200.0)
    with pytest.raises(env.EnvelopeError, match="stale timestamp: 200 s ahead"):
        env.check_fresh(sealed, 120, now=800.0)
