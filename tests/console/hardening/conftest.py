"""Hardening tests reuse the dataset tests' per-test storage and the pipeline fixtures."""

from tests.console.datasets.conftest import storage  # noqa: F401 - a fixture
from tests.workflows.conftest import (  # noqa: F401 - fixtures
    credit,
    credit_pipeline,
    pipeline_factory,
    shop,
)
