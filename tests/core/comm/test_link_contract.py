"""What every network link transport promises (`core.comm.transports`: raw TLS sockets and gRPC),
each test run over both, in one process on loopback ports.

- a link counts its traffic as the in-memory hub does, wakes a receiver with the peer's abort,
  and refuses a frame over the receiver's limit;
- plaintext only with an explicit `insecure_plaintext=True`: a missing or mistyped setting is
  refused, never a plaintext link;
- peers trusted through a CA the parties agree on, as well as pinned certificates;
- flow control: a receiver that stops reading holds a bounded amount of unread messages, and
  its sender blocks, then fails naming it;
- traffic statistics equal the in-memory hub's for the same kernel, per party: bytes and
  messages per pair and rounds;
- large messages: gRPC chunks stay under its message limit at 1e8 words, and a message over
  the frame limit is refused at the sender, naming the peer.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.comm import CommStats, LocalLinkHub, frames, run_spmd, wire
from core.comm import peer as peer_module
from core.comm.network import Transport
from core.comm.tls import TlsConfig
from core.comm.transports import transport_class
from core.device.deployment import Deployment
from core.errors import ConfigError, LinkError
from core.mpc.config import RuntimeConfig
from core.mpc.context import MPCContext
from core.mpc.correlated import first_party_triples
from core.mpc.fixedpoint import FixedPoint
from core.mpc.kernels import activations, arith, compare
from core.mpc.protocols import make_protocol

pytestmark = pytest.mark.timeout(120)
TRANSPORTS = ["socket", "grpc"]
PARTIES = ["alice", "bob"]


@pytest.fixture(params=TRANSPORTS)
def pair(request, linked):
    """alice's and bob's transports of each kind, started concurrently."""
    return linked(request.param, timeout=10, connect_timeout=10)


# ----- what a link says to its user ---------------------------------------------------------------
def test_it_counts_traffic_like_the_in_memory_hub(pair):
    a, b = pair["alice"].link(PARTIES, "main"), pair["bob"].link(PARTIES, "main")
    a.send(1, np.zeros(1000, dtype=np.uint64))
    b.recv(0)
    b.send(0, np.zeros(10, dtype=np.uint64))
    a.recv(1)
    assert pair["alice"].stats.snapshot()["pairs"] == {"alice->bob": {"bytes": 8000, "messages": 1}}
    assert pair["bob"].stats.snapshot()["rounds"] == {"bob": 1}


def test_an_abort_wakes_the_peer_with_the_reason(pair):
    link = pair["bob"].link(PARTIES, "main")
    pair["alice"].abort("'alice' failed with ValueError")
    with pytest.raises(LinkError, match="'alice' aborted: 'alice' failed with ValueError"):
        link.recv(0)


def test_a_frame_over_the_limit_is_refused_by_the_receiver(pair):
    pair["bob"].max_frame_bytes = 4096
    pair["alice"].link(PARTIES, "main").send(1, np.zeros(10_000))
    with pytest.raises(LinkError, match="'alice' sent a malformed frame: frame of 80"):
        pair["bob"].link(PARTIES, "main").recv(0)


# ----- plaintext only when asked for ------------------------------------------------------------
@pytest.mark.parametrize("name", TRANSPORTS)
@pytest.mark.parametrize(
    ("tls", "insecure", "message"),
    [
        (None, False, "plaintext links only with insecure_plaintext=True"),
        (None, "false", "insecure_plaintext must be True or False, got 'false'"),
        (None, 1, "insecure_plaintext must be True or False, got 1"),
        ("pinned", True, "either tls or insecure_plaintext=True, not both"),
        ({"key": "k", "cert": "c"}, False, "tls must be a TlsConfig"),
    ],
)
def test_a_transport_is_plaintext_only_with_the_explicit_flag(
    name, tls, insecure, message, addresses_of, tls_of
):
    addresses = addresses_of(PARTIES)
    tls = tls_of(PARTIES)["alice"] if tls == "pinned" else tls
    with pytest.raises(ConfigError, match=message):
        transport_class(name)("alice", addresses, tls, insecure_plaintext=insecure)


@pytest.mark.parametrize("insecure", ["false", "no", 0, None])
def test_a_deployment_without_tls_refuses_anything_but_true(insecure):
    config = {"parties": {"a": {"address": "127.0.0.1:1"}, "b": {"address": "127.0.0.1:2"}}}
    with pytest.raises(ConfigError, match="insecure_plaintext"):
        Deployment(dict(config, self_party="a"), None, insecure_plaintext=insecure)


@pytest.mark.parametrize("name", TRANSPORTS)
def test_plaintext_links_work_when_asked_for(name, addresses_of, start_all, close_all):
    addresses = addresses_of(PARTIES)
    kind = transport_class(name)
    transports = {p: kind(p, addresses, None, insecure_plaintext=True) for p in PARTIES}
    try:
        start_all(transports.values())
        assert all(t.tls is None for t in transports.values())
        transports["alice"].link(PARTIES, "main").send(1, np.arange(4))
        np.testing.assert_array_equal(transports["bob"].link(PARTIES, "main").recv(0), range(4))
    finally:
        close_all(transports.values())


# ----- trust through a CA -----------------------------------------------------------------------
@pytest.mark.parametrize("name", TRANSPORTS)
def test_peers_issued_by_an_agreed_ca_link_up(name, linked):
    transports = linked(name, ca=True)
    assert all(t.tls.ca is not None and not t.tls.peer_certs for t in transports.values())
    transports["bob"].link(PARTIES, "main").send(0, ("over", np.float64(1.5)))
    assert transports["alice"].link(PARTIES, "main").recv(1) == ("over", 1.5)


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_peer_whose_certificate_another_ca_issued_is_refused(
    name, addresses_of, tls_of, start_all, close_all
):
    addresses, ours = addresses_of(PARTIES), tls_of(PARTIES, ca=True)
    ours["bob"] = tls_of(["bob"], ca=True)["bob"]  # a key pair from a CA alice does not trust
    kind = transport_class(name)
    transports = [kind(p, addresses, ours[p], connect_timeout=3) for p in PARTIES]
    try:
        with pytest.raises(LinkError, match="TLS handshake failed"):
            start_all(transports)
    finally:
        close_all(transports, graceful=False)


# ----- flow control -------------------------------------------------------------------------------
FRAME_WORDS = 64 << 10  # 512 KB frames


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_receiver_that_stops_reading_holds_a_bounded_backlog_and_blocks_its_sender(
    name, linked, monkeypatch
):
    """bob reads nothing while alice sends 40 MB: bob keeps at most his limit (plus the frame
    that crossed it) of unread messages, and alice's sends block instead of piling up; once
    bob reads, everything arrives in order."""
    monkeypatch.setattr(peer_module, "RECV_BUFFER_BYTES", 1 << 20)
    transports = linked(name, timeout=60)
    sender = transports["alice"].link(PARTIES, "main")
    receiver = transports["bob"].link(PARTIES, "main")
    frames = [np.full(FRAME_WORDS, i, dtype=np.uint64) for i in range(80)]
    sent = []

    def send_all():
        for array in frames:
            sender.send(1, array)
            sent.append(1)

    thread = threading.Thread(target=send_all, daemon=True)
    thread.start()
    time.sleep(2.0)  # alice sends as fast as the link lets her
    backlog = transports["bob"].peers["alice"].queued
    assert backlog <= (1 << 20) + frames[0].nbytes + 1024, backlog
    assert thread.is_alive(), "alice sent 40 MB into a receiver that reads nothing"
    assert len(sent) < len(frames)
    for index, expected in enumerate(frames):
        np.testing.assert_array_equal(receiver.recv(0), expected, err_msg=f"frame {index}")
    thread.join(timeout=30)
    assert len(sent) == len(frames)


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_sender_blocked_by_a_receiver_that_never_reads_fails_naming_it(name, linked, monkeypatch):
    monkeypatch.setattr(peer_module, "RECV_BUFFER_BYTES", 1 << 20)
    transports = linked(name, timeout=1.5)
    sender = transports["alice"].link(PARTIES, "main")
    started = time.monotonic()

    def flood():  # 200 MB, far beyond what the buffers on the way can hold
        for _ in range(400):
            sender.send(1, np.zeros(FRAME_WORDS, dtype=np.uint64))

    with pytest.raises(LinkError, match="'alice' timed out after 2s sending to 'bob'"):
        flood()
    assert time.monotonic() - started < 30


# ----- statistics comparable with the in-memory hub -----------------------------------------
X = np.linspace(-3, 3, 400)
Y = np.cos(np.arange(400))


def _kernels(protocol: str):
    """One party's program: share X and Y, then mul, less and sigmoid, revealed."""

    def program(link):
        triples = first_party_triples(link, 0) if protocol == "SEMI2K" else None
        proto = make_protocol(RuntimeConfig(protocol=protocol), link, triples=triples)
        ctx = MPCContext(proto, FixedPoint())
        x = proto.share(ctx.encode(X) if link.rank == 0 else None, 0, X.shape)
        y = proto.share(ctx.encode(Y) if link.rank == 1 else None, 1, Y.shape)
        product, below = arith.mul_ss(ctx, x, y), compare.less_ss(ctx, x, y)
        sigmoid = activations.sigmoid(ctx, x)
        decode = ctx.fxp.decode
        bits = proto.reveal(below).astype(np.int64)  # a bit share, not fixed point
        return [decode(proto.reveal(product)), bits, decode(proto.reveal(sigmoid))]

    return program


