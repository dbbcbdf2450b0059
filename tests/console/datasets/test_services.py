"""console.datasets.services called directly (as the pages and the demo bootstrap do): uploads
without the HTTP handler, the all-or-nothing store, deletion, preview limits, role checks."""

from __future__ import annotations

import errno
import os

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import RequestFactory

from console.audit.models import AuditEvent
from console.datasets import services
from console.datasets.models import Dataset
from tests.console.datasets.helpers import CSV, assert_nothing_left, leftovers, uploaded
from workflows.actors import Actor


def actor_for(user) -> Actor:
    """The actor of a request by `user` (from the test client's address)."""
    request = RequestFactory().post("/")
    request.user = user
    return Actor.from_request(request)


def test_it_stores_an_in_memory_upload(alice_user, alice):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers", " d ")
    assert dataset.node == alice
    assert dataset.description == "d"
    assert dataset.relative_path.startswith("datasets/")
    assert dataset.relative_path.endswith(".csv")
    # The CSV as uploaded and its typed table, converted once at upload.
    assert leftovers() == sorted([dataset.path, dataset.table_path])
    assert dataset.path.read_bytes() == CSV


def test_it_refuses_path_like_names_of_in_memory_uploads(alice_user):
    upload = uploaded(filename="x.csv")
    upload.client_name = "../../x.csv"
    with pytest.raises(ValidationError, match="contains a path separator"):
        services.create_dataset(actor_for(alice_user), upload, "customers")
    assert_nothing_left()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a/b.csv", "path separator"),
        ("a\\b.csv", "path separator"),
        ("..csv..", "contains '..'"),
        ("x\x00.csv", "control character"),
        ("x\x1b.csv", "control character"),
        ("  ", "is empty"),
        ("x" * 256, "longer than 255"),
    ],
)
def test_it_checks_file_names(name, problem):
    with pytest.raises(ValidationError, match=problem):
        services.check_file_name(name)


def test_it_accepts_ordinary_file_names():
    for name in ("customers.csv", "客户 2024.csv", "a.b-c_d (1).CSV"):
        services.check_file_name(name)


def test_it_removes_the_staged_copy_of_a_bad_file(alice_user):
    with pytest.raises(ValidationError, match="no data rows"):
        services.create_dataset(actor_for(alice_user), uploaded(b"a,b\n"), "customers")
    assert_nothing_left()


def test_it_caps_uploads_made_without_the_handler(alice_user, settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="exceeds the upload limit of 10 bytes"):
        services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    assert_nothing_left()


def test_it_leaves_no_file_when_the_row_cannot_be_saved(alice_user, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Dataset.objects, "create", fail)
    with pytest.raises(RuntimeError):
        services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    assert leftovers() == []
    event = AuditEvent.objects.get(action="upload")
    assert (event.outcome, event.detail["reason"]) == ("failed", "internal error: RuntimeError")


def test_it_leaves_no_row_when_the_file_cannot_be_moved(alice_user, monkeypatch):
    def fail(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services.upload, "move_file", fail)
    with pytest.raises(OSError, match="No space"):
        services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    assert_nothing_left()


def test_it_moves_across_filesystems_by_copying(tmp_path, monkeypatch):
    (tmp_path / "fs").mkdir()
    source, target = tmp_path / "source.part", tmp_path / "fs" / "target.csv"
    source.write_bytes(b"a,b\n1,2\n")
    real_replace = os.replace

    def replace(src, dst):
        if src == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    services.move_file(source, target)
    assert not source.exists()
    assert target.read_bytes() == b"a,b\n1,2\n"
    assert [p.name for p in (tmp_path / "fs").iterdir()] == ["target.csv"]


def test_it_deletes_a_dataset_whose_file_is_missing(alice_user, alice):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    dataset.path.unlink()
    services.delete_dataset(actor_for(alice_user), dataset)
    assert not Dataset.objects.exists()
    assert AuditEvent.objects.get(action="delete").detail["file_found"] is False


def test_it_keeps_the_file_when_the_row_cannot_be_deleted(alice_user, monkeypatch):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")

    def fail(self, *args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Dataset, "delete", fail)
    with pytest.raises(RuntimeError):
        services.delete_dataset(actor_for(alice_user), dataset)
    assert leftovers() == sorted([dataset.path, dataset.table_path])


def test_it_caps_the_preview_at_the_configured_rows(alice_user, settings):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    assert len(services.preview(actor_for(alice_user), dataset, limit=1)["rows"]) == 1
    settings.PRIVPAD_PREVIEW_ROWS = 2
    assert len(services.preview(actor_for(alice_user), dataset, limit=50)["rows"]) == 2


def test_it_reports_a_missing_file_on_preview(alice_user):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    dataset.path.unlink()
    with pytest.raises(ValidationError, match="missing from the node's storage"):
        services.preview(actor_for(alice_user), dataset)


def test_it_refuses_other_nodes_everything(alice_user, bob_user, project):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    bob = actor_for(bob_user)
    with pytest.raises(Http404):
        services.preview(bob, dataset)
    with pytest.raises(Http404):
        services.delete_dataset(bob, dataset)
    with pytest.raises(Http404):
        services.authorize_dataset(bob, dataset, project, {})
    assert dataset.path.exists()


def test_it_refuses_a_project_the_node_is_not_in(alice_user, carol_user, carol):
    from console.projects.models import Project, ProjectMember

    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    other = Project.objects.create(name="Carol's", owner_node=carol)
    ProjectMember.objects.create(project=other, node=carol)
    with pytest.raises(ValidationError, match="'alice' is not a member of project"):
        services.authorize_dataset(actor_for(alice_user), dataset, other, {})


def test_it_refuses_roles_that_are_not_a_mapping(alice_user):
    dataset = services.create_dataset(actor_for(alice_user), uploaded(), "customers")
    with pytest.raises(ValidationError, match="must be an object"):
        services.clean_column_roles(dataset, ["id"])
