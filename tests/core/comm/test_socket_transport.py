"""The socket transport (`core.comm.socket_transport`) inside one process, and its messages.

Two `SocketTransport`s on loopback ports with throwaway certificates; cuts go through
`benchmarks/wan_relay.Relay`. Cross-process faults (kills, certificates, versions, garbage) run
over each transport in tests/core/network (`test_network_faults.py`, with `link_transport`);
the gRPC transport's own tests are test_network_link.py and test_reconnection.py.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.comm import sockets
from core.comm.socket_transport import MAX_HANDSHAKES_PER_HOST, SocketTransport
from core.comm.tls import TlsConfig, make_certificate
from core.comm.transports import DEFAULT_TRANSPORT, transport_class
from core.comm.wire import ACK, CHUNK_HEAD, DATA, control, data_head
from core.errors import ConfigError, LinkError

pytestmark = pytest.mark.timeout(90)
PARTIES = ["alice", "bob"]


@pytest.fixture
def make_pair(addresses_of, tls_of):
    def make(addresses=None, dialled=None, tls=None, **options):
        """alice's and bob's socket transports; `dialled[p]` is the address p's peer dials."""
        addresses = addresses or addresses_of(PARTIES)
        tls = tls_of(PARTIES) if tls is None else tls
        transports = {}
        for party in PARTIES:
            view = {p: (dialled or {}).get(p, addresses[p]) for p in PARTIES}
            view[party] = addresses[party]
            options = {"timeout": 20, "connect_timeout": 10, **options}
            transports[party] = SocketTransport(party, view, tls[party], **options)
        return transports

    return make


@pytest.fixture
def pair(linked):
    return linked("socket")


def _links(pair, channel="main"):
    return pair["alice"].link(PARTIES, channel), pair["bob"].link(PARTIES, channel)


# ----- the link over sockets ------------------------------------------------------------------
def test_sockets_are_the_default_transport_and_grpc_is_chosen_by_name():
    assert DEFAULT_TRANSPORT == "socket"
    assert transport_class() is SocketTransport
    assert transport_class("grpc").__name__ == "Transport"
    with pytest.raises(ConfigError, match="unknown link transport 'http'"):
        transport_class("http")


def test_it_delivers_in_order_per_channel_with_typed_values(pair):
    a, b = _links(pair)
    side = pair["bob"].link(PARTIES, "side")
    big = np.arange(3_000_001, dtype=np.uint64)
    a.send(1, ("first", 1))
    pair["alice"].link(PARTIES, "side").send(1, "on the side")
    a.send(1, [big, np.float32([1.5, -2.0])])
    a.send(1, {"last": [np.float64(2.5), b"\x00" * 10_000, 2**70]})
    assert side.recv(0) == "on the side"
    assert b.recv(0) == ("first", 1)
    got, small = b.recv(0)
    np.testing.assert_array_equal(got, big)
    np.testing.assert_array_equal(small, np.float32([1.5, -2.0]))
    # decoded in place in the buffer the frame was received into: aligned, read-only
    assert got.flags.aligned
    assert not got.flags.writeable
    assert not got.flags.owndata
    assert b.recv(0) == {"last": [2.5, b"\x00" * 10_000, 2**70]}


def test_both_directions_at_once_and_acknowledgements_free_the_senders_copies(pair):
    a, b = _links(pair)
    arrays = [np.full(200_000, i, dtype=np.uint64) for i in range(40)]

    def send_all(link, peer):
        for array in arrays:
            link.send(peer, array)

    senders = [
        threading.Thread(target=send_all, args=(a, 1)),
        threading.Thread(target=send_all, args=(b, 0)),
    ]
    for thread in senders:
        thread.start()
    for i in range(40):
        np.testing.assert_array_equal(b.recv(0), arrays[i])
        np.testing.assert_array_equal(a.recv(1), arrays[i])
    for thread in senders:
        thread.join()
    # Receivers acknowledge every 8 MB (five of these frames): all but the last few are freed.
    for transport in pair.values():
        kept = [frame.seq for frame in next(iter(transport.peers.values())).unacked]
        assert kept, "the frames since the last acknowledgement are kept"
        assert min(kept) >= 40 - 6, kept
        assert max(kept) == 39


def test_a_link_that_failed_takes_no_frame_from_a_reconnection(pair):
    """alice sends a garbage frame, then a good one. bob's link to her fails on the garbage and
    his side of her connection ends; she dials again, as after any break, and is refused with
    why: the good frame is never delivered after the bad one (before, the reconnection was
    welcomed and resent it, and a receiver that came late read it), and alice reads bob's
    refusal as his abort."""
    body = bytes(range(256)) * 4
    garbage = DATA + CHUNK_HEAD.pack(0, len(body), 0, 4) + b"main" + body
    alice, bob = _links(pair)
    pair["alice"].peers["bob"].offer(garbage, 5.0, "alice")
    alice.send(1, "after the garbage")
    bobs = pair["alice"].peers["bob"]
    with bobs.cond:  # alice's redial was answered
        assert bobs.cond.wait_for(lambda: bobs.error is not None, timeout=10), "not refused"
    assert bobs.error.startswith("'bob' aborted: 'bob': 'alice' sent a malformed frame")
    with pytest.raises(LinkError, match="'bob': 'alice' sent a malformed frame"):
        bob.recv(0)


