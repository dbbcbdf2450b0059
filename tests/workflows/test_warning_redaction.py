"""Warnings about a party's data as each party may read them (`workflows.redaction`), and as a
party's own process emits them in a network run (`workflows.party`).

An adversarial member (bob) must not learn alice's column names or that their values go beyond
±10 from a warning about alice's features; alice's users read it in full, with the fix.
"""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps

from tests.workflows.conftest import edge, node
from tests.workflows.helpers import warning_context
from tests.workflows.runs import new_run
from workflows import redaction, state
from workflows.party import _Worker
from workflows.placement import EMBEDDED

ALICES = {
    "time": "2026-12-04T00:00:00+00:00",
    "message": "features not scaled at alice: income, age go beyond ±10; Fix: add a scaler",
    "party": "alice",
}


@pytest.fixture
def small_run(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    return new_run(pipeline_factory(graph))


def test_the_party_a_warning_is_about_reads_it_in_full():
    shown = redaction.warning_for(ALICES, "alice")
    assert (shown["message"], shown["redacted"]) == (ALICES["message"], False)


@pytest.mark.parametrize("viewer", ["bob", "carol", None])
def test_other_parties_read_only_that_the_party_has_a_warning(viewer):
    shown = redaction.warning_for(ALICES, viewer)
    assert shown["redacted"] is True
    assert shown["party"] == "alice"
    assert shown["message"] == str(redaction.warning_public("alice"))
    assert "alice" in shown["message"]
    for detail in ("income", "age go", "±", "10", "scaler"):
        assert detail not in shown["message"], detail


def test_a_warning_about_no_partys_data_is_read_by_everyone_as_it_is():
    public = {"time": "t", "message": "training made no progress", "party": ""}
    assert redaction.warning_for(public, "bob")["message"] == "training made no progress"
    # Warnings stored before they had a party were public, and stay as they were.
    legacy = {"time": "t", "message": "an old warning"}
    assert redaction.warning_for(legacy, "bob")["message"] == "an old warning"


def test_a_component_must_say_whose_data_its_warning_is_about(tmp_path):
    seen: list[tuple[str, str | None]] = []
    ctx = warning_context(tmp_path, seen)
    with pytest.raises(TypeError):
        ctx.warn("no party named")  # type: ignore[call-arg]
    ctx.warn("about alice", party="alice")
    ctx.warn("about nobody", party=None)
    assert seen == [("about alice", "alice"), ("about nobody", None)]


def worker_at(me: str, networked: bool = True) -> _Worker:
    """A party worker's event side only: `me` and where it runs."""
    worker = object.__new__(_Worker)
    worker.me = me
    worker.placement = SimpleNamespace(networked=True) if networked else EMBEDDED
    return worker


def test_in_a_network_run_only_alices_node_emits_her_warning_in_full():
    public = redaction.warning_public("alice").stored()  # events carry the stored form
    at_bob = worker_at("bob")._warning(ALICES["message"], "alice")
    assert at_bob == {"message": public, "public": public, "about": "alice"}
    at_alice = worker_at("alice")._warning(ALICES["message"], "alice")
    assert at_alice == {"message": ALICES["message"], "public": public, "about": "alice"}
    embedded = worker_at("embedded", networked=False)._warning(ALICES["message"], "alice")
    assert embedded == at_alice  # every party runs here; `public` is for the others
    nobody = worker_at("bob")._warning("training made no progress", None)
    assert nobody["message"] == nobody["public"] == "training made no progress"


@pytest.mark.django_db
def test_warnings_stored_before_they_had_a_party_are_attributed_and_their_lines_redacted(
    small_run,
):
    """Migration 0005: the texts components wrote about a party's data get that party."""
    migration = importlib.import_module("workflows.migrations.0005_attribute_warnings_to_parties")
    stats = small_run.nodes.get(node_id="stats")
    old = "features not scaled at alice: income, age go beyond ±10; gradient descent ..."
    stats.warnings = [
        {"time": "t", "message": old},
        {"time": "t", "message": "training made no progress"},
    ]
    stats.logs = [
        {"time": "t", "message": "read 12 rows", "level": "info"},
        {"time": "t", "message": old, "level": "warning"},
        {"time": "t", "message": "training made no progress", "level": "warning"},
    ]
    stats.save(update_fields=["warnings", "logs"])
    migration.attribute_warnings(django_apps, None)
    stats.refresh_from_db()
    assert [w["party"] for w in stats.warnings] == ["alice", ""]
    assert stats.logs[0]["message"] == "read 12 rows"
    assert stats.logs[1] | {"time": None} == {
        "time": None,
        "message": redaction.warning_public("alice").stored(),
        "level": "warning",
        "party": "alice",
        "redacted": True,
        "warning": 0,
    }
    assert stats.logs[2]["message"] == "training made no progress"
    assert [line["message"] for line in state.logs_for(stats, "alice")][1] == old
    bobs = state.logs_for(stats, "bob") + state.warnings_for(stats, "bob")
    assert "income" not in json.dumps(bobs)
