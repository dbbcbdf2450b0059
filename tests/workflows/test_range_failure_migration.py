"""Migration 0006: range failures stored before they were a party's own.

Their texts named a party's columns, bound and fix to every member. After the migration, one
naming one party's columns is that party's (its users keep the text, the others read the
public one, in the node, the run's message and the failure's log line); one naming several
parties' columns reads the same for everyone and names no column; anything else is untouched.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from tests.workflows.conftest import edge, node
from tests.workflows.runs import new_run
from workflows import redaction, state
from workflows.models import Status

pytestmark = pytest.mark.django_db
migration = importlib.import_module("workflows.migrations.0006_attribute_range_failures_to_parties")

BOBS = (
    "the values of bob's basket_total are out of the range SS-LR training can compute on in "
    "fixed point (operation plan_precision, safe bound 2^27 (1.34e+08)): values up to "
    "9.0072e+15 need 54 integer bits. Fix: add a scaler (Scaler, before this node) for bob's "
    "basket_total."
)
JOINT = (
    "SS-LR training stopped at a range check on values computed from alice's age, bob's "
    "basket_total (operation SS-LR weights, safe bound 64): a weight left [-64, 64]. Fix: the "
    "training diverges (lower learning_rate) or the features are too large (scale them)."
)


@pytest.fixture
def failed_run(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    return new_run(pipeline_factory(graph))


def store_old_failure(run, message: str, logs: list[dict] | None = None):
    """A failed node as the code before this migration stored it: one text for everyone."""
    stats = run.nodes.get(node_id="stats")
    stats.status, stats.message, stats.public_message, stats.party = (
        Status.FAILED,
        message,
        message,
        "",
    )
    stats.comm_bytes = {"alice": 10, "bob": 20}
    stats.logs = logs or [
        {
            "time": "t",
            "message": "the engine refused SS-LR training: plan_precision of ...",
            "level": "info",
        },
        {"time": "t", "message": f"failed: {message}", "level": "error"},
    ]
    stats.save()
    run.status, run.message = Status.FAILED, f"failed at Table statistics (stats): {message}"
    run.save()
    return stats


def migrate(run):
    migration.attribute_range_failures(django_apps, None)
    run.refresh_from_db()
    return run.nodes.get(node_id="stats")


def test_a_failure_naming_one_partys_columns_becomes_that_partys(failed_run):
    store_old_failure(failed_run, BOBS)
    stats = migrate(failed_run)
    public = migration.range_public("bob", "SS-LR training")  # its own English text
    assert (stats.party, stats.message, stats.public_message) == ("bob", BOBS, public)
    assert failed_run.message == f"failed at Table statistics (stats): {public}"
    assert [line["message"] for line in stats.logs] == [f"failed at bob: {public}"]
    assert stats.logs[0]["redacted"] is True
    assert state.logs_for(stats, "bob")[0]["message"] == f"failed at bob: {BOBS}"
    assert state.logs_for(stats, "alice")[0]["message"] == f"failed at bob: {public}"
    assert redaction.message_for(stats, "alice") == public
    assert redaction.message_for(stats, "bob") == BOBS


def test_a_failure_naming_several_parties_columns_names_none_for_anyone(failed_run):
    store_old_failure(failed_run, JOINT)
    stats = migrate(failed_run)
    assert stats.party == ""
    assert stats.message == stats.public_message
    assert stats.message == (
        "SS-LR training stopped at a range check (operation SS-LR weights) on values computed "
        "from the data of alice and bob: a value is outside the range this operation can "
        "compute on in fixed point. Fix: the training diverges (lower learning_rate) or the "
        "features are too large (scale them)."
    )
    assert "basket_total" not in failed_run.message
    assert [line["message"] for line in stats.logs] == [f"failed: {stats.message}"]


def test_an_old_fix_naming_columns_is_replaced_by_a_generic_one(failed_run):
    message = (
        "the values of alice's income; bob's basket_total leave SS-LR training only 8 "
        "fraction bits, fewer than the 10 it needs. Fix: add a scaler (Scaler, before this "
        "node) for alice's income and bob's basket_total."
    )
    store_old_failure(failed_run, message)
    stats = migrate(failed_run)
    assert stats.party == ""
    assert "basket_total" not in stats.message
    assert "income" not in stats.message
    assert stats.message.endswith("Fix: scale the inputs.")


def test_other_failures_and_migrated_ones_are_left_as_they_are(failed_run):
    other = "ValueError: something else"
    store_old_failure(failed_run, other, [{"time": "t", "message": "x", "level": "info"}])
    stats = migrate(failed_run)
    assert (stats.party, stats.message, stats.public_message) == ("", other, other)
    assert stats.logs == [{"time": "t", "message": "x", "level": "info"}]
    store_old_failure(failed_run, BOBS)
    once = migrate(failed_run)
    twice = migrate(failed_run)
    assert (twice.party, twice.message, twice.public_message, twice.logs) == (
        once.party,
        once.message,
        once.public_message,
        once.logs,
    )