def test_a_connection_that_says_nothing_or_garbage_holds_up_nobody(
    make_pair, start_all, close_all, addresses_of
):
    addresses = addresses_of(PARTIES)
    transports = make_pair(addresses)
    transports["bob"]._listen()
    silent = socket.create_connection(sockets.split_address(addresses["bob"]))
    garbage = socket.create_connection(sockets.split_address(addresses["bob"]))
    garbage.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" * 4)  # a gRPC client, say
    transports["bob"]._listen = lambda: None  # already listening
    try:
        start_all(transports.values())
        a, b = _links(transports)
        a.send(1, np.arange(5))
        np.testing.assert_array_equal(b.recv(0), np.arange(5))
    finally:
        silent.close()
        garbage.close()
        close_all(transports.values())


def test_connections_from_one_host_that_say_nothing_hold_a_bounded_number_of_threads(
    make_pair, start_all, close_all
):
    transports = make_pair()
    bob = transports["bob"]
    bob._listen()
    host, port = sockets.split_address(bob.addresses["bob"])
    silent = [socket.create_connection((host, port)) for _ in range(MAX_HANDSHAKES_PER_HOST + 8)]
    try:
        deadline = time.monotonic() + 5
        while sum(bob._handshakes.values()) < MAX_HANDSHAKES_PER_HOST:
            assert time.monotonic() < deadline, bob._handshakes
            time.sleep(0.02)
        assert bob._handshakes == {"127.0.0.1": MAX_HANDSHAKES_PER_HOST}
        for extra in silent[MAX_HANDSHAKES_PER_HOST:]:  # closed at once, not served
            extra.settimeout(5)
            assert extra.recv(1) == b""
    finally:
        for sock in silent:
            sock.close()
    bob._listen = lambda: None  # already listening
    start_all(transports.values())  # the slots are free again once those connections end
    try:
        a, b = _links(transports)
        a.send(1, "through")
        assert b.recv(0) == "through"
    finally:
        close_all(transports.values())
    assert bob._handshakes == {}


def test_a_listener_with_an_unpinned_certificate_is_refused_naming_tls(
    make_pair, start_all, tls_of
):
    tls = tls_of(PARTIES)
    impostor_key, impostor_cert = make_certificate("bob")
    tls["bob"] = TlsConfig(impostor_key, impostor_cert, tls["bob"].peer_certs)
    transports = make_pair(tls=tls, connect_timeout=3)
    with pytest.raises(LinkError, match="TLS handshake failed") as failure:
        start_all(transports.values())
    assert "'bob'" in str(failure.value) or "'alice'" in str(failure.value)


def test_a_key_that_does_not_match_its_certificate_is_a_config_error(addresses_of, tls_of):
    tls = tls_of(PARTIES)
    other_key, _ = make_certificate("alice")
    wrong = TlsConfig(other_key, tls["alice"].cert, tls["alice"].peer_certs)
    with pytest.raises(ConfigError, match="cannot use these TLS certificates and key"):
        SocketTransport("alice", addresses_of(PARTIES), wrong)


