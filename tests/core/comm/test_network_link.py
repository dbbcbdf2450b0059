"""Network links inside one process: two or three `Transport`s on loopback ports, with threads.

Cross-process behaviour (kills, certificates, versions) is in tests/core/network; these check
the link itself: FIFO per pair and channel, chunking, typed messages, bad configuration.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.comm.causes import LinkCause
from core.comm.network import PeerFailures, Transport
from core.comm.tls import TlsConfig, fingerprint, make_certificate
from core.comm.wire import ACK, CHUNK_BYTES, WELCOME, control
from core.device.deployment import Deployment, parse_cluster_config
from core.errors import ConfigError, LinkError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def pair(linked):
    """alice's and bob's gRPC transports, started concurrently (each waits for the other)."""
    return linked("grpc", timeout=10, connect_timeout=10)


def test_it_delivers_in_order_per_channel_and_chunks_big_arrays(pair):
    a = pair["alice"].link(["alice", "bob"], "main")
    b = pair["bob"].link(["alice", "bob"], "main")
    side = pair["bob"].link(["alice", "bob"], "side")
    big = np.arange(3 * CHUNK_BYTES // 8 + 5, dtype=np.uint64)
    a.send(1, ("first", 1))
    pair["alice"].link(["alice", "bob"], "side").send(1, "on the side")
    a.send(1, big)
    a.send(1, {"last": [np.float64(2.5), b"\x00" * 10_000]})
    assert side.recv(0) == "on the side"
    assert b.recv(0) == ("first", 1)
    got = b.recv(0)
    np.testing.assert_array_equal(got, big)
    assert not got.flags.writeable
    last = b.recv(0)
    assert last["last"][0] == 2.5
    assert last["last"][1] == b"\x00" * 10_000


def test_sending_an_untyped_value_is_a_link_error_and_the_link_survives(pair):
    a = pair["alice"].link(["alice", "bob"], "main")
    b = pair["bob"].link(["alice", "bob"], "main")
    with pytest.raises(LinkError, match="cannot send a object"):
        a.send(1, object())
    a.send(1, 7)
    assert b.recv(0) == 7


def test_a_receiver_times_out_naming_the_peer(pair):
    link = pair["bob"].link(["alice", "bob"], "main", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(LinkError, match="'bob' timed out after 0s waiting for 'alice'"):
        link.recv(0)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("reported_after", [None, 0.3])
def test_a_peer_reported_failed_ends_the_start_at_once_with_the_reason(
    reported_after, addresses_of, tls_of
):
    """bob never listens; his node tells alice's that his part stopped (before alice starts, or
    while she dials him): her start fails at once with that reason, not at her 30 s timeout."""
    addresses, tls = addresses_of(["alice", "bob"]), tls_of(["alice", "bob"])
    failures = PeerFailures()
    alice = Transport("alice", addresses, tls["alice"], connect_timeout=30, peer_failures=failures)
    stopped = LinkCause("aborted", peer="bob", reason="the run's graph is not valid")
    if reported_after is None:
        failures.report("bob", stopped)
    else:
        threading.Timer(reported_after, failures.report, args=("bob", stopped)).start()
    started = time.monotonic()
    with pytest.raises(LinkError, match="'alice': 'bob' aborted: the run's graph is not valid"):
        alice.start()
    assert time.monotonic() - started < 5
    assert failures.reported() == {"bob": stopped}


def test_the_parties_still_starting_learn_it_from_the_aborting_one(addresses_of, tls_of):
    """bob never listens and his node told alice's: alice gives up at once, and carol, linked
    to alice but still dialling bob, stops with alice's reason instead of at her timeout."""
    addresses, tls = addresses_of(["alice", "bob", "carol"]), tls_of(["alice", "bob", "carol"])
    failures, errors = PeerFailures(), {}
    transports = {  # only alice's node hears bob's report
        "alice": Transport("alice", addresses, tls["alice"], peer_failures=failures),
        "carol": Transport("carol", addresses, tls["carol"]),
    }

    def start(party: str) -> None:
        try:
            transports[party].start()
        except LinkError as error:
            errors[party] = str(error)

    threads = [threading.Thread(target=start, args=(party,)) for party in transports]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # alice and carol have linked to each other; both dial bob
    started = time.monotonic()
    failures.report("bob", LinkCause("aborted", peer="bob", reason="no engine address"))
    for thread in threads:
        thread.join(timeout=20)
    assert time.monotonic() - started < 8
    assert "'bob' aborted: no engine address" in errors["alice"]
    assert "'alice' aborted" in errors["carol"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"parties": {"a": {"address": "x:1"}}, "self_party": "a"}, "at least 2 parties"),
        ({"parties": {"a": {"address": "x"}, "b": {"address": "y:2"}}}, "needs a port"),
        ({"parties": {"a": {}, "b": {"address": "y:2"}}}, "needs an 'address'"),
        ({"parties": {"a": {"address": "x:1"}, "b": {"address": "y:2"}}}, "self_party None"),
        ({"nodes": []}, "needs 'parties'"),
    ],
)
def test_it_refuses_a_bad_cluster_config(config, message):
    with pytest.raises(ConfigError, match=message):
        parse_cluster_config(config)


