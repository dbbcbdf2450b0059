"""Dataset tests keep node storage and upload temporaries in a directory of their own, so each
test can assert that a refused upload left no file anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def storage(settings, tmp_path) -> Path:
    """Per-test node storage (`nodes/`) and upload temporaries (`uploads/`)."""
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    settings.UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.UPLOAD_TEMP_DIR.mkdir()
    return tmp_path


@pytest.fixture
def dataset(api_alice):
    """Alice's dataset, uploaded through the API (a real file in her node's storage)."""
    from console.datasets.models import Dataset
    from tests.console.datasets.helpers import upload

    response = upload(api_alice)
    assert response.status_code == 201, response.json()
    return Dataset.objects.get(pk=response.json()["id"])


@pytest.fixture
def carol_project(alice, carol, alice_user):
    """A second project of alice's, shared with carol only (bob is not in it)."""
    from console.projects.models import Project, ProjectMember

    project = Project.objects.create(name="Claims study", owner_node=alice, created_by=alice_user)
    ProjectMember.objects.create(project=project, node=alice, added_by=alice_user)
    ProjectMember.objects.create(project=project, node=carol, added_by=alice_user)
    return project


@pytest.fixture
def api_alice_member(alice_member_user):
    """A plain member (not admin) of alice's node."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(alice_member_user)
    return client
