"""A credit-risk pipeline whose features need scaling: alice's income (hundreds of thousands)
and age, bob's spend; the label depends on all three (shared by workflows and e2e tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from console.datasets.models import Authorization
from tests.workflows.conftest import edge, make_dataset, node

ROWS = 400
SEED = 11


def bank_frame() -> pd.DataFrame:
    """alice's loans: income in the hundreds of thousands, age, the label."""
    rng = np.random.default_rng(SEED)
    income = rng.lognormal(12.2, 0.4, ROWS).round(2)  # median ~ 200,000
    age = rng.integers(21, 76, ROWS)
    return pd.DataFrame({"id": [f"u{i:04d}" for i in range(ROWS)], "income": income, "age": age})


def shop_frame() -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 1)
    return pd.DataFrame(
        {"id": [f"u{i:04d}" for i in range(ROWS)], "spend": rng.gamma(2.0, 30.0, ROWS).round(2)}
    )


def with_label(bank: pd.DataFrame, shop: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 2)
    standard = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    logit = (
        -0.4
        - 1.1 * standard(np.log(bank["income"]))
        + 0.7 * standard(bank["age"])
        + 0.9 * standard(shop["spend"])
    )
    bank = bank.copy()
    bank["y"] = (rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return bank


def authorise_datasets(alice, bob, project):
    """alice's `loans` and bob's `spend`, authorised to `project`; and their plaintext join."""
    shop = shop_frame()
    bank = with_label(bank_frame(), shop)
    loans = make_dataset(alice, "loans", bank)
    roles = {"id": "id", "income": "feature", "age": "feature", "y": "label"}
    Authorization.objects.create(dataset=loans, project=project, column_roles=roles)
    spend = make_dataset(bob, "spend", shop)
    roles = {"id": "id", "spend": "feature"}
    Authorization.objects.create(dataset=spend, project=project, column_roles=roles)
    return loans, spend, bank.merge(shop, on="id")


def credit_risk_graph(loans_id: int, spend_id: int, scaled: list[str], **predict) -> dict:
    """PSI -> split -> scaler (fit on train, rule applied to test) -> SS-LR -> prediction for
    alice -> binary classification evaluation, as the credit-risk template draws it."""
    features = ["income", "age", "spend"]
    nodes = [
        node("read_alice", "read/dataset", dataset=loans_id),
        node("read_bob", "read/dataset", dataset=spend_id),
        node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
        node("split", "data_prep/train_test_split", train_size=0.75, test_size=0.25),
        node("scale_train", "preprocessing/scaler", features=scaled),
        node("scale_test", "preprocessing/scaler", features=scaled),
        node("train", "ml.train/ss_lr", features=features, label="y", learning_rate=0.5),
        node("predict", "ml.predict/ss_lr", receiver="alice", **({"save_label": True} | predict)),
        node("evaluate", "ml.eval/binary_classification", label="y", prediction="pred"),
    ]
    edges = [
        edge("read_alice", "output_ds", "psi", "input_ds1"),
        edge("read_bob", "output_ds", "psi", "input_ds2"),
        edge("psi", "output_ds", "split", "input_ds"),
        edge("split", "train_ds", "scale_train", "input_ds"),
        edge("split", "test_ds", "scale_test", "input_ds"),
        edge("scale_train", "output_rule", "scale_test", "input_rule"),
        edge("scale_train", "output_ds", "train", "input_ds"),
        edge("train", "output_model", "predict", "input_model"),
        edge("scale_test", "output_ds", "predict", "input_ds"),
        edge("predict", "output_ds", "evaluate", "input_ds"),
    ]
    return {"nodes": nodes, "edges": edges}


def reference_auc(joined: pd.DataFrame) -> float:
    features = ["income", "age", "spend"]
    train, test = train_test_split(joined, train_size=0.75, test_size=0.25, random_state=1024)
    scaler = StandardScaler().fit(train[features])
    model = LogisticRegression().fit(scaler.transform(train[features]), train["y"])
    return roc_auc_score(test["y"], model.decision_function(scaler.transform(test[features])))
