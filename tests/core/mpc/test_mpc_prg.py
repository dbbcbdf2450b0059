"""The PRG behind shares and correlated randomness: AES-128-CTR keyed by the seed.

Checked against an independent computation of the same key stream (AES-128-ECB of the counter
blocks), so the generator is the cryptographic one its docstring names; plus the properties the
protocols rely on: equal seeds draw equal streams in any split, and bad seeds are refused.
"""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from core.mpc.prg import PRG, SEED_BYTES, fresh_seed, seed_key
from core.mpc.ring import RING64, RING128


def _ecb_counter_stream(key: bytes, blocks: int) -> np.ndarray:
    """AES_k(0) || AES_k(1) || ... computed block by block (big-endian 128-bit counters)."""
    counters = b"".join(i.to_bytes(16, "big") for i in range(blocks))
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return np.frombuffer(encryptor.update(counters) + encryptor.finalize(), dtype="<u8")


def test_the_stream_is_aes_128_in_counter_mode_keyed_by_the_seed():
    seed = bytes(range(16))
    np.testing.assert_array_equal(PRG(seed).raw(10), _ecb_counter_stream(seed, 5))


def test_an_integer_test_seed_is_its_16_little_endian_bytes():
    assert seed_key(1234) == (1234).to_bytes(16, "little")
    np.testing.assert_array_equal(PRG(1234).raw(6), PRG(seed_key(1234)).raw(6))


def test_draws_continue_one_stream_whatever_their_sizes():
    """SPMD parties draw the same amounts in the same order, but a replaying party (the trusted
    first party, a dealer) may group them differently: the stream must not depend on it."""
    seed = fresh_seed()
    whole = PRG(seed).raw(3 + 5 + 70_000)  # the last draw spans several internal chunks
    split = PRG(seed)
    parts = [split.raw(3), split.raw(5), split.raw(70_000)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_different_seeds_draw_different_streams():
    first, second = PRG(fresh_seed()).raw(64), PRG(fresh_seed()).raw(64)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("ring", [RING64, RING128], ids=lambda r: r.name)
def test_ring_draws_take_their_words_from_the_stream(ring):
    seed = fresh_seed()
    drawn = PRG(seed).ring((4, 3), ring)
    words = PRG(seed).raw(12 * ring.bits // 64)
    assert drawn.shape == (4, 3)
    np.testing.assert_array_equal(drawn, ring.asarray(words.view(ring.dtype).reshape(4, 3)))


def test_an_empty_draw_is_empty_and_leaves_the_stream_where_it_was():
    seed = fresh_seed()
    prg = PRG(seed)
    assert prg.raw(0).shape == (0,)
    assert prg.ring((0, 5)).shape == (0, 5)
    np.testing.assert_array_equal(prg.raw(4), PRG(seed).raw(4))


def test_words_are_uniform_over_64_bits():
    """Every bit position is set about half the time (a bias would show in 2^17 words)."""
    words = PRG(fresh_seed()).raw(1 << 17)
    ones = ((words[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
    assert np.all(np.abs(ones - 0.5) < 0.01)


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (b"short", f"a PRG seed has {SEED_BYTES} bytes, got 5"),
        (bytes(17), f"a PRG seed has {SEED_BYTES} bytes, got 17"),
        (-1, "an integer PRG seed must be in [0, 2^128), got -1"),
        (1 << 128, f"an integer PRG seed must be in [0, 2^128), got {1 << 128}"),
    ],
)
def test_a_seed_of_the_wrong_size_is_refused(seed, message):
    with pytest.raises(ValueError) as caught:
        PRG(seed)
    assert str(caught.value) == message
