"""Reconnection of a network link, with the interleavings forced: nothing lost, repeated or
reordered, whatever the moment of the cut.

Two `Transport`s (alice sends, bob receives) are wired together without sockets: alice's
request generator (`_stream`) feeds bob's stream reader (`_pump`) directly and bob's
acknowledgements go straight back, so a test decides exactly after which gRPC message a
connection breaks, and which thread runs when. Chunks are 64 bytes, so every frame spans
several messages and a cut can fall inside a frame, inside a resend, or between an
acknowledgement and the next frame.
"""

from __future__ import annotations

import random
import threading
from collections import deque

import numpy as np
import pytest

from core.comm import frames, incoming, wire
from core.comm.network import Transport
from core.comm.wire import WELCOME, control, frame_messages, parse_control
from core.errors import LinkError

pytestmark = pytest.mark.timeout(120)
ADDRESSES = {"alice": "127.0.0.1:1", "bob": "127.0.0.1:2"}
SIZES = [20, 1, 35, 8, 50, 3, 12]  # words per array: frames of 1 to 7 chunks


class Cut(ConnectionResetError):
    """The connection broke (what gRPC's request iterator raises, in kind)."""


class Wire:
    """alice -> bob through simulated streams; `connect` is one reconnection."""

    def __init__(self, monkeypatch, sizes=SIZES, ack_every: int = 1):
        monkeypatch.setattr(wire, "CHUNK_BYTES", 64)
        monkeypatch.setattr(incoming, "ACK_FRAMES", ack_every)  # bob acknowledges every n frames
        # A broken stream would start a timer failing the link after the grace period; here
        # the test reconnects itself, so the timer is irrelevant (and would linger).
        monkeypatch.setattr(Transport, "_inbound_lost", lambda *args: None)
        self.alice = Transport("alice", ADDRESSES, None, insecure_plaintext=True)
        self.bob = Transport("bob", ADDRESSES, None, insecure_plaintext=True)
        self.outbound = self.alice.peers["bob"]  # what alice sends to bob
        self.inbound = self.bob.peers["alice"]  # what bob received from alice
        self.sent = [np.arange(n, dtype=np.uint64) * np.uint64(i + 1) for i, n in enumerate(sizes)]
        for array in self.sent:
            self.alice.send("bob", "main", array)
        self.outbound.close_outbound()  # alice's streams end once every frame is handed out

    def connect(self):
        """A new stream: bob's welcome names the frame it expects, alice resumes from there."""
        generation, expected = self.inbound.new_inbound(next(self.outbound.dials))
        state, welcomed = {}, threading.Event()
        state["gen"], state["resend"] = self.outbound.resume(expected, "alice")
        welcomed.set()
        requests = self.alice._stream(self.outbound, b"H", state, welcomed)
        assert next(requests) == b"H"
        return requests, generation

    def carry(self, requests, generation, cut: int | None = None, in_flight: int = 0) -> int:
        """Deliver the stream's messages to bob, acknowledgements to alice; messages written.

        The stream breaks when alice writes message `cut`; the `in_flight` messages written
        before it were still on the way and are lost with the connection.
        """
        written = 0

        def until_cut():
            nonlocal written
            window = deque()
            for message in requests:
                if written == cut:
                    raise Cut
                written += 1
                window.append(message)
                if len(window) > in_flight:
                    yield window.popleft()
            yield from window

        for reply in self.bob._pump(self.inbound, until_cut(), generation):
            self.outbound.ack(parse_control(reply)["seq"])
        return written

    def received(self) -> list:
        assert self.inbound.error is None, self.inbound.error
        return [obj for obj, _size in self.inbound.inbox.get("main", [])]

    def assert_everything_arrived_once_in_order(self) -> None:
        got = self.received()
        assert len(got) == len(self.sent), f"{len(got)} frames arrived of {len(self.sent)}"
        for index, (array, expected) in enumerate(zip(got, self.sent, strict=True)):
            np.testing.assert_array_equal(array, expected, err_msg=f"frame {index}")


def messages_in_one_stream() -> int:
    """How many gRPC messages carry every frame of `SIZES` with 64-byte chunks."""
    total = 0
    for size in SIZES:
        parts = frames.encode(np.zeros(size, dtype=np.uint64))
        total += sum(1 for _ in frame_messages(0, parts, frames.frame_length(parts), b"main"))
    return total


@pytest.fixture
def total_messages(monkeypatch):
    monkeypatch.setattr(wire, "CHUNK_BYTES", 64)
    return messages_in_one_stream()


def test_one_stream_carries_every_frame(monkeypatch, total_messages):
    link = Wire(monkeypatch)
    assert link.carry(*link.connect()) == total_messages
    link.assert_everything_arrived_once_in_order()


