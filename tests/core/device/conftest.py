"""A fresh session per test; always shut down."""

import pytest

import core as sf


@pytest.fixture
def session():
    sf.init(parties=["alice", "bob", "carol"], address="local", seed=42)
    yield sf
    sf.shutdown()
