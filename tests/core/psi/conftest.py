"""Fixtures for PSI tests: one small process pool shared by the whole module run."""

import pytest

from core.psi.kernels import make_pool


@pytest.fixture(scope="session")
def psi_pool():
    pool = make_pool(2)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)
