"""Pippenger multi-exponentiation behind CiphertextArray.dot, checked against powmod."""

from __future__ import annotations

import random

import gmpy2
import numpy as np
import pytest
from gmpy2 import mpz

from core.he import generate_keypair
from core.he.linear import multi_power


def reference(pairs, modulus):
    result = mpz(1)
    for base, exponent in pairs:
        result = result * gmpy2.powmod(base, exponent, modulus) % modulus
    return result


@pytest.mark.parametrize(
    ("count", "bits"), [(0, 8), (1, 64), (2, 5), (3, 1), (17, 1), (40, 48), (200, 20), (9, 300)]
)
def test_multi_power_matches_separate_exponentiations(count, bits):
    rng = random.Random(count * 1000 + bits)
    modulus = mpz(rng.getrandbits(512) | 1 | (1 << 511))
    pairs = [
        (mpz(rng.randrange(2, int(modulus))), rng.randrange(1, 2**bits) if bits > 1 else 1)
        for _ in range(count)
    ]
    assert multi_power(pairs, modulus) == reference(pairs, modulus), (count, bits)


def test_dot_with_many_terms_and_mixed_signs_matches_numpy():
    pk, sk = generate_keypair(512, rng=random.Random(9))
    rng = np.random.default_rng(3)
    x = rng.normal(size=64)
    w = rng.normal(size=(64, 3)) * 10
    w[::5, 1] = 0
    out = sk.decrypt_array(pk.encrypt_array(x).dot(w))
    np.testing.assert_allclose(out, x @ w, atol=1e-8, err_msg=f"x={x} w={w}")
