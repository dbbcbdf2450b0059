"""Early pytest plugin (`-p console.testing.pytest_plugin`, set in pyproject.toml).

It prepares the environment before pytest-django imports the settings.

- Node storage, uploads and the secret key of a test session live in a temporary directory.
- `--postgres` starts a throwaway PostgreSQL 15 cluster (`console/testing/pgcluster.py`) and points
  DATABASE_URL at it, so the database tests run on PostgreSQL; it is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_state: dict = {}


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run database tests against a throwaway PostgreSQL 15 cluster",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    data_dir = tempfile.mkdtemp(prefix="privpad-test-data-")
    _state["data_dir"] = data_dir
    os.environ["PRIVPAD_DATA_DIR"] = data_dir
    os.environ["PRIVPAD_SECRET_KEY"] = "test-only-secret-key-not-for-production-use-0123456789"
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    if early_config.known_args_namespace.postgres:
        _start_postgres()


def _start_postgres() -> None:
    from console.testing.pgcluster import ThrowawayCluster, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise pytest.UsageError("--postgres: PostgreSQL 15 server binaries are not installed")
    cluster = ThrowawayCluster(bin_dir).start()
    _state["cluster"] = cluster
    os.environ["DATABASE_URL"] = cluster.url


def pytest_unconfigure(config) -> None:
    cluster = _state.pop("cluster", None)
    if cluster is not None:
        cluster.stop()
    data_dir = _state.pop("data_dir", None)
    if data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
