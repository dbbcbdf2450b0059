"""`manage.py bootstrap_demo` builds the demo once, through the real upload path."""

from io import StringIO

import numpy as np
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from console.accounts.models import User
from console.audit.models import AuditEvent
from console.datasets.models import Authorization, Dataset
from console.demo.data import demo_tables
from console.projects.models import Project


def run_demo() -> str:
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    return run_demo()


def test_it_prints_every_login(demo):
    for username in ["admin", "alice", "bob", "carol"]:
        assert f"{username} " in demo
        assert f"privpad-{username}" in demo


def test_the_printed_passwords_work(demo):
    for username in ["alice", "bob", "carol", "admin"]:
        assert authenticate(username=username, password=f"privpad-{username}") is not None
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="bob").is_node_admin


def test_it_creates_three_profiled_datasets_in_node_storage(demo):
    datasets = {dataset.node.name: dataset for dataset in Dataset.objects.all()}
    assert set(datasets) == {"alice", "bob", "carol"}
    for dataset in datasets.values():
        assert dataset.row_count == 6000
        assert dataset.path.is_file()
        assert dataset.path.is_relative_to(dataset.node.storage_root)
    bob_columns = {column["name"]: column for column in datasets["bob"].columns}
    assert bob_columns["monthly_spend"]["nulls"] > 0
    carol_columns = [column["name"] for column in datasets["carol"].columns]
    assert "地区" in carol_columns
    assert AuditEvent.objects.filter(action="upload", outcome="success").count() == 3


def test_the_joint_project_has_everyone_and_every_dataset_authorised(demo):
    project = Project.objects.get(name="Joint credit risk")
    assert project.owner_node.name == "alice"
    assert sorted(project.members.values_list("name", flat=True)) == ["alice", "bob", "carol"]
    roles = {
        auth.dataset.node.name: auth.column_roles
        for auth in Authorization.objects.filter(project=project, revoked_at__isnull=True)
    }
    assert roles["alice"]["default_flag"] == "label"
    assert all(party_roles["customer_id"] == "id" for party_roles in roles.values())
    assert roles["carol"]["地区"] == "protected"


def test_each_step_is_audited_as_the_demo_user_who_owns_it(demo):
    uploads = AuditEvent.objects.filter(action="upload").select_related("actor", "node")
    assert sorted((e.actor_username, e.node.name) for e in uploads) == [
        ("alice", "alice"),
        ("bob", "bob"),
        ("carol", "carol"),
    ]
    assert {e.ip_address for e in uploads} == {None}  # a command: no client address
    created = AuditEvent.objects.get(action="project_create")
    assert (created.actor_username, created.actor_node.name) == ("alice", "alice")


def test_running_it_again_changes_nothing(demo):
    counts = (User.objects.count(), Dataset.objects.count(), Authorization.objects.count())
    again = run_demo()
    assert (User.objects.count(), Dataset.objects.count(), Authorization.objects.count()) == counts
    assert "privpad-alice" in again


def test_the_demo_data_is_deterministic_and_overlaps_about_eighty_percent():
    first, second = demo_tables(), demo_tables()
    for a, b in zip(first, second, strict=True):
        assert a.frame.equals(b.frame)
    ids = [set(table.frame["customer_id"]) for table in first]
    for i in range(3):
        for j in range(i + 1, 3):
            overlap = len(ids[i] & ids[j]) / len(ids[i])
            assert 0.75 <= overlap <= 0.85, (i, j, overlap)


def test_the_label_depends_on_every_party():
    alice, bob, carol = (table.frame for table in demo_tables())
    joined = alice.merge(bob, on="customer_id").merge(carol, on="customer_id").dropna()
    label = joined["default_flag"].to_numpy(float)
    # One feature per party that drives the label, each clearly correlated with it.
    for column in ["late_payments_12m", "return_rate", "claims_3y"]:
        correlation = np.corrcoef(joined[column].to_numpy(float), label)[0, 1]
        assert correlation > 0.1, (column, correlation)
