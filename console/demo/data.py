"""Deterministic demo data for three parties that share customers.

- alice, a bank: customer id, credit features and the binary label `default_flag`.
- bob, an e-commerce platform: customer id and behavioural features (with a few missing values).
- carol, an insurer: customer id, policy features and a region column with a non-ASCII name.

Every customer of a shared universe has all features; each party holds a random 80% of the
universe, so any two parties overlap on about 80% of their rows. The label is drawn from a
logistic model that uses features of all three parties, so a joint model beats any party's
model on its own. Pure numpy/pandas: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SEED = 20261122
UNIVERSE = 7500
SHARE_PER_PARTY = 0.8
REGIONS = ["华东", "华北", "华南", "西部", "东北"]


@dataclass(frozen=True)
class DemoTable:
    party: str
    name: str
    description: str
    frame: pd.DataFrame
    label: str | None = None
    protected: tuple[str, ...] = ()


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def _universe(rng: np.random.Generator) -> pd.DataFrame:
    n = UNIVERSE
    frame = pd.DataFrame({"customer_id": [f"C{index:06d}" for index in range(1, n + 1)]})
    frame["age"] = rng.integers(21, 76, n)
    frame["income"] = np.round(rng.lognormal(mean=10.6, sigma=0.45, size=n), 2)
    frame["debt_ratio"] = np.round(np.clip(rng.gamma(2.0, 0.18, n), 0, 2.5), 4)
    frame["credit_lines"] = rng.poisson(4, n)
    frame["late_payments_12m"] = rng.poisson(0.6, n)
    frame["monthly_spend"] = np.round(rng.lognormal(6.2, 0.7, n), 2)
    frame["orders_90d"] = rng.poisson(7, n)
    frame["return_rate"] = np.round(rng.beta(2, 14, n), 4)
    frame["days_since_last_order"] = rng.integers(0, 365, n)
    frame["policy_count"] = rng.integers(1, 6, n)
    frame["claims_3y"] = rng.poisson(0.5, n)
    frame["premium"] = np.round(rng.normal(3200, 900, n).clip(400, None), 2)
    frame["years_insured"] = rng.integers(0, 30, n)
    frame["地区"] = rng.choice(REGIONS, n)
    return frame


def _label(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Default risk driven by all three parties' features (bank, shop and insurer)."""
    logit = (
        -1.6
        + 0.8 * _standardise(frame["late_payments_12m"].to_numpy(float))
        + 0.9 * _standardise(frame["debt_ratio"].to_numpy(float))
        - 0.6 * _standardise(np.log(frame["income"].to_numpy(float)))
        + 0.8 * _standardise(frame["return_rate"].to_numpy(float))
        - 0.6 * _standardise(frame["orders_90d"].to_numpy(float))
        + 0.5 * _standardise(frame["days_since_last_order"].to_numpy(float))
        + 0.8 * _standardise(frame["claims_3y"].to_numpy(float))
        - 0.5 * _standardise(frame["years_insured"].to_numpy(float))
    )
    probability = 1.0 / (1.0 + np.exp(-logit))
    return (rng.random(len(frame)) < probability).astype(int)


def _sample_rows(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    keep = rng.choice(len(frame), size=int(len(frame) * SHARE_PER_PARTY), replace=False)
    return frame.iloc[np.sort(keep)].reset_index(drop=True)


def _with_missing(frame: pd.DataFrame, columns: list[str], rate: float, rng) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].astype(float)
        frame.loc[rng.random(len(frame)) < rate, column] = np.nan
    return frame


def demo_tables(seed: int = SEED) -> list[DemoTable]:
    """The three parties' tables, identical for the same seed."""
    rng = np.random.default_rng(seed)
    universe = _universe(rng)
    universe["default_flag"] = _label(universe, rng)
    bank = ["customer_id", "age", "income", "debt_ratio", "credit_lines", "late_payments_12m"]
    shop = ["customer_id", "monthly_spend", "orders_90d", "return_rate", "days_since_last_order"]
    insurer = ["customer_id", "policy_count", "claims_3y", "premium", "years_insured", "地区"]
    alice = _sample_rows(universe[[*bank, "default_flag"]], rng)
    bob = _with_missing(
        _sample_rows(universe[shop], rng), ["monthly_spend", "days_since_last_order"], 0.03, rng
    )
    carol = _sample_rows(universe[insurer], rng)
    return [
        DemoTable(
            "alice",
            "credit_customers",
            "Bank customers with default label.",
            alice,
            label="default_flag",
        ),
        DemoTable("bob", "shopping_behaviour", "E-commerce behaviour over 90 days.", bob),
        DemoTable(
            "carol",
            "insurance_policies",
            "Insurance policies and claims.",
            carol,
            protected=("地区",),
        ),
    ]