def test_a_deployment_needs_tls_or_an_explicit_insecure_flag():
    config = {"parties": {"a": {"address": "127.0.0.1:1"}, "b": {"address": "127.0.0.1:2"}}}
    with pytest.raises(ConfigError, match="insecure_plaintext=True"):
        Deployment(dict(config, self_party="a"))


def test_shared_seeds_are_refused_in_production_mode():
    import core as sf

    config = {"parties": {"a": {"address": "127.0.0.1:1"}, "b": {"address": "127.0.0.1:2"}}}
    with pytest.raises(ConfigError, match="only in a simulation"):
        sf.init(cluster_config=dict(config, self_party="a"), insecure_plaintext=True, seed=1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"cert": "x"}, "this party's 'key'"),
        ({"key": "/nonexistent.key", "cert": "x", "peers": {}}, "cannot read the private key"),
        ({"key": b"not pem", "cert": b"x"}, "private key is not PEM"),
        ({"key": "K", "cert": "C", "peers": {}, "ca": "A", "color": 1}, "unknown tls settings"),
    ],
)
def test_it_refuses_bad_tls_settings(spec, message):
    with pytest.raises(ConfigError, match=message):
        TlsConfig.from_dict(spec, ["bob"])


def test_tls_needs_a_pinned_certificate_for_every_peer():
    key, cert = make_certificate("alice")
    with pytest.raises(ConfigError, match="must pin a certificate for each of"):
        TlsConfig.from_dict({"key": key, "cert": cert, "peers": {}}, ["bob"])
    with pytest.raises(ConfigError, match="exactly one of 'peers'"):
        TlsConfig.from_dict({"key": key, "cert": cert}, ["bob"])


def test_identity_checks_pin_the_certificate_or_the_name_under_a_ca():
    bob_key, bob_cert = make_certificate("bob")
    _, other = make_certificate("bob")
    pinned = TlsConfig(b"k", b"c", {"bob": bob_cert})
    assert pinned.identity_problem("bob", bob_cert) is None
    assert "another party's certificate" in pinned.identity_problem("bob", other)
    assert "no certificate" in pinned.identity_problem("bob", None)
    ca = make_certificate("ca")
    _, issued = make_certificate("bob", issuer=ca)
    by_ca = TlsConfig(b"k", b"c", ca=ca[1])
    assert by_ca.identity_problem("bob", issued) is None
    assert "for another name" in by_ca.identity_problem("carol", issued)
    assert len(fingerprint(bob_cert)) == 64


def test_a_restarted_peer_is_refused_because_its_state_is_gone(addresses_of, tls_of):
    parties = ["alice", "bob"]
    addresses, tls = addresses_of(parties), tls_of(parties)

    def transport(party):
        return Transport(
            party, addresses, tls[party], timeout=5, connect_timeout=5, reconnect_grace=2
        )

    alice, bob = transport("alice"), transport("bob")
    starters = [threading.Thread(target=t.start) for t in (alice, bob)]
    for thread in starters:
        thread.start()
    for thread in starters:
        thread.join()
    try:
        bob.close(graceful=False)  # bob's process dies without a goodbye ...
        reborn = transport("bob")  # ... and starts again on the same address
        with pytest.raises(LinkError, match="'bob' restarted"):
            reborn.start()
        with pytest.raises(LinkError, match="'bob'"):
            alice.link(parties, "main").recv(1)
    finally:
        alice.close(graceful=False)


def test_a_garbled_acknowledgement_fails_the_link_naming_the_peer():
    """(Acknowledgements free the sender's copies of its frames: a reply reader that stopped
    on a garbled one would keep every later frame in memory.)"""
    addresses = {"alice": "127.0.0.1:1", "bob": "127.0.0.1:2"}
    alice = Transport("alice", addresses, None, insecure_plaintext=True)
    bob = alice.peers["bob"]
    welcome = control(WELCOME, {"ok": True, "v": alice.wire_version, "next": 0})
    state, welcomed = {"lock": threading.Lock()}, threading.Event()
    alice._read_replies(bob, iter([welcome, ACK + b"\xc1"]), state, welcomed)
    assert "gen" in state
    with pytest.raises(LinkError, match="'bob' sent a malformed frame: malformed control"):
        alice.recv("bob", "main", timeout=1)
