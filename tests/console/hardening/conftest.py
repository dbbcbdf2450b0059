"""Hardening tests reuse the dataset tests' per-test storage."""

from tests.console.datasets.conftest import storage  # noqa: F401 - a fixture
