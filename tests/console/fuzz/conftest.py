"""Property-based tests: bounded example counts so CI stays fast (see each test's settings)."""

from tests.console.datasets.conftest import storage  # noqa: F401 - a fixture