# ----- reconnection ---------------------------------------------------------------------------
def _relay_type():
    benchmarks = str(Path(__file__).resolve().parents[3] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    from wan_relay import Relay

    return Relay


@pytest.mark.parametrize("seed", range(3))
def test_cut_connections_are_restored_and_nothing_is_lost_repeated_or_reordered(
    seed, make_pair, start_all, close_all, addresses_of
):
    rng = np.random.default_rng(seed)
    addresses = addresses_of(PARTIES)
    relay_type = _relay_type()
    relays = {
        p: relay_type(addresses[p], rate_mbit=10_000, rtt_ms=0.2).__enter__() for p in PARTIES
    }
    transports = make_pair(addresses, {p: r.address for p, r in relays.items()}, reconnect_grace=10)
    sizes = [int(s) for s in rng.integers(0, 300_000, size=60)]
    sent = [np.arange(n, dtype=np.uint64) * np.uint64(i + 1) for i, n in enumerate(sizes)]
    done = threading.Event()

    def cutter():
        while not done.wait(float(rng.uniform(0.02, 0.15))):
            for relay in relays.values():
                relay.cut()

    try:
        start_all(transports.values())
        a, b = _links(transports)
        cuts = threading.Thread(target=cutter, daemon=True)
        cuts.start()
        sender = threading.Thread(target=lambda: [a.send(1, x) for x in sent])
        echo = threading.Thread(target=lambda: [b.send(0, int(x.sum())) for x in sent])
        sender.start()
        echo.start()
        for index, expected in enumerate(sent):
            np.testing.assert_array_equal(b.recv(0), expected, err_msg=f"frame {index}")
            assert a.recv(1) == int(expected.sum()), index
        sender.join()
        echo.join()
        done.set()
        cuts.join()
        assert transports["alice"].reconnections + transports["bob"].reconnections >= 1
    finally:
        done.set()
        close_all(transports.values())
        for relay in relays.values():
            relay.__exit__()


def test_a_peer_that_does_not_come_back_fails_the_link_after_the_grace_period(make_pair, start_all):
    transports = make_pair(reconnect_grace=1, timeout=30)
    start_all(transports.values())
    try:
        transports["bob"].close(graceful=False)  # bob's process dies without a goodbye
        started = time.monotonic()
        with pytest.raises(LinkError, match="lost connection to 'bob'"):
            transports["alice"].link(PARTIES, "main").recv(1)
        assert time.monotonic() - started < 10
    finally:
        transports["alice"].close(graceful=False)


# ----- messages on a socket -------------------------------------------------------------------
@pytest.fixture
def socket_pair():
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


def _record(message: bytes) -> bytes:
    return sockets.LENGTH.pack(len(message)) + message


def test_a_frame_is_read_into_an_aligned_buffer(socket_pair):
    left, right = socket_pair
    parts = [b"PPF1-head", memoryview(np.arange(9, dtype=np.uint64)).cast("B")]
    total = sum(len(p) for p in parts)
    writer = threading.Thread(target=sockets.write_frame, args=(left, 7, parts, total, b"ch"))
    writer.start()
    message = sockets.read_message(right, 1 << 20)
    writer.join()
    seq, length, offset, name_len = CHUNK_HEAD.unpack_from(message, 1)
    assert (seq, length, offset, name_len) == (7, total, 0, 2)
    body = message[1 + CHUNK_HEAD.size + name_len :]
    assert bytes(body) == b"".join(bytes(p) for p in parts)
    assert np.frombuffer(body, np.uint8).ctypes.data % 8 == 0


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (_record(ACK + b"\x00" * (sockets.MAX_CONTROL_BYTES + 1)), "control message of 65538"),
        (_record(b""), "empty message"),
        (_record(data_head(0, 1 << 40, 0, b"main")), "frame of 1099511627776 bytes exceeds"),
        (_record(data_head(0, 4, 0, b"main") + b"12345678"), "chunk of 8 bytes for a frame of 4"),
        (_record(DATA + CHUNK_HEAD.pack(0, 4, 0, 200)), "malformed channel name"),
        (_record(DATA + b"\x00" * 5), "truncated chunk"),
    ],
)
def test_a_malformed_or_oversized_message_is_a_link_error_before_any_allocation(
    socket_pair, record, problem
):
    left, right = socket_pair
    left.sendall(record)
    with pytest.raises(LinkError, match=problem):
        sockets.read_message(right, 1 << 30)


def test_a_stream_that_ends_between_messages_or_inside_one_says_which(socket_pair):
    left, right = socket_pair
    left.sendall(_record(control(ACK, {"seq": 3})) + struct.pack(">Q", 100) + b"K")
    assert sockets.read_message(right, 1 << 20)[:1] == ACK
    left.shutdown(socket.SHUT_WR)
    with pytest.raises(ConnectionResetError, match="ended after 1 of"):
        sockets.read_message(right, 1 << 20)
    other_left, other_right = socket.socketpair()
    other_left.close()
    with pytest.raises(sockets.EndOfStream):
        sockets.read_message(other_right, 1 << 20)
    other_right.close()


def test_closing_ends_the_readers_of_connections_the_peer_keeps_open(make_pair, start_all):
    transports = make_pair()
    start_all(transports.values())
    alice = transports["alice"]
    try:
        assert alice._accepted, "bob's connection to alice is open"
        alice.close(graceful=False)
        deadline = time.monotonic() + 5
        while alice._accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alice._accepted, "a reader still holds a connection after close"
    finally:
        transports["bob"].close(graceful=False)


def test_a_peer_on_the_grpc_transport_is_refused_naming_the_setting(addresses_of, tls_of):
    addresses, tls = addresses_of(PARTIES), tls_of(PARTIES)
    alice = SocketTransport("alice", addresses, tls["alice"], connect_timeout=4)
    bob = transport_class("grpc")("bob", addresses, tls["bob"], connect_timeout=4)
    failures = {}

    def start(transport):
        try:
            transport.start()
        except LinkError as exc:
            failures[transport.party] = str(exc)

    threads = [threading.Thread(target=start, args=(t,)) for t in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "'bob' does not speak the socket link transport" in failures["alice"]
    assert "every party must use the same link_transport" in failures["alice"]
    # gRPC learns it from the socket listener's TLS handshake, which chose no HTTP/2
    assert "'alice' does not speak the grpc link transport" in failures["bob"]
    assert "every party must use the same link_transport" in failures["bob"]


def test_an_address_in_use_is_a_link_error_with_its_cause(addresses_of):
    addresses = addresses_of(PARTIES)
    taken = sockets.listen(addresses["alice"])
    try:
        with pytest.raises(LinkError, match="'alice' cannot listen on") as failure:
            SocketTransport(
                "alice", addresses, None, insecure_plaintext=True, connect_timeout=1
            ).start()
        assert failure.value.cause.code == "address_in_use"
    finally:
        taken.close()
