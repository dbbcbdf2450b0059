"""The shared process pool: chunking, and falling back to one core when workers die."""

from __future__ import annotations

import multiprocessing
import os
import random

import numpy as np
import pytest

from core.he import generate_keypair, keys, parallel


def square_all(offset: int, items: list[int]) -> list[int]:
    return [offset + i * i for i in items]


def die_in_workers(offset: int, items: list[int]) -> list[int]:
    if multiprocessing.parent_process() is not None:
        os._exit(3)  # simulate a worker killed by the OS
    return square_all(offset, items)


@pytest.mark.parametrize(("count", "parts"), [(0, 4), (1, 4), (7, 3), (10, 4), (4, 10)])
def test_split_keeps_order_and_balances(count, parts):
    items = list(range(count))
    chunks = parallel.split(items, parts)
    assert [x for chunk in chunks for x in chunk] == items
    assert max(map(len, chunks)) - min(map(len, chunks)) <= 1


def test_map_chunks_on_the_pool_matches_in_process():
    items = list(range(50))
    assert parallel.map_chunks(square_all, 5, items, True) == square_all(5, items)


def test_a_broken_pool_falls_back_to_one_core(monkeypatch):
    if parallel.worker_count() < 2:
        pytest.skip("needs two cores for the pool to be used")
    monkeypatch.setattr(parallel, "_broken_reason", None)
    items = list(range(20))
    with pytest.warns(RuntimeWarning, match="process pool failed"):
        assert parallel.map_chunks(die_in_workers, 1, items, True) == square_all(1, items)
    # Later batches stay in-process instead of starting a pool again.
    assert parallel._broken_reason is not None
    assert parallel.map_chunks(square_all, 0, items, True) == square_all(0, items)


@pytest.mark.parametrize(
    ("flag", "count", "bits", "expected"),
    [
        (None, 256, 2048, True),
        (None, 255, 2048, False),
        (None, 256, 1024, False),
        (None, 256 * 6, 1024, True),
        (True, 1, 512, True),
        (False, 10**6, 2048, False),
    ],
)
def test_should_parallelise_scales_with_key_size(flag, count, bits, expected):
    assert parallel.should_parallelise(flag, count, 256, bits) is expected


def test_in_process_batches_reuse_the_callers_key_tables():
    """One core works on the caller's key: no second table in the worker-side caches."""
    pk, sk = generate_keypair(512, rng=random.Random(3))
    keys._worker_public.clear()
    keys._worker_private.clear()
    values = np.arange(-4, 4) / 8
    encrypted = pk.encrypt_array(values, parallel=False)
    by_key_holder = sk.encrypt_array(values, parallel=False)
    assert np.array_equal(sk.decrypt_array(encrypted, parallel=False), values)
    assert np.array_equal(sk.decrypt_array(by_key_holder, parallel=False), values)
    assert not keys._worker_public
    assert not keys._worker_private
