"""Key generation, raw encryption/decryption and key serialisation for core.he."""

from __future__ import annotations

import pickle
import random
import secrets

import gmpy2
import pytest

from core.errors import ConfigError, EncodingError
from core.he import PublicKey, generate_keypair
from core.he.fixedbase import FixedBaseTable, RadixSquareTable, exponent_from_digits
from core.he.keygen import textbook_encrypt
from core.he.keys import KeyMismatchError, PrivateKey


@pytest.fixture(scope="module")
def keys():
    return generate_keypair(512, rng=random.Random(20261122))


def test_it_generates_a_key_with_the_documented_structure(keys):
    pk, sk = keys
    p, q = int(sk.p), int(sk.q)
    assert pk.bits == 512
    assert p != q
    assert p * q == pk.n
    assert p % 4 == 3
    assert q % 4 == 3
    assert gmpy2.gcd(p - 1, q - 1) == 2
    assert gmpy2.gcd(pk.n, (p - 1) * (q - 1)) == 1
    assert pk.exponent_bits == 256
    # hs is an n-th residue: hs^lambda = 1 mod n^2 for lambda = lcm(p-1, q-1).
    assert gmpy2.powmod(pk.hs, gmpy2.lcm(p - 1, q - 1), pk.n2) == 1


def test_it_generates_reproducible_keys_from_a_seeded_rng():
    first, _ = generate_keypair(256, allow_insecure=True, rng=random.Random(7))
    second, _ = generate_keypair(256, allow_insecure=True, rng=random.Random(7))
    assert first == second
    assert first.key_id == second.key_id


@pytest.mark.parametrize("bits", [128, 256, 384])
def test_it_rejects_small_keys_outside_test_mode(bits):
    with pytest.raises(ConfigError, match=f"{bits} bits is below the minimum of 512"):
        generate_keypair(bits)


def test_it_rejects_tiny_keys_even_in_test_mode():
    with pytest.raises(ConfigError, match="below the minimum of 128"):
        generate_keypair(64, allow_insecure=True)


@pytest.mark.parametrize("exponent_bits", [60, 100, 1024])
def test_it_rejects_bad_exponent_lengths(exponent_bits):
    with pytest.raises(ConfigError, match=f"got {exponent_bits}"):
        generate_keypair(512, exponent_bits=exponent_bits)


