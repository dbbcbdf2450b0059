"""KKRT building blocks: bit transpose, base OTs, the OT extension's correlation, cuckoo hashing."""

import hashlib
import math

import numpy as np
import pytest

from core.errors import ConfigError, LinkError
from core.psi import cuckoo
from core.psi.base_ot import OtReceiver, OtSender, check_points
from core.psi.bitmatrix import prg_columns, transpose, transpose_reference
from core.psi.errors import CuckooHashingError
from core.psi.kkrt import distinct_rows, value_bytes
from core.psi.kkrt_hashing import CODE_BITS, candidate_bins, digest_keys, oprf_outputs
from core.psi.oprf import OprfReceiver, OprfSender

SALT = bytes(range(16))


@pytest.mark.parametrize(("rows", "cols"), [(8, 8), (16, 64), (64, 512), (1024, 24), (8, 4096)])
def test_transpose_agrees_with_unpack_transpose_pack(rows, cols):
    packed = np.random.default_rng(rows + cols).integers(0, 256, (rows, cols // 8), dtype=np.uint8)
    before = packed.copy()
    assert np.array_equal(transpose(packed), transpose_reference(packed)), (rows, cols)
    assert np.array_equal(transpose(transpose(packed)), packed)
    assert np.array_equal(packed, before), "transpose must not modify its input"


def test_transpose_refuses_rows_that_are_not_whole_bytes():
    with pytest.raises(ValueError, match="multiple of 8"):
        transpose(np.zeros((12, 1), dtype=np.uint8))


def test_prg_columns_depend_on_seed_and_chunk_only():
    a = prg_columns([b"s" * 16, b"t" * 16], 0, 32)
    assert np.array_equal(a, prg_columns([b"s" * 16, b"t" * 16], 0, 32))
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a, prg_columns([b"s" * 16, b"t" * 16], 1, 32))


def base_ots(choices):
    sender, receiver = OtSender(len(choices)), OtReceiver(choices)
    reply = receiver.reply(sender.a_point)
    pairs = sender.seeds(check_points(reply, len(choices), "receiver"))
    return pairs, receiver.seeds


def test_base_ot_receiver_gets_exactly_its_chosen_seed():
    choices = np.random.default_rng(5).integers(0, 2, 64).astype(bool)
    pairs, got = base_ots(choices)
    for i, (choice, (k0, k1)) in enumerate(zip(choices, pairs, strict=True)):
        assert got[i] == (k1 if choice else k0), i
        assert got[i] != (k0 if choice else k1), i
    assert len({k for pair in pairs for k in pair}) == 128, "seeds must all differ"


def test_base_ot_rejects_points_outside_the_group():
    bad = np.zeros((2, 32), dtype=np.uint8)  # the identity's encoding is small-order
    with pytest.raises(LinkError, match="malformed base-OT points"):
        check_points(bad, 2, "peer")
    with pytest.raises(LinkError, match="malformed base-OT points"):
        check_points(np.zeros((3, 31), dtype=np.uint8), 3, "peer")


def extension(codes, chunk=0):
    """Run base OTs and one extension chunk; return (receiver t0 rows, sender, sender q rows)."""
    choices = np.random.default_rng(9).integers(0, 2, CODE_BITS).astype(bool)
    pairs, seeds = base_ots(choices)
    u, t0 = OprfReceiver(pairs).chunk(chunk, codes)
    sender = OprfSender(choices, seeds)
    return t0, sender, sender.chunk(chunk, u)


def test_ot_extension_rows_satisfy_the_kkrt_correlation():
    codes = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    t0, sender, q = extension(codes)
    # q_j = t0_j ^ (C(r_j) & s): the sender's row for the receiver's own input equals t0_j.
    assert np.array_equal(q, t0 ^ (codes & sender.s_row))
    assert np.array_equal(sender.masked(q, codes), t0)
    other = np.roll(codes, 1, axis=0)
    differing = np.unpackbits((sender.masked(q, other) ^ t0), axis=1).sum(axis=1)
    assert differing.min() > 64, "rows for other inputs must differ in many bits"


def test_oprf_values_match_only_for_the_same_input_bin_and_hash_index():
    keys = [f"k{i}".encode() for i in range(64)]
    codes, _ = digest_keys(keys, SALT)
    t0, sender, q = extension(codes)
    bins, index = np.arange(64), np.zeros(64, dtype=np.uint8)
    mine = oprf_outputs(t0, bins, index, 10, SALT)
    assert np.array_equal(oprf_outputs(sender.masked(q, codes), bins, index, 10, SALT), mine)
    shifted = oprf_outputs(sender.masked(q, np.roll(codes, 1, axis=0)), bins, index, 10, SALT)
    assert not (shifted == mine).all(axis=1).any()
    other_index = oprf_outputs(sender.masked(q, codes), bins, index + 1, 10, SALT)
    assert not (other_index == mine).all(axis=1).any()


def test_digest_keys_is_salted_and_deterministic():
    codes, words = digest_keys([b"a", b"b"], SALT)
    assert codes.shape == (2, 64)
    assert words.shape == (2, 3)
    again, _ = digest_keys([b"a", b"b"], SALT)
    other, _ = digest_keys([b"a", b"b"], bytes(16))
    assert np.array_equal(codes, again)
    assert not np.array_equal(codes, other)


def test_candidate_bins_stay_in_range():
    words = np.array([[0, 2**32 - 1, 2**31]], dtype=np.uint32)
    assert candidate_bins(words, 1000).tolist() == [[0, 999, 500]]
    with pytest.raises(ValueError, match="bin count"):
        candidate_bins(words, 0)


@pytest.mark.parametrize("n", [1, 2, 50, 3000, 40_000])
def test_cuckoo_places_every_key_in_one_of_its_candidates(n):
    rng = np.random.default_rng(n)
    bins = cuckoo.bin_count(n)
    candidates = rng.integers(0, bins, (n, 3))
    table, used = cuckoo.insert(candidates, bins, rng)
    where = np.full(n, -1)
    where[table[table >= 0]] = np.flatnonzero(table >= 0)
    assert (table >= 0).sum() == n, "every key needs its own bin"
    assert np.array_equal(where, candidates[np.arange(n), used]), "a key sits outside its bins"


def test_cuckoo_fails_with_a_clear_error_when_keys_cannot_fit():
    candidates = np.zeros((3, 3), dtype=np.int64)  # three keys, all wanting bin 0
    with pytest.raises(CuckooHashingError, match="3 keys into 64 bins"):
        cuckoo.insert(candidates, 64, np.random.default_rng(0))


def test_bin_count_follows_the_psww18_fit_for_large_sets():
    n = 2**20
    assert cuckoo.bin_count(n) == math.ceil((40 + 256 + 20) / 240 * n / 64) * 64
    assert cuckoo.bin_count(0) == cuckoo.bin_count(1) >= 448
    assert all(cuckoo.bin_count(n) % cuckoo.BIN_ALIGN == 0 for n in (1, 77, 10**5))


def test_value_bytes_keeps_false_matches_below_two_to_minus_forty():
    assert value_bytes(2**20, 2**20) == 10
    assert value_bytes(1, 1) == 6
    for n_r, n_s in [(3, 10**6), (10**7, 10**7), (1000, 1)]:
        width = value_bytes(n_r, n_s)
        assert n_r * n_s * 2.0 ** (-8 * width) <= 2.0**-40, (n_r, n_s, width)
    with pytest.raises(ConfigError, match="too large"):
        value_bytes(2**45, 2**45)


def test_distinct_rows_keeps_first_rows_and_names_the_first_duplicate():
    codes, _ = digest_keys([b"x", b"y", b"x", b"z", b"y"], SALT)
    keep, duplicate = distinct_rows(codes)
    assert keep.tolist() == [0, 1, 3]
    assert duplicate in {(0, 2), (1, 4)}
    keep, duplicate = distinct_rows(codes[[0, 1, 3]])
    assert keep.tolist() == [0, 1, 2]
    assert duplicate is None


def test_oprf_outputs_hash_row_bin_and_hash_index_with_salted_blake2b():
    rows = np.random.default_rng(4).integers(0, 256, (3, 64), dtype=np.uint8)
    got = oprf_outputs(rows, np.array([7, 8, 70_000]), np.array([0, 2, 1], np.uint8), 10, SALT)
    record = rows[2].tobytes() + (70_000).to_bytes(4, "little") + bytes([1])
    expected = hashlib.blake2b(record, digest_size=10, salt=SALT, person=b"privpad-kkrt-o")
    assert got[2].tobytes() == expected.digest()


def test_distinct_rows_handles_codewords_sharing_their_first_eight_bytes():
    codes = np.zeros((5, 64), dtype=np.uint8)
    codes[:, 8] = [1, 2, 1, 3, 2]  # equal first word, interleaved second words
    keep, duplicate = distinct_rows(codes)
    assert keep.tolist() == [0, 1, 3]
    assert duplicate == (0, 2)
