"""The input bounds of secure computations are in the plan (pure: no database).

Before SS-LR training, SS-LR prediction and Pearson compute, every party of the computation
learns each other party's power-of-two bound of its inputs' largest |x|, its row count and
whether some feature is unscaled (`secure.PartyBounds`). The plan an owner approves lists that
flow for every (source, recipient) pair, as an aggregate of the whole input."""

from __future__ import annotations

import dataclasses

import pytest
from django.utils import translation

from console.demo.pipeline import FEATURES, LABEL, demo_graph
from tests.workflows.test_disclosure_plan import IDS, demo_sources, plan_of
from workflows.components.disclosure import Form
from workflows.components.library import pearson, ss_lr_predict, ss_lr_train
from workflows.disclosure.words import sentence
from workflows.graph import Edge, Graph, Node

PARTIES = ("alice", "bob", "carol")


def bounds_at(plan, node: str, what: str) -> dict[tuple[str, str], set[str]]:
    """(source, recipient) -> the source's column names, for the bounds entries of `node`."""
    found = {}
    for entry in plan.entries:
        if (entry.node, entry.what) == (node, what):
            assert (entry.form, entry.k) == (Form.AGGREGATE, None), entry
            found[(entry.source, entry.recipient)] = {c.name for c in entry.columns}
    return found


def every_pair(columns: dict[str, list[str]]) -> dict[tuple[str, str], set[str]]:
    return {
        (source, recipient): set(names)
        for source, names in columns.items()
        for recipient in PARTIES
        if recipient != source
    }


def test_ss_lr_training_tells_every_party_the_others_feature_and_label_bounds():
    plan = plan_of(demo_graph(IDS))
    expected = every_pair(FEATURES | {"alice": [*FEATURES["alice"], LABEL]})
    assert bounds_at(plan, "train", ss_lr_train.BOUNDS_WHAT) == expected
    assert {e.port for e in plan.entries if e.what == ss_lr_train.BOUNDS_WHAT} == {"output_model"}


def test_only_the_bounds_are_marked_as_opened_during_the_run():
    plan = plan_of(demo_graph(IDS))
    opened = {e.what for e in plan.entries if e.during_run}
    assert opened == {ss_lr_train.BOUNDS_WHAT, ss_lr_predict.BOUNDS_WHAT}
    # The mark is in the identity (the fingerprint) of those entries only: other pipelines'
    # fingerprints, and the approvals bound to them, stay as they were.
    assert all(e.identity().get("during_run") is None for e in plan.entries if not e.during_run)
    assert all(e.identity()["during_run"] is True for e in plan.entries if e.during_run)


def test_ss_lr_prediction_tells_every_model_party_the_others_feature_bounds():
    plan = plan_of(demo_graph(IDS))
    # Not the label: prediction measures the features to score only.
    assert bounds_at(plan, "predict", ss_lr_predict.BOUNDS_WHAT) == every_pair(FEATURES)


def pearson_graph(features: list[str]) -> Graph:
    reads = [
        Node(f"read_{party}", "read/dataset", "1.0.0", {"dataset": IDS[party]}, {})
        for party in PARTIES
    ]
    keys = {f"keys{i}": ["customer_id"] for i in (1, 2, 3)}
    nodes = [
        *reads,
        Node("psi", "data_prep/psi", "1.0.0", keys, {}),
        Node("corr", "stats/pearson", "1.0.0", {"features": features}, {}),
    ]
    edges = [
        Edge(f"read_{p}", "output_ds", "psi", f"input_ds{i}") for i, p in enumerate(PARTIES, 1)
    ]
    edges.append(Edge("psi", "output_ds", "corr", "input_ds"))
    return Graph({node.id: node for node in nodes}, edges)


def test_pearson_tells_every_party_of_the_table_the_others_bounds_even_one_without_columns():
    plan = plan_of(pearson_graph(["age", "income", "monthly_spend"]))
    # carol chose no column: she discloses no bound but learns alice's and bob's.
    assert bounds_at(plan, "corr", pearson.BOUNDS_WHAT) == {
        ("alice", "bob"): {"age", "income"},
        ("alice", "carol"): {"age", "income"},
        ("bob", "alice"): {"monthly_spend"},
        ("bob", "carol"): {"monthly_spend"},
    }
    # The matrix itself stays a separate entry, over groups of at least k rows.
    matrix = [e for e in plan.entries if e.what == "the correlation matrix"]
    assert matrix
    assert {e.k for e in matrix} == {20}


def test_the_demo_policies_allow_the_bounds_and_a_policy_asking_about_aggregates_asks():
    assert {e.decision for e in plan_of(demo_graph(IDS)).entries} == {"allow"}
    sources = demo_sources()
    policy = sources[IDS["alice"]].policy | {"aggregates": "ask"}
    sources[IDS["alice"]] = dataclasses.replace(sources[IDS["alice"]], policy=policy)
    plan = plan_of(demo_graph(IDS), sources)
    bounds = [e for e in plan.entries if e.what == ss_lr_train.BOUNDS_WHAT]
    asked = {(e.source, e.recipient) for e in bounds if e.decision == "ask"}
    assert asked == {("alice", "bob"), ("alice", "carol")}
    assert {e.decision for e in bounds if e.source != "alice"} == {"allow"}


def training_bounds_to_bob() -> dict:
    plan = plan_of(demo_graph(IDS))
    [entry] = [
        e
        for e in plan.entries
        if (e.what, e.source, e.recipient) == (ss_lr_train.BOUNDS_WHAT, "alice", "bob")
    ]
    return entry.to_dict()


COLUMNS = "age, credit_lines, debt_ratio, income, late_payments_12m"


def test_the_bounds_in_words_for_the_owner():
    # (at most the smallest dataset's rows, carol's: the table is their PSI join)
    assert sentence(training_bounds_to_bob()) == (
        "bob receives: the order of magnitude (a power of two) of the largest absolute value "
        "of the features (and, apart, of the label), the row count and whether some feature is "
        "unscaled over up to 5,700 rows [aggregate, node train], derived from your columns "
        f"{COLUMNS} and label {LABEL}."
    )


@pytest.mark.parametrize(
    ("what", "chinese"),
    [
        (ss_lr_train.BOUNDS_WHAT, "特征（以及单独计算的标签）绝对值最大值的数量级（2 的幂）"),
        (ss_lr_predict.BOUNDS_WHAT, "待评分特征绝对值最大值的数量级（2 的幂）"),
        (pearson.BOUNDS_WHAT, "各列经本地缩放后绝对值最大值的数量级（2 的幂；该缩放将其固定为 8）"),
    ],
)
def test_the_bounds_in_chinese(what, chinese):
    entry = training_bounds_to_bob() | {"what": what}
    with translation.override("zh-hans"):
        text = sentence(entry)
    assert text.startswith("bob 收到：")
    assert chinese in text
    assert "［聚合，节点 train］" in text
    assert "order of magnitude" not in text
