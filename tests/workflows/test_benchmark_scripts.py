"""Benchmark scripts (issues 12 and 14) still run and report every figure their issue asks for.

Each script runs in a process of its own at a tiny size, as a user would run it; no timing is
asserted (figures belong to the benchmarks), only that the JSON carries them and that the
pipeline's AUC agrees with scikit-learn's on the same rows. (`plaintext_components.py` once
stopped importing, unnoticed, when components gained lazy translations.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
PLAINTEXT_CASES = {
    "read/dataset",
    "data_prep/train_test_split",
    "preprocessing/fillna",
    "preprocessing/scaler (fit)",
    "preprocessing/scaler (apply rule)",
    "preprocessing/vert_binning (eq_range fit)",
    "preprocessing/vert_binning (quantile fit)",
    "preprocessing/vert_binning (apply rule)",
    "data_filter/feature_filter",
    "stats/table_statistics",
}
SCALE_NODES = {
    "read_alice",
    "read_bob",
    "psi",
    "split",
    "scale_train",
    "scale_test",
    "train",
    "predict",
    "evaluate",
}


def run_benchmark(script: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_plaintext_components_reports_wall_and_cpu_seconds_per_component():
    figures = run_benchmark("plaintext_components.py", "--rows", "3000", "--repeat", "1")
    assert (figures["benchmark"], figures["rows"], figures["columns"]) == (
        "plaintext_components",
        3000,
        21,
    )
    for kind in ("seconds", "cpu_seconds"):
        assert set(figures[kind]) == PLAINTEXT_CASES
        assert all(value >= 0 for value in figures[kind].values())
    assert figures["peak_rss_mib"] > 0


def test_pipeline_scale_reports_every_node_and_matches_scikit_learn():
    (size,) = run_benchmark("pipeline_scale.py", "--rows", "2000")["sizes"]
    assert size["rows_per_party"] == 2000
    assert set(size["nodes"]) == SCALE_NODES
    for node in size["nodes"].values():
        assert {"wall_s", "peak_rss_mib", "sent_bytes", "disk_bytes"} <= set(node)
    assert size["nodes"]["psi"]["log"][0].startswith("PSI protocol: KKRT_PSI_2PC (automatic:")
    assert min(size["sent_bytes_per_party"][party] for party in ("alice", "bob")) > 0
    assert abs(size["auc"] - size["auc_sklearn"]) < 0.02, size


def test_pipeline_scale_in_party_processes_reports_memory_per_party():
    (size,) = run_benchmark("pipeline_scale.py", "--rows", "2000", "--processes")["sizes"]
    assert size["deployment"] == "processes"
    assert set(size["nodes"]) == SCALE_NODES
    parties = {"alice", "bob"}
    assert set(size["peak_rss_mib_per_party"]) == parties
    assert min(size["peak_rss_mib_per_party"].values()) > 50  # a Python + Django process
    for node in size["nodes"].values():
        peaks = node["peak_rss_mib_per_party"]
        assert set(peaks) == parties
        assert min(peaks.values()) > 0, node
        for party in parties:
            assert peaks[party] <= size["peak_rss_mib_per_party"][party]
        assert set(node["wall_s_per_party"]) == set(node["sent_bytes"]) == parties
    # Each party writes only its own storage: alice's read writes nothing at bob.
    assert size["nodes"]["read_alice"]["disk_bytes"]["alice"] > 0
    assert size["nodes"]["read_alice"]["disk_bytes"]["bob"] == 0
    assert min(size["sent_bytes_per_party"].values()) > 0
    assert abs(size["auc"] - size["auc_sklearn"]) < 0.02, size


def test_spu_psi_runs_our_side_and_says_why_spu_was_skipped(monkeypatch):
    """Issue 12's KKRT-PSI comparison: without an SPU interpreter only our two TLS processes
    run, their intersection is checked, and the report says why SPU's side was skipped."""
    monkeypatch.delenv("PRIVPAD_SPU_PYTHON", raising=False)
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "spu_psi.py"), "--ids", "2000", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ids_per_party"] == 2000
    assert report["ours_runs"][0]["intersection_size"] == [1000, 1000]
    assert report["ours_seconds"] > 0
    assert report["spu"].startswith("skipped: no SPU interpreter")
    assert "spu_seconds" not in report
