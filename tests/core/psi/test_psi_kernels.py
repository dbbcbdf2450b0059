"""X25519 masking kernels and the fully-masked set matcher."""

import hashlib
import os

import numpy as np
import pytest

from core.psi.errors import LowOrderPointError
from core.psi.kernels import PSI_PERSONALIZATION, hash_to_points, mask_points
from core.psi.match import find_in, intersect
from core.psi.source import encode_keys


def test_masking_commutes_for_hashed_points():
    rng = np.random.default_rng(5)
    a, b = rng.bytes(32), rng.bytes(32)
    points = hash_to_points(encode_keys([[f"k{i}" for i in range(64)]]))
    assert mask_points(a, mask_points(b, points)) == mask_points(b, mask_points(a, points))
    assert mask_points(a, points) != mask_points(b, points)


def test_hash_is_domain_separated_blake2b():
    key = encode_keys([["x"]])[0]
    plain = hashlib.blake2b(key, digest_size=32).digest()
    separated = hashlib.blake2b(key, digest_size=32, person=PSI_PERSONALIZATION).digest()
    assert hash_to_points([key]) == separated != plain


def test_masking_truncates_to_the_requested_width():
    points = hash_to_points([b"a", b"b", b"c"])
    scalar = os.urandom(32)
    full = mask_points(scalar, points)
    short = mask_points(scalar, points, keep=16)
    assert short == full[:16] + full[32:48] + full[64:80]


@pytest.mark.parametrize("low_order", [bytes(32), (1).to_bytes(32, "little")])
def test_a_low_order_point_gives_a_clear_error(low_order):
    points = hash_to_points([b"fine"]) + low_order
    with pytest.raises(LowOrderPointError, match="item 1 of 2 is a low-order point"):
        mask_points(os.urandom(32), points)


def test_mask_points_rejects_ragged_input():
    with pytest.raises(ValueError, match="whole 32-byte points"):
        mask_points(os.urandom(32), b"x" * 33)


def test_find_in_resolves_values_sharing_the_top_word():
    table = np.zeros((4, 16), dtype=np.uint8)
    table[:, 8] = [1, 2, 3, 4]  # same first 8 bytes, different last 8
    queries = table[[2, 0]].copy()
    missing = table[:1].copy()
    missing[0, 9] = 7
    words = lambda v: np.ascontiguousarray(v).view(np.uint64).reshape(-1, 2)  # noqa: E731
    assert find_in(words(queries), words(table)).tolist() == [2, 0]
    assert find_in(words(missing), words(table)).tolist() == [-1]


def test_intersect_aligns_every_party_in_value_order():
    rng = np.random.default_rng(9)
    values = rng.integers(0, 256, size=(50, 16), dtype=np.uint8)
    own = values[:30]
    first = values[np.r_[20:50]][::-1].copy()
    second = values[np.r_[0:25]][::-1].copy()
    mine, (at_first, at_second) = intersect([own, first, second])
    assert sorted(mine.tolist()) == list(range(20, 25))
    assert (own[mine] == first[at_first]).all()
    assert (own[mine] == second[at_second]).all()
    hi = own[mine].view(np.uint64)[:, 0]
    assert (hi[:-1] <= hi[1:]).all()


def test_find_in_agrees_with_a_dictionary():
    rng = np.random.default_rng(11)
    table = rng.integers(0, 256, size=(3000, 16), dtype=np.uint8)
    table[:50, :8] = 7  # many values share their first word
    queries = np.concatenate([table[rng.permutation(3000)[:1000]], table[:1] ^ 1, table[:40]])
    index = {bytes(v): i for i, v in enumerate(table)}
    expected = [index.get(bytes(q), -1) for q in queries]
    words = np.ascontiguousarray(queries).view(np.uint64).reshape(-1, 2)
    found = find_in(words, np.ascontiguousarray(table).view(np.uint64).reshape(-1, 2))
    assert found.tolist() == expected
