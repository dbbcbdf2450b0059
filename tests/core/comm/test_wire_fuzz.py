"""Garbage from a peer, fuzzed: every decoder of what arrives over a link ends with a value or a
`LinkError` (a broken stream: `EndOfStream` or `ConnectionResetError`), never another
exception, a crash or a hang.

The decoders: typed frames (`core.comm.frames.decode`, with extension values of every code and
random contents), messages on a socket (`core.comm.sockets.read_message`), data chunks and
control maps (`core.comm.wire`), a peer's reassembly of chunks (`core.comm.peer.Peer`) and the
hello a listener checks (`core.comm.incoming`). Well-formed frames round-trip in
tests/core/comm/test_frames.py.
"""

from __future__ import annotations

import socket
import threading

import msgpack
import numpy as np
import pytest
from hand_frames import frame_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.comm import frames, sockets
from core.comm.causes import LinkCause
from core.comm.frames import MAX_NESTING, decode, encode_bytes
from core.comm.network import Transport
from core.comm.peer import Peer
from core.comm.wire import HELLO, control, data_head, parse_chunk, parse_control
from core.errors import LinkError

pytestmark = pytest.mark.timeout(120)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLAIN = (type(None), bool, int, float, str, bytes, list, dict, tuple, np.ndarray, np.generic)


# Trees a hostile peer could pack: msgpack values and extension values of every code (known
# and unknown) holding either random bytes or a packed tree of their own.
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(1 << 63), (1 << 64) - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=40)
    | st.sampled_from(["<u8", "|O", "<u128", "|b1", "<f8", ">u8", "V8"])
)


def _extensions(inner):
    payload = st.binary(max_size=40) | inner.map(lambda tree: msgpack.packb(tree))
    return st.builds(msgpack.ExtType, st.integers(0, 7), payload)


_hostile = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.integers(-3, 3), inner, max_size=3)
        | _extensions(inner)
    ),
    max_leaves=16,
)


def _value_or_link_error(decoder, *args):
    try:
        return decoder(*args)
    except LinkError:
        return None


@FUZZ
@given(_hostile, st.lists(st.binary(max_size=64), max_size=4))
def test_a_hostile_tree_with_any_extensions_decodes_to_typed_values_or_a_link_error(tree, buffers):
    out = _value_or_link_error(decode, frame_bytes(msgpack.packb(tree), buffers))
    stack = [out]
    while stack:  # whatever decodes is made of typed values only (no object arrays)
        value = stack.pop()
        assert isinstance(value, PLAIN), type(value)
        if isinstance(value, np.ndarray):
            assert value.dtype != object
            assert not value.flags.writeable
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())


def _nested_tuples(depth: int) -> bytes:
    tree = msgpack.packb(1)
    for _ in range(depth):
        tree = msgpack.packb(msgpack.ExtType(frames.EXT_TUPLE, b"\x91" + tree))
    return frame_bytes(tree, [])


def test_values_nested_deeper_than_the_limit_are_a_link_error_not_a_crash():
    """Each nested extension value is a msgpack call on the C stack (~40 KB): 200 nested tuples,
    a 1 KB frame, used to overflow a reader thread's stack and kill the process."""
    outcome = {}

    def read():  # in a thread, as the transports' readers do (their stacks are a thread's)
        try:
            decode(_nested_tuples(5000))
        except LinkError as exc:
            outcome["error"] = str(exc)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert outcome["error"] == f"frame nests values more than {MAX_NESTING} deep"


def test_the_sender_refuses_what_the_receiver_would_and_sends_the_deepest_allowed():
    def nested(depth):
        value = np.arange(3)
        for _ in range(depth):
            value = (value,)
        return value

    deepest = decode(encode_bytes(nested(MAX_NESTING - 1)))  # tuples, then the array inside
    for _ in range(MAX_NESTING - 1):
        deepest = deepest[0]
    np.testing.assert_array_equal(deepest, np.arange(3))
    with pytest.raises(LinkError, match=f"nesting tuples more than {MAX_NESTING} deep"):
        encode_bytes(nested(MAX_NESTING + 1))


@FUZZ
@given(st.binary(max_size=200))
def test_a_chunk_or_a_control_message_of_garbage_is_parsed_or_a_link_error(data):
    for message in (data, b"D" + data, b"K" + data, b"H" + data):
        _value_or_link_error(parse_chunk, message)
        body = _value_or_link_error(parse_control, message)
        assert body is None or isinstance(body, dict)


def _read_after(data: bytes, limit: int = 1 << 16):
    """What `read_message` makes of `data` followed by the end of the stream."""
    left, right = socket.socketpair()
    right.settimeout(10)  # a read that waits for bytes that never come fails the test
    try:
        writer = threading.Thread(target=lambda: (left.sendall(data), left.close()))
        writer.start()
        messages = []
        try:
            while True:
                messages.append(sockets.read_message(right, limit))
        except (LinkError, sockets.EndOfStream, ConnectionResetError):
            pass  # a malformed message, or the stream ended between or inside messages
        writer.join()
        return messages
    finally:
        left.close()
        right.close()


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_on_a_socket_are_messages_or_a_link_error_or_the_streams_end(data):
    for message in _read_after(data):
        if message[:1] == b"D":  # a data message: its frame decodes or is refused
            *_, body = parse_chunk(message)
            _value_or_link_error(decode, body, 1 << 16)


@FUZZ
@given(st.integers(0, (1 << 64) - 1), st.integers(0, 255), st.binary(max_size=100))
def test_a_length_prefix_of_any_size_never_allocates_it_or_waits(length, kind, rest):
    """Lengths beyond the limit are refused before anything is allocated; shorter claims end
    when the stream does (`_read_after` would time out on a read that waits)."""
    _read_after(sockets.LENGTH.pack(length) + bytes([kind]) + rest)


@FUZZ
@given(st.data())
def test_chunks_of_garbage_frames_reach_a_peer_as_a_link_error_or_aframe_bytes(data):
    peer = Peer("bob", "127.0.0.1:1")
    generation, _ = peer.new_inbound(0)
    for seq in range(data.draw(st.integers(1, 3))):
        body = data.draw(st.binary(max_size=120) | st.just(encode_bytes({"i": seq})))
        total = data.draw(st.integers(0, 200) | st.just(len(body)))
        offset = data.draw(st.integers(0, 8) | st.just(0))
        message = data_head(seq, total, offset, b"main") + body
        try:
            peer.deliver_chunk(message, generation, 1 << 16)
        except LinkError:
            return
    while peer.inbox.get("main"):
        obj, _ = peer.inbox["main"].popleft()
        assert isinstance(obj, PLAIN)


_hello_values = (
    st.none()
    | st.integers(-(1 << 63), (1 << 63) - 1)
    | st.text(max_size=6)
    | st.lists(st.text(max_size=6))
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "v": st.just(2) | _hello_values,
            "from": st.sampled_from(["alice", "bob"]) | _hello_values,
            "to": st.just("alice") | _hello_values,
            "parties": st.just(["alice", "bob"]) | _hello_values,
            "session": _hello_values,
            "dial": _hello_values,
        },
    )
)
def test_a_hello_of_any_shape_is_welcomed_or_refused_with_a_cause(hello):
    transport = Transport(
        "alice", {"alice": "127.0.0.1:1", "bob": "127.0.0.1:2"}, None, insecure_plaintext=True
    )
    peer, problem = transport._check_hello(control(HELLO, hello), context=None)
    assert problem is None or isinstance(problem, LinkCause)
    if problem is None:
        assert peer is transport.peers["bob"]
        transport._hello_dial(control(HELLO, hello))
