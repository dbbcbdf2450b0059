"""Data at rest: 0700/0600 for everything the server writes, orphan files found and removed."""

from __future__ import annotations

import os
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.workflows.runs import run_now
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_storage(settings, tmp_path):
    """Node storage of this test alone (others leave files whose rows they flushed)."""
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    settings.DATA_DIR = tmp_path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def finished(credit_pipeline):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    return run


def test_outputs_datasets_and_their_folders_are_private(finished, credit):
    paths = [artifact.path for artifact in Artifact.objects.filter(node_run__run=finished)]
    paths.append(credit.path)
    assert {_mode(path) for path in paths} == {0o600}
    folders = {path.parent for path in paths}
    assert {_mode(folder) for folder in folders} == {0o700}


def test_the_database_file_is_private():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default only")
    assert _mode(Path(connection.settings_dict["NAME"])) == 0o600


def _storage_check(*args: str) -> str:
    out = StringIO()
    call_command("storage_check", *args, stdout=out)
    return out.getvalue()


def test_orphans_are_listed_then_removed(finished):
    root = Path(settings.NODE_STORAGE_DIR)
    recorded = Artifact.objects.filter(node_run__run=finished).first()
    orphan = recorded.path.parent / "left-behind.csv"
    orphan.write_text("id\n1\n")
    stray_run = root / "alice" / "runs" / "99999" / "read"
    stray_run.mkdir(parents=True)
    (stray_run / "output_ds.csv").write_text("id\n1\n")
    report = _storage_check("--min-age-minutes", "0")
    assert f"orphan: {orphan}" in report
    assert "Found 2 orphan file(s)" in report
    assert orphan.exists()

    report = _storage_check("--min-age-minutes", "0", "--delete")
    assert "Removed 2 orphan file(s)" in report
    assert not orphan.exists()
    assert not stray_run.exists()
    assert recorded.path.exists()
    assert all(a.path.exists() for a in Artifact.objects.all())
    assert "Found 0 orphan file(s)" in _storage_check("--min-age-minutes", "0")


def test_young_files_are_left_alone(finished):
    recorded = Artifact.objects.filter(node_run__run=finished).first()
    (recorded.path.parent / "being-written.csv").write_text("id\n")
    assert "Found 0 orphan file(s)" in _storage_check()


def test_loose_permissions_are_reported_and_fixed(finished):
    recorded = Artifact.objects.filter(node_run__run=finished).first()
    os.chmod(recorded.path, 0o644)
    assert "readable by other local users" in _storage_check()
    _storage_check("--fix-permissions")
    assert _mode(recorded.path) == 0o600
