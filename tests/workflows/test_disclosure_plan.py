"""Disclosure declarations, the plan and standing policies (pure: no database)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from console.demo.pipeline import DEMO_POLICIES, FEATURES, KEY, LABEL, bob_graph, demo_graph
from workflows.components import registry
from workflows.components.disclosure import Disclosure, Form, UndeclaredDisclosure, disclose
from workflows.components.schema import Column
from workflows.components.spec import Registry
from workflows.disclosure.plan import Entry, SourceColumn
from workflows.disclosure.policy import Policy
from workflows.disclosure.words import sentence
from workflows.ports import SourceTable
from workflows.validation import validate

PARTIES = ("alice", "bob", "carol")
IDS = {"alice": 1, "bob": 2, "carol": 3}


def demo_sources(policies: dict | None = None) -> dict[int, SourceTable]:
    sources = {}
    for party, dataset_id in IDS.items():
        columns = [Column(KEY, "str", party, "id")]
        columns += [Column(name, "float", party, "feature") for name in FEATURES[party]]
        if party == "alice":
            columns.append(Column(LABEL, "int", party, "label"))
        policy = (policies or DEMO_POLICIES)[party]
        sources[dataset_id] = SourceTable(
            dataset_id, f"{party}_data", party, Path("/nowhere"), "f", tuple(columns),
            rows=6000 - 100 * dataset_id, authorization_id=10 + dataset_id, policy=policy,
        )  # fmt: skip
    return sources


def plan_of(graph, sources=None):
    checked = validate(graph, registry(), PARTIES, sources or demo_sources())
    assert checked.ok, [p.to_dict() for p in checked.problems]
    return checked.plan


@pytest.mark.parametrize("component", list(registry()), ids=lambda c: c.key)
def test_every_component_declares_every_output(component):
    assert isinstance(component.disclosure, Disclosure)
    assert component.disclosure.names() == {port.name for port in component.outputs}


def test_the_registry_refuses_a_component_without_declarations():
    scaler = registry().get("preprocessing/scaler")
    with pytest.raises(UndeclaredDisclosure, match="declares no disclosure"):
        Registry([dataclasses.replace(scaler, disclosure=None)])
    half = disclose(output_ds=scaler.disclosure.get("output_ds"))
    with pytest.raises(UndeclaredDisclosure, match=r"undeclared for \['output_rule'\]"):
        Registry([dataclasses.replace(scaler, disclosure=half)])


def test_the_demo_discloses_only_what_its_policies_allow():
    plan = plan_of(demo_graph(IDS))
    assert plan.entries
    assert {e.decision for e in plan.entries} == {"allow"}
    to_alice = {(e.source, e.node, e.form) for e in plan.entries if e.recipient == "alice"}
    assert ("bob", "predict", Form.ROW_LEVEL) in to_alice
    # Nothing row-level derived from anyone's data reaches bob or carol.
    others = [e for e in plan.entries if e.recipient != "alice"]
    assert {e.form for e in others} <= {Form.AGGREGATE, Form.IDS, Form.MODEL}
    assert all(e.k is None or e.k >= 20 for e in others if e.form == Form.AGGREGATE)


def test_bobs_demo_pipeline_asks_alice_about_her_label_derived_scores():
    plan = plan_of(bob_graph(IDS))
    asked = [e for e in plan.entries if e.decision == "ask"]
    assert [(e.source, e.recipient, e.node, e.what) for e in asked] == [
        ("alice", "bob", "predict", "id-linked prediction scores")
    ]
    assert SourceColumn("alice", 1, LABEL, "label") in asked[0].columns
    assert asked[0].rows == 5800  # the smaller of the two datasets joined


def test_the_fingerprint_follows_what_flows_not_other_settings():
    graph = demo_graph(IDS)
    first = plan_of(graph).fingerprint
    assert plan_of(demo_graph(IDS)).fingerprint == first
    graph.nodes["train"].params["epochs"] = 3
    assert plan_of(graph).fingerprint == first
    graph.nodes["predict"].params["save_ids"] = True
    assert plan_of(graph).fingerprint != first
    sources = demo_sources()
    sources[2] = dataclasses.replace(sources[2], authorization_id=99)  # re-granted
    assert plan_of(demo_graph(IDS), sources).fingerprint != first


def test_predictions_derive_from_the_model_parties_features_and_label():
    plan = plan_of(demo_graph(IDS))
    # (carol's other entries at predict: the bounds of her features, to alice and bob)
    [from_carol] = [
        e for e in plan.entries if (e.source, e.node, e.form) == ("carol", "predict", "row_level")
    ]
    assert {c.name for c in from_carol.columns} == set(FEATURES["carol"])
    assert from_carol.recipient == "alice"


def _entry(form: Form, *columns: tuple[str, str], k=None, recipient="bob") -> Entry:
    used = {SourceColumn("alice", 1, name, role) for name, role in columns}
    return Entry("alice", recipient, "n", "c", "p", form, "things", k, used)


def test_a_protected_column_is_refused_in_every_form_whatever_the_policy():
    allow_all = Policy("allow", "allow", 2, "allow", "allow", (), "allow")
    for form in (Form.AGGREGATE, Form.MODEL, Form.IDS, Form.ROW_LEVEL):
        decision, reason = allow_all.decide(_entry(form, ("secret", "protected"), k=1000))
        assert decision == "refuse", form
        assert "protected" in str(reason)


def test_policy_decisions():
    policy = Policy(aggregates="allow", aggregates_min_k=20, row_level="allow",
                    row_level_to=("carol",), label_results="refuse")  # fmt: skip
    assert policy.decide(_entry(Form.AGGREGATE, ("age", "feature"), k=20))[0] == "allow"
    assert policy.decide(_entry(Form.AGGREGATE, ("age", "feature"), k=1))[0] == "ask"
    assert policy.decide(_entry(Form.MODEL, ("age", "feature")))[0] == "ask"
    assert policy.decide(_entry(Form.ROW_LEVEL, ("age", "feature"), recipient="carol"))[0] == (
        "allow"
    )
    assert policy.decide(_entry(Form.ROW_LEVEL, ("age", "feature")))[0] == "ask"
    decision, reason = policy.decide(_entry(Form.ROW_LEVEL, ("y", "label"), recipient="carol"))
    assert decision == "refuse"
    assert "only alice receives predictions and curves" in str(reason)


def test_the_plan_in_words():
    entry = _entry(Form.ROW_LEVEL, ("income", "feature"), ("age", "feature"), ("y", "label"))
    entry.what, entry.rows, entry.node = "id-linked prediction scores", 4800, "predict"
    assert sentence(entry.to_dict()) == (
        "bob receives: id-linked prediction scores over up to 4,800 rows "
        "[row-level, node predict], derived from your columns age, income and label y."
    )