def _own_traffic(snapshot: dict, party: str) -> dict:
    """What `party` itself sent: bytes and messages per pair, and its rounds."""
    pairs = {k: v for k, v in snapshot["pairs"].items() if k.startswith(f"{party}->")}
    return {"pairs": pairs, "rounds": snapshot["rounds"].get(party, 0)}


@pytest.mark.parametrize("name", TRANSPORTS)
@pytest.mark.parametrize(
    ("protocol", "parties"), [("SEMI2K", ["alice", "bob"]), ("ABY3", ["alice", "bob", "carol"])]
)
def test_a_kernel_counts_the_same_traffic_over_the_network_as_in_memory(
    name, protocol, parties, linked
):
    hub = LocalLinkHub(parties, CommStats())
    in_memory = run_spmd(hub, [_kernels(protocol)] * len(parties))
    transports = linked(name, parties=parties)
    outcomes, errors = {}, []

    def run(party):
        try:
            outcomes[party] = _kernels(protocol)(transports[party].link(parties, "kernels"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            transports[party].abort(f"{party!r} failed")

    threads = [threading.Thread(target=run, args=(p,)) for p in parties]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    want = [X * Y, (X < Y).astype(np.int64), 1 / (1 + np.exp(-X))]
    for got in [*in_memory, *outcomes.values()]:
        for value, expected, tolerance in zip(got, want, [1e-3, 0, 2e-3], strict=True):
            np.testing.assert_allclose(value, expected, atol=tolerance)
    for party in parties:
        over_network = _own_traffic(transports[party].stats.snapshot(), party)
        assert over_network == _own_traffic(hub.stats.snapshot(), party), party
        assert over_network["rounds"] > 5, over_network  # less and sigmoid take many rounds


def test_a_transport_counts_only_what_its_own_party_sent(linked):
    """(Each party's process keeps its own statistics: the sum over parties is the hub's.)"""
    transports = linked("socket")
    transports["alice"].link(PARTIES, "main").send(1, np.zeros(3))
    transports["bob"].link(PARTIES, "main").recv(0)
    assert transports["bob"].stats.snapshot()["pairs"] == {}
    assert isinstance(transports["alice"], Transport)


# ----- large messages ----------------------------------------------------------------------------
def test_a_1e8_word_array_is_cut_into_chunks_under_grpcs_message_limit():
    """The chunking logic at the issue's size, without moving 800 MB: the array is the zero
    page (np.zeros is mapped lazily), and only each chunk's bounds are checked."""
    words = np.zeros(10**8, dtype=np.uint64)
    parts = frames.encode(words)
    total = frames.frame_length(parts)
    assert total > words.nbytes
    expected_offset, count = 0, 0
    for message in wire.frame_messages(3, parts, total, b"main"):
        assert len(message) <= wire.MAX_GRPC_MESSAGE
        seq, length, offset, channel, body = wire.parse_chunk(message)
        assert (seq, length, offset, channel) == (3, total, expected_offset, "main")
        expected_offset += len(body)
        count += 1
    assert expected_offset == total
    assert count == -(-total // wire.CHUNK_BYTES)


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_message_over_the_frame_limit_is_refused_at_the_sender_naming_the_peer(name, linked):
    transports = linked(name, max_frame_bytes=1 << 16)
    link = transports["alice"].link(PARTIES, "main")
    with pytest.raises(LinkError, match="message of 80[0-9]+ bytes to 'bob' exceeds the frame"):
        link.send(1, np.zeros(10_000))
    link.send(1, "still open")
    assert transports["bob"].link(PARTIES, "main").recv(0) == "still open"


# ----- who may say what -----------------------------------------------------------------------
@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_party_claiming_a_linked_partys_name_is_refused_and_cuts_no_link(name, linked):
    """carol dials alice under her own certificate but says she is bob, with a stale link
    version: alice refuses the certificate (checked before anything the hello says) and her
    link to bob goes on."""
    three = ["alice", "bob", "carol"]
    transports = linked(name, parties=three)
    carol = transports["carol"].tls
    pins = {"alice": transports["bob"].tls.peer_certs["alice"], "carol": carol.cert}
    impostor = transport_class(name)(
        "bob", transports["alice"].addresses, TlsConfig(carol.key, carol.cert, pins)
    )
    impostor.wire_version = 1
    refused, reason = impostor._try_dial(impostor.peers["alice"], time.monotonic() + 5)
    assert refused
    assert "claiming to be 'bob' presented another party's certificate" in str(reason)
    assert transports["alice"].peers["bob"].error is None
    transports["bob"].link(three, "main").send(0, "still linked")
    assert transports["alice"].link(three, "main").recv(1) == "still linked"
