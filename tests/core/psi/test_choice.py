"""The default PSI protocol: KKRT for two parties while memory allows, ECDH otherwise."""

from __future__ import annotations

from core.psi.choice import KKRT_BYTES_PER_KEY, KKRT_OVERHEAD, choose_protocol
from core.psi.kernels import shared_pool

GIB = 2**30


def test_two_parties_run_kkrt_when_it_fits():
    choice = choose_protocol([1_000_000, 1_000_000], memory=4 * GIB)
    assert choice.protocol == "kkrt"
    assert choice.reason == (
        "KKRT-PSI: two parties with 1,000,000 x 1,000,000 keys; about 572 MiB of the 4096 MiB "
        "available"
    )


def test_two_parties_fall_back_to_ecdh_when_kkrt_would_not_fit_in_half_the_memory():
    sizes = [10_000_000, 10_000_000]
    need = KKRT_BYTES_PER_KEY * KKRT_OVERHEAD * sum(sizes)
    assert choose_protocol(sizes, memory=2 * need).protocol == "kkrt"
    choice = choose_protocol(sizes, memory=2 * need - 1)
    assert choice.protocol == "ecdh"
    assert "more than 50% of the" in choice.reason
    assert "ECDH-PSI streams in bounded memory" in choice.reason


def test_three_parties_always_run_ecdh():
    choice = choose_protocol([10, 10, 10], memory=64 * GIB)
    assert (choice.protocol, choice.reason) == (
        "ecdh",
        "ECDH-PSI: 3 parties (KKRT-PSI runs between two only)",
    )


def test_the_measured_memory_is_used_by_default():
    assert choose_protocol([100, 100]).protocol == "kkrt"


def test_runs_share_one_worker_pool():
    first = shared_pool()
    assert shared_pool() is first
    assert first.submit(sum, [1, 2]).result(timeout=60) == 3


def test_warming_starts_every_worker_once():
    from core.psi import kernels

    kernels.warm_shared_pool()
    assert kernels._warmed
    pool = kernels.shared_pool()
    kernels.warm_shared_pool()  # a second call is free: no new pool, no tasks
    assert kernels.shared_pool() is pool
