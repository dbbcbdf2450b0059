"""What each KKRT party sees: sizes, pseudorandom values, and the intersection; nothing else.

The sender S (rank 1) receives the OT extension matrices u, then the positions of the common
keys. These tests record every message it receives and check that
* replacing the receiver's keys outside the intersection by other keys (same count) changes
  neither the number nor the shapes of S's messages, nor the positions' count;
* u is balanced like uniform bits, and what S can compute from u with its own OT seeds
  (u ^ t_{s_i}) is independent of the receiver's codewords;
The receiver R (rank 0) receives S's OPRF values: they are distinct, as many as 3 per key of
S, match R's own values for the common keys only, and come in an order unrelated to S's rows.
"""

import numpy as np
from test_psi_privacy import RecordingLink

from core.comm import LocalLinkHub, run_spmd
from core.psi import kkrt_psi
from core.psi.bitmatrix import prg_columns
from core.psi.kkrt import value_bytes
from core.psi.kkrt_hashing import CODE_BITS
from core.psi.oprf import OprfReceiver


def run_recorded(receiver_keys, sender_keys):
    hub, recorders = LocalLinkHub(["receiver", "sender"]), {}

    def program(link):
        recorders[link.rank] = RecordingLink(link)
        data = receiver_keys if link.rank == 0 else sender_keys
        return kkrt_psi(recorders[link.rank], data, chunk_size=50)

    results = run_spmd(hub, [program, program])
    return results, recorders[0].received, recorders[1].received


def shapes(messages):
    return [
        (type(m).__name__, getattr(m, "shape", None), getattr(m, "dtype", None))
        for m in messages
        if not isinstance(m, bytes)  # the salt share: 16 fresh random bytes
    ]


def inputs(private_prefix):
    common = [f"shared{i}" for i in range(40)]
    receiver = common + [f"{private_prefix}{i}" for i in range(160)]
    sender = [f"theirs{i}" for i in range(150)] + common
    return receiver, sender


def matrices(messages):
    return [m for m in messages if isinstance(m, np.ndarray) and m.shape[0] == CODE_BITS]


def test_the_sender_sees_the_same_shapes_whatever_the_receivers_private_keys():
    (_, first), (_, second) = (run_recorded(*inputs(p))[1:] for p in ("mine", "other"))
    assert shapes(first) == shapes(second)
    positions = [m for m in first if isinstance(m, np.ndarray) and m.dtype == np.int64]
    assert len(positions) == 1
    assert len(positions[0]) == 40


def test_the_extension_matrices_look_like_uniform_bits():
    _, _, received = run_recorded(*inputs("mine"))
    bits = np.unpackbits(np.concatenate([m.ravel() for m in matrices(received)]))
    assert len(bits) > 100_000
    # 6 standard deviations of a fair coin's mean over len(bits) flips.
    assert abs(bits.mean() - 0.5) < 6 * 0.5 / np.sqrt(len(bits)), bits.mean()


def sender_view(codes, choices, known_seeds, rng):
    """What S computes from u with its own seeds, for fresh seeds it does not know."""
    unknown = [rng.bytes(16) for _ in range(CODE_BITS)]
    pairs = [
        (unknown[i], known_seeds[i]) if choice else (known_seeds[i], unknown[i])
        for i, choice in enumerate(choices)
    ]
    u, _ = OprfReceiver(pairs).chunk(0, codes)
    return u ^ prg_columns(known_seeds, 0, u.shape[1])


def test_what_the_sender_can_unmask_does_not_depend_on_the_receivers_codewords():
    rng = np.random.default_rng(11)
    choices = rng.integers(0, 2, CODE_BITS).astype(bool)
    known = [rng.bytes(16) for _ in range(CODE_BITS)]
    zeros = np.zeros((64, 64), dtype=np.uint8)
    ones = np.full((64, 64), 255, dtype=np.uint8)
    views = {
        name: np.mean([np.unpackbits(sender_view(c, choices, known, rng)) for _ in range(20)])
        for name, c in (("zeros", zeros), ("ones", ones))
    }
    bound = 6 * 0.5 / np.sqrt(20 * CODE_BITS * 64)
    assert all(abs(v - 0.5) < bound for v in views.values()), views


def test_the_receiver_gets_distinct_values_matching_only_the_intersection():
    receiver, sender = inputs("mine")
    results, received, _ = run_recorded(receiver, sender)
    width = value_bytes(len(receiver), len(sender))
    values = np.concatenate(
        [
            m
            for m in received
            if isinstance(m, np.ndarray) and m.ndim == 2 and m.shape[1] == 3 * width
        ]
    )
    assert values.shape == (190, 3 * width), "3 values per key of S"
    flat = {bytes(v) for v in values.reshape(-1, width)}
    assert len(flat) == 3 * 190, "values of different keys or hash functions must differ"
    assert len(results[0].rows) == 40


def test_the_common_keys_arrive_in_an_order_unrelated_to_the_senders_rows():
    common = [f"c{i}" for i in range(120)]
    results, _, _ = run_recorded(common, common)
    sender_rows = results[1].rows
    assert sorted(sender_rows.tolist()) == list(range(120))
    correlation = np.corrcoef(sender_rows, np.arange(120))[0, 1]
    assert abs(correlation) < 0.5, f"positions follow the sender's rows: {correlation}"
