"""The demo pipeline of "Joint credit risk": a joint default-risk model of three parties.

    read alice / bob / carol -> PSI on customer_id (3 parties) -> table statistics
                             -> train/test split -> fill missing values (train; test)
                             -> scaler (fit on train; its rule applied to test)
                             -> SS-LR training (label default_flag at alice)
                             -> SS-LR prediction on the test set (receiver alice)
                             -> binary classification evaluation (at alice)

A second pipeline, "bob's scoring", is bob's: SS-LR on alice's and bob's joined customers with
the predictions (and customer ids) sent to bob. Scores derived from alice's label reaching bob is
row-level data her standing policy asks about, so its runs wait for alice's approval.

Standing policies (`DEMO_POLICIES`, on each party's authorisation) allow exactly what the demo
pipeline discloses: PSI membership, aggregates over groups of at least 20 rows, model shares,
and bob's and carol's row-level contributions (predictions, full curves) to alice, the label
holder, alone. Anything else is asked about.

The graphs are built from `workflows.graph` objects and checked by the same validation as any
saved pipeline. Each half of the split fills its own gaps (means of that half): fillna has no
rule input, while the scaler fitted on the train set is applied to the test set through its rule.
"""

from __future__ import annotations

from workflows.graph import Edge, Graph, Node
from workflows.starters import MODEL_EDGES, TRAINING

PIPELINE_NAME = "Default risk: PSI, SS-LR and evaluation"
PIPELINE_DESCRIPTION = (
    "Joins the three parties' customers by PSI, trains a secret-shared logistic regression on "
    "the train split and evaluates it on the test split; only alice receives the predictions."
)
KEY = "customer_id"
LABEL = "default_flag"
GAPS = ["monthly_spend", "days_since_last_order"]  # bob's columns with missing values
FEATURES = {
    "alice": ["age", "income", "debt_ratio", "credit_lines", "late_payments_12m"],
    "bob": ["monthly_spend", "orders_90d", "return_rate", "days_since_last_order"],
    "carol": ["policy_count", "claims_3y", "premium", "years_insured"],
}
ALL_FEATURES = [name for names in FEATURES.values() for name in names]
TEST_SIZE = 0.25
SEED = 1024


MIN_GROUP = 20
_SHARED = {"ids": "allow", "aggregates": "allow", "aggregates_min_k": MIN_GROUP, "models": "allow"}
DEMO_POLICIES = {
    "alice": _SHARED | {"row_level": "ask", "label_results": "ask"},
    "bob": _SHARED | {"row_level": "allow", "row_level_to": ["alice"]},
    "carol": _SHARED | {"row_level": "allow", "row_level_to": ["alice"]},
}
BOB_PIPELINE_NAME = "Bob's scoring: alice's risk scores for bob's customers"
BOB_PIPELINE_DESCRIPTION = (
    "Bob trains SS-LR on the customers he shares with alice and receives id-linked risk scores. "
    "The scores derive from alice's label, so each run needs alice's approval."
)
BOB_FEATURES = FEATURES["alice"] + ["orders_90d", "return_rate"]


def _node(node_id: str, component: str, column: int, row: int, **params) -> Node:
    return Node(node_id, component, "1.0.0", params, {"x": 40 + 220 * column, "y": 40 + 120 * row})


def _nodes(datasets: dict[str, int]) -> list[Node]:
    reads = [
        _node(f"read_{party}", "read/dataset", 0, row, dataset=datasets[party])
        for row, party in enumerate(("alice", "bob", "carol"))
    ]
    return [
        *reads,
        _node("psi", "data_prep/psi", 1, 1, keys1=[KEY], keys2=[KEY], keys3=[KEY]),
        _node("stats", "stats/table_statistics", 2, 0),
        _node("split", "data_prep/train_test_split", 2, 2, test_size=TEST_SIZE, train_size=0.75),
        _node("fill_train", "preprocessing/fillna", 3, 1, features=GAPS),
        _node("fill_test", "preprocessing/fillna", 3, 3, features=GAPS),
        _node("scale_train", "preprocessing/scaler", 4, 1, features=ALL_FEATURES),
        _node("scale_test", "preprocessing/scaler", 4, 3, features=ALL_FEATURES),
        _node("train", "ml.train/ss_lr", 5, 1, features=ALL_FEATURES, label=LABEL, **TRAINING),
        _node("predict", "ml.predict/ss_lr", 6, 2, receiver="alice", save_label=True),
        _node("evaluate", "ml.eval/binary_classification", 7, 2, label=LABEL, prediction="pred"),
    ]


EDGES = [
    Edge("read_alice", "output_ds", "psi", "input_ds1"),
    Edge("read_bob", "output_ds", "psi", "input_ds2"),
    Edge("read_carol", "output_ds", "psi", "input_ds3"),
    Edge("psi", "output_ds", "stats", "input_ds"),
    Edge("psi", "output_ds", "split", "input_ds"),
    *MODEL_EDGES,  # split -> fillna -> scaler -> SS-LR -> prediction -> evaluation
]


def bob_graph(datasets: dict[str, int]) -> Graph:
    """Bob's scoring: alice and bob joined by PSI, SS-LR, predictions with ids to bob."""
    nodes = [
        _node("read_alice", "read/dataset", 0, 0, dataset=datasets["alice"]),
        _node("read_bob", "read/dataset", 0, 1, dataset=datasets["bob"]),
        _node("psi", "data_prep/psi", 1, 0, keys1=[KEY], keys2=[KEY]),
        _node("split", "data_prep/train_test_split", 2, 0, test_size=TEST_SIZE, train_size=0.75),
        _node("scale_train", "preprocessing/scaler", 3, 0, features=BOB_FEATURES),
        _node("scale_test", "preprocessing/scaler", 3, 1, features=BOB_FEATURES),
        _node("train", "ml.train/ss_lr", 4, 0, features=BOB_FEATURES, label=LABEL, **TRAINING),
        _node("predict", "ml.predict/ss_lr", 5, 1, receiver="bob", save_ids=True),
    ]
    edges = [
        Edge("read_alice", "output_ds", "psi", "input_ds1"),
        Edge("read_bob", "output_ds", "psi", "input_ds2"),
        Edge("psi", "output_ds", "split", "input_ds"),
        Edge("split", "train_ds", "scale_train", "input_ds"),
        Edge("split", "test_ds", "scale_test", "input_ds"),
        Edge("scale_train", "output_rule", "scale_test", "input_rule"),
        Edge("scale_train", "output_ds", "train", "input_ds"),
        Edge("train", "output_model", "predict", "input_model"),
        Edge("scale_test", "output_ds", "predict", "input_ds"),
    ]
    return Graph({node.id: node for node in nodes}, edges)


def demo_graph(datasets: dict[str, int]) -> Graph:
    """The demo graph over the parties' dataset ids ({"alice": id, "bob": id, "carol": id})."""
    return Graph({node.id: node for node in _nodes(datasets)}, list(EDGES))