@pytest.mark.parametrize(("ack_every", "in_flight"), [(1, 0), (3, 0), (3, 6), (32, 12)])
def test_a_cut_at_any_message_then_a_second_cut_at_any_message_loses_nothing(
    monkeypatch, total_messages, ack_every, in_flight
):
    """Every pair of cut points: the second stream breaks again, also while it resends."""
    for first in range(total_messages + 1):
        for second in range(total_messages + 1):
            link = Wire(monkeypatch, ack_every=ack_every)
            link.carry(*link.connect(), cut=first, in_flight=in_flight)
            link.carry(*link.connect(), cut=second, in_flight=in_flight)
            link.carry(*link.connect())
            link.assert_everything_arrived_once_in_order()


@pytest.mark.parametrize("seed", range(40))
def test_many_cuts_at_random_points_lose_nothing(monkeypatch, seed):
    rng = random.Random(seed)
    sizes = [rng.randint(0, 40) for _ in range(12)]
    link = Wire(monkeypatch, sizes=sizes, ack_every=rng.randint(1, 5))
    for _ in range(rng.randint(1, 8)):
        link.carry(*link.connect(), cut=rng.randint(0, 12), in_flight=rng.randint(0, 8))
    link.carry(*link.connect())
    link.assert_everything_arrived_once_in_order()


def test_a_frame_completed_by_a_superseded_stream_is_not_delivered_after_the_new_streams(
    monkeypatch,
):
    """The old stream completes frame 0 while alice's new stream is being welcomed.

    The welcome's expected number and the delivery of frame 0 must be one step: if bob says
    "expecting 1" before frame 0 is in his inbox, the new stream's frame 1 can get there first.
    The hook runs the whole reconnection at the worst moment: after frame 0 was counted.
    """
    link = Wire(monkeypatch, sizes=[20, 30])
    decode, reconnection = frames.decode, []

    def reconnect_now():
        link.carry(*link.connect())

    def decode_with_a_reconnection(frame, max_bytes=frames.DEFAULT_MAX_FRAME_BYTES):
        if not reconnection:  # the old stream's frame 0: reconnect before it is delivered
            reconnection.append(threading.Thread(target=reconnect_now))
            reconnection[0].start()
            reconnection[0].join(timeout=1.0)  # finishes unless delivery holds it back
        return decode(frame, max_bytes)

    monkeypatch.setattr(frames, "decode", decode_with_a_reconnection)
    link.carry(*link.connect())
    reconnection[0].join(timeout=10)
    assert not reconnection[0].is_alive()
    link.assert_everything_arrived_once_in_order()


def test_resuming_from_a_frame_that_was_already_dropped_fails_loudly(monkeypatch):
    link = Wire(monkeypatch, sizes=[5, 5, 5])
    link.carry(*link.connect())  # all delivered and acknowledged
    with pytest.raises(LinkError, match="expects frame 1 but 'alice' holds frames from 3"):
        link.outbound.resume(1, "alice")


def test_resuming_from_a_frame_never_sent_fails_loudly(monkeypatch):
    link = Wire(monkeypatch, sizes=[5, 5, 5])
    link.carry(*link.connect(), cut=2)  # frame 0 delivered, frame 1 under way
    with pytest.raises(LinkError, match="expects frame 9 but 'alice' sent frames up to"):
        link.outbound.resume(9, "alice")


def test_a_welcome_arriving_after_its_dial_was_abandoned_opens_no_stream(monkeypatch):
    """Only one stream may resume: else frames could go to a stream the peer no longer reads."""
    link = Wire(monkeypatch, sizes=[5])
    welcome = control(WELCOME, {"ok": True, "next": 0})
    late = {"lock": threading.Lock(), "abandoned": True}
    link.alice._read_replies(link.outbound, iter([welcome]), late, threading.Event())
    assert "gen" not in late
    assert link.outbound.generation == 0
    timely = {"lock": threading.Lock()}
    link.alice._read_replies(link.outbound, iter([welcome]), timely, threading.Event())
    assert timely["gen"] == link.outbound.generation == 1


def test_the_late_hello_of_an_abandoned_dial_does_not_supersede_the_current_stream():
    transport = Transport("bob", ADDRESSES, None, insecure_plaintext=True)
    inbound = transport.peers["alice"]
    assert inbound.new_inbound(4) == (1, 0)
    assert inbound.new_inbound(3) is None  # dial 3 was abandoned before dial 4
    assert inbound.new_inbound(4) is None
    assert inbound.in_generation == 1
    assert inbound.new_inbound(5) == (2, 0)
