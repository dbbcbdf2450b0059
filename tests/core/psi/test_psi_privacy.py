"""What a party sees during PSI: nothing about the peer's other keys beyond sizes.

The comparer (rank 0) is the party that sees the most: the peer's singly-masked points and all
fully-masked values. These tests record every message it receives and check that
* its strongest attack, a dictionary attack with its own secret, cannot recognise the peer's
  keys outside the intersection in anything it received;
* the peer's points arrive in ascending value order, so their order carries no information
  about the peer's row order;
* replacing the peer's keys outside the intersection by other keys (same count) changes
  neither the shape of what it receives nor anything it can link to its own rows.
"""

import numpy as np

from core.comm import LocalLinkHub, run_spmd
from core.psi import ecdh_psi
from core.psi.kernels import hash_to_points, mask_points
from core.psi.source import encode_keys

SECRETS = [bytes([1]) * 32, bytes([2]) * 32]


class RecordingLink:
    """A link that keeps a copy of every message its party receives."""

    def __init__(self, link):
        self._link = link
        self.received = []

    def __getattr__(self, name):
        return getattr(self._link, name)

    def recv(self, frm):
        message = self._link.recv(frm)
        self.received.append(message)
        return message


def run_recorded(pool, own, peer):
    hub = LocalLinkHub(["comparer", "peer"])
    recorders = {}

    def comparer(link):
        recorders["comparer"] = RecordingLink(link)
        return ecdh_psi(recorders["comparer"], own, pool=pool, secret=SECRETS[0], chunk_size=16)

    def other(link):
        return ecdh_psi(link, peer, pool=pool, secret=SECRETS[1], chunk_size=16)

    results = run_spmd(hub, [comparer, other])
    return results, recorders["comparer"].received


def arrays(messages, width):
    return [
        m for m in messages if isinstance(m, np.ndarray) and m.ndim == 2 and m.shape[1] == width
    ]


def inputs(private_prefix):
    common = [f"shared{i}" for i in range(40)]
    own = common + [f"mine{i}" for i in range(60)]
    peer = [f"{private_prefix}{i}" for i in range(70)] + common
    return own, peer


def test_a_dictionary_attack_with_its_own_secret_finds_no_private_peer_key(psi_pool):
    own, peer = inputs("theirs")
    _, received = run_recorded(psi_pool, own, peer)
    private = encode_keys([peer[:70]])
    hashed = hash_to_points(private)
    guesses = {hashed[i : i + 32] for i in range(0, len(hashed), 32)}
    masked = mask_points(SECRETS[0], hashed)
    guesses |= {masked[i : i + 32] for i in range(0, len(masked), 32)}
    prefixes = {g[:16] for g in guesses}
    seen = [bytes(row) for m in arrays(received, 32) for row in m]
    seen16 = [bytes(row) for m in arrays(received, 16) for row in m]
    assert len(seen) == 110, "the comparer should receive the peer's 110 masked points"
    assert not guesses.intersection(seen)
    assert not prefixes.intersection(s[:16] for s in seen)
    assert not prefixes.intersection(seen16)


def test_the_peer_points_arrive_in_value_order(psi_pool):
    own, peer = inputs("theirs")
    _, received = run_recorded(psi_pool, own, peer)
    points = np.concatenate(arrays(received, 32))
    as_bytes = [bytes(p) for p in points]
    assert as_bytes == sorted(as_bytes)


def test_changing_the_peer_private_keys_changes_nothing_linkable(psi_pool):
    own, peer_a = inputs("alpha")
    _, peer_b = inputs("omega")
    results_a, received_a = run_recorded(psi_pool, own, peer_a)
    results_b, received_b = run_recorded(psi_pool, own, peer_b)
    shape = lambda ms: [getattr(m, "shape", m) for m in ms]  # noqa: E731
    assert shape(received_a) == shape(received_b)
    assert results_a[0].rows.tolist() == results_b[0].rows.tolist()
    assert results_a[0].report == results_b[0].report | {"seconds": results_a[0].report["seconds"]}
    # The comparer's own fully-masked values come back identical; the rest are unrelated.
    own_a, own_b = (np.concatenate(arrays(r, 16)) for r in (received_a, received_b))
    assert sorted(map(bytes, own_a)) == sorted(map(bytes, own_b))
    points_a = {bytes(p) for p in np.concatenate(arrays(received_a, 32))}
    points_b = {bytes(p) for p in np.concatenate(arrays(received_b, 32))}
    assert len(points_a & points_b) == 40, "only the 40 shared keys may look the same"