@pytest.mark.parametrize(("exponent_bits", "window_bits"), [(64, 8), (64, 3), (256, 10)])
@pytest.mark.parametrize("radix_form", [False, True])
def test_fixed_base_table_matches_square_and_multiply(keys, exponent_bits, window_bits, radix_form):
    pk, _ = keys
    rng = random.Random(3)
    if radix_form:
        table = RadixSquareTable(pk.hs, pk.n, exponent_bits, window_bits)
    else:
        table = FixedBaseTable(pk.hs, pk.n2, exponent_bits, window_bits)
    for _ in range(10):
        exponent = rng.randbytes(exponent_bits // 8)
        x = int.from_bytes(exponent, "little")
        assert table.power(exponent) == gmpy2.powmod(pk.hs, x, pk.n2), exponent.hex()
    assert table.power(bytes(exponent_bits // 8)) == 1
    for digits in table.random_digits(5):
        assert max(digits) < 2**window_bits
        x = exponent_from_digits(digits, window_bits)
        assert x < 2**exponent_bits
        assert table.power_digits(digits) == gmpy2.powmod(pk.hs, x, pk.n2), digits


def test_random_exponents_use_all_bits(keys):
    pk, _ = keys
    table = FixedBaseTable(pk.hs, pk.n2, 64, 10)
    exponents = [exponent_from_digits(d, 10) for d in table.random_digits(200)]
    assert max(exponents).bit_length() == 64
    assert len(set(exponents)) == 200
    # Each bit position is set in some but not all of 200 uniform samples.
    assert all(0 < sum(x >> bit & 1 for x in exponents) < 200 for bit in range(64))


def test_key_holder_crt_encryption_matches_the_public_construction(keys):
    pk, sk = keys
    digits = sk.crt_tables[0].random_digits(3)
    for row in digits:
        x = exponent_from_digits(row, sk.crt_tables[0].window_bits)
        assert sk.crt_power(row) == gmpy2.powmod(pk.hs, x, pk.n2), x
    messages = [0, 1, 77, int(pk.n) - 5]
    assert [sk.decrypt_residue(c) for c in sk.encrypt_residues(messages)] == messages


def test_fixed_base_table_rejects_wrong_exponent_sizes(keys):
    pk, _ = keys
    with pytest.raises(ConfigError, match="multiple of 8"):
        FixedBaseTable(pk.hs, pk.n2, 12)
    with pytest.raises(ConfigError, match="must be 8 bytes, got 3"):
        FixedBaseTable(pk.hs, pk.n2, 64).power(b"abc")
    with pytest.raises(ConfigError, match="exponent must be in"):
        FixedBaseTable(pk.hs, pk.n2, 64).power_int(2**64)
    with pytest.raises(ConfigError, match="window_bits must be in"):
        FixedBaseTable(pk.hs, pk.n2, 64, 17)


def test_fixed_base_and_textbook_ciphertexts_decrypt_identically(keys):
    pk, sk = keys
    rng = random.Random(11)
    messages = [0, 1, 2, int(pk.n) - 1, rng.randrange(int(pk.n)), *rng.sample(range(10**9), 5)]
    fast = pk.encrypt_residues(messages)
    textbook = [textbook_encrypt(pk, m) for m in messages]
    assert [sk.decrypt_residue(c) for c in fast] == messages
    assert [sk.decrypt_residue(c) for c in textbook] == messages
    # Both are valid Paillier ciphertexts of the same value: their quotient encrypts zero.
    for c_fast, c_text, m in zip(fast, textbook, messages, strict=True):
        assert sk.decrypt_residue(c_fast * gmpy2.invert(c_text, pk.n2) % pk.n2) == 0, m


def test_crt_decryption_matches_the_lambda_mu_formula(keys):
    pk, sk = keys
    p, q, n = sk.p, sk.q, pk.n
    lam = gmpy2.lcm(p - 1, q - 1)
    mu = gmpy2.invert((gmpy2.powmod(n + 1, lam, pk.n2) - 1) // n, n)
    for m in [5, 123456789, int(n) - 42]:
        c = textbook_encrypt(pk, m, r=secrets.randbelow(int(n) - 2) + 2)
        assert (gmpy2.powmod(c, lam, pk.n2) - 1) // n * mu % n == sk.decrypt_residue(c) == m


def test_a_2048_bit_key_round_trips():
    pk, sk = generate_keypair(2048, rng=random.Random(2048))
    assert pk.bits == 2048
    assert pk.exponent_bits == 1024
    messages = [0, 1, 2**200 + 3, int(pk.n) - 1]
    assert [sk.decrypt_residue(c) for c in pk.encrypt_residues(messages)] == messages


def test_public_key_serialisation_round_trips(keys):
    pk, _ = keys
    copy = PublicKey.from_bytes(pk.to_bytes())
    assert copy == pk
    assert copy.n == pk.n
    assert copy.hs == pk.hs
    assert copy.exponent_bits == pk.exponent_bits


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"XXXXXXXX" + b[8:], "not a serialised Paillier public key"),
        (lambda b: b[:-1], "public key of"),
        (lambda b: b[:10], "not a serialised Paillier public key"),
        (lambda b: b[:-128] + b"\xff" * 128, "out-of-range"),
    ],
)
def test_public_key_deserialisation_rejects_malformed_bytes(keys, mangle, message):
    pk, _ = keys
    with pytest.raises(EncodingError, match=message):
        PublicKey.from_bytes(mangle(pk.to_bytes()))


def test_keys_pickle_without_their_tables(keys):
    pk, sk = keys
    pk.table  # noqa: B018 - build the table so that pickling could carry it
    sk.crt_tables  # noqa: B018
    pk_copy, sk_copy = pickle.loads(pickle.dumps((pk, sk)))
    assert len(pickle.dumps(pk)) < 1000
    assert "table" not in vars(pk_copy)
    assert pk_copy == pk
    assert sk_copy.decrypt_residue(pk.encrypt_residues([42])[0]) == 42


def test_private_key_must_match_the_public_key(keys):
    pk, sk = keys
    with pytest.raises(KeyMismatchError, match="p \\* q"):
        PrivateKey(pk, sk.p, sk.q + 2)
