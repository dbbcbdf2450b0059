"""A party's part of a run aggregates what it gives the others over at least its own node's k.

The job of a network run comes from the node that started it; a job asking for groups of 2
rows (a tampered or misconfigured initiator) still gets, from alice's part, curves whose every
point covers at least this node's `PRIVPAD_DISCLOSURE_MIN_ROWS` rows.
"""

from __future__ import annotations

import dataclasses
import json
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from console.demo.pipeline import LABEL
from tests.workflows.conftest import edge, node
from tests.workflows.network.demo_job import PARTIES, demo_job
from workflows.graph import parse_graph
from workflows.party import run_party

FEATURE = "income"  # continuous: with k=2 its curve would have hundreds of points


def evaluation_of_alices_label(datasets: dict[str, int]):
    """bob's probe: alice's label evaluated against one of her own features."""
    read = node("read", "read/dataset", dataset=datasets["alice"])
    evaluate = node("evaluate", "ml.eval/binary_classification", label=LABEL, prediction=FEATURE)
    edges = [edge("read", "output_ds", "evaluate", "input_ds")]
    return parse_graph({"nodes": [read, evaluate], "edges": edges})


@pytest.mark.django_db
def test_a_job_asking_for_groups_of_2_rows_gets_this_nodes_k(tmp_path, settings):
    settings.PRIVPAD_DISCLOSURE_MIN_ROWS = 25
    storage = {party: tmp_path / party for party in PARTIES}
    job = demo_job("1", storage, graph=evaluation_of_alices_label)
    result = run_party(dataclasses.replace(job, min_group_rows=2))
    assert result.status == "succeeded", result.message
    report = json.loads((storage["bob"] / "runs" / "1" / "evaluate" / "report.json").read_text())
    cuts = sorted(p["threshold"] for p in report["curves"] if p["threshold"] is not None)
    assert cuts, "bob's copy keeps some grouped points"
    alice = pd.read_csv(next((storage["alice"] / "datasets").glob("*.csv")))
    scores = alice[FEATURE].dropna().astype(float).to_numpy()
    edges = [-np.inf, *cuts, np.inf]
    groups = [((scores >= low) & (scores < high)).sum() for low, high in pairwise(edges)]
    assert min(groups) >= 25, groups
