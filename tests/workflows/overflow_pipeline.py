"""A pipeline whose parameters make bob's column overflow the fixed-point encoding (shared by
the embedded and network tests of range failures).

alice's `loans` (id, tenure_years in 0..10, label y) and bob's `baskets` (id,
basket_total_cents around 10^15, visits_90d in 0..9). alice builds SS-LR on every feature and
scales nothing of bob's: no precision holds bob's basket totals, so training fails at bob.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.workflows.conftest import edge, node

ROWS = 300
SEED = 23
KEY = "id"
LABEL = "y"
ALICES_FEATURES = ["tenure_years"]
BOBS_FEATURES = ["basket_total_cents", "visits_90d"]
BOBS_LARGE = "basket_total_cents"


def loans_frame() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    return pd.DataFrame(
        {
            KEY: [f"u{i:04d}" for i in range(ROWS)],
            "tenure_years": rng.uniform(0, 10, ROWS).round(3),
            LABEL: (rng.random(ROWS) < 0.4).astype(int),
        }
    )


def baskets_frame() -> pd.DataFrame:
    """bob's rows, in another order than alice's (PSI joins them)."""
    rng = np.random.default_rng(SEED + 1)
    frame = pd.DataFrame(
        {
            KEY: [f"u{i:04d}" for i in range(ROWS)],
            BOBS_LARGE: (rng.uniform(1.0, 9.0, ROWS) * 1e15).round(2),
            "visits_90d": rng.integers(0, 10, ROWS),
        }
    )
    return frame.iloc[rng.permutation(ROWS)].reset_index(drop=True)


def bobs_values(frame: pd.DataFrame) -> list[str]:
    """bob's values as a text would show them, and their order of magnitude as the engine
    measured it (2^53 = 9.0e15): what must reach no other party, in any field."""
    values = frame[BOBS_LARGE]
    shown = {f"{v:.6g}" for v in values} | {f"{v:g}" for v in values} | {str(v) for v in values}
    return [*sorted(shown), "2^53", "9.0072e+15", "9.00720e+15", "9.007199254740992e+15"]


def overflow_graph(alice_dataset: int, bob_dataset: int) -> dict:
    """read alice -> PSI <- read bob -> SS-LR on every feature, nothing scaled."""
    nodes = [
        node("read_alice", "read/dataset", dataset=alice_dataset),
        node("read_bob", "read/dataset", dataset=bob_dataset),
        node("psi", "data_prep/psi", keys1=[KEY], keys2=[KEY]),
        node("train", "ml.train/ss_lr", features=[*ALICES_FEATURES, *BOBS_FEATURES], label=LABEL),
    ]
    edges = [
        edge("read_alice", "output_ds", "psi", "input_ds1"),
        edge("read_bob", "output_ds", "psi", "input_ds2"),
        edge("psi", "output_ds", "train", "input_ds"),
    ]
    return {"nodes": nodes, "edges": edges}
