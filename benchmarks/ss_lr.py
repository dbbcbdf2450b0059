"""Benchmark SS-LR on SPU (SEMI2K, 2 parties): one JSON object on stdout.

Default: 10,000 rows x 20 features split 10 + 10 between two parties, 10 full-batch epochs,
real sigmoid, no per-epoch loss (as SecretFlow's SS-LR). Reports training seconds, traffic,
and the AUC next to scikit-learn's LogisticRegression on the same data.

    .venv/bin/python benchmarks/ss_lr.py [--quick] [--rows N] [--epochs E]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import core as sf  # noqa: E402
from core.ml.ss_lr import SSRegression  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 rows")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    rows = 1_000 if args.quick else args.rows
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, args.features))
    y = (1 / (1 + np.exp(-(x @ rng.normal(size=args.features)))) > rng.random(rows)).astype(float)
    half = args.features // 2

    load_before = os.getloadavg()[0]
    sf.init(parties=["alice", "bob"], address="local")
    try:
        spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
        parts = [sf.PYU("alice")(lambda: x[:, :half])(), sf.PYU("bob")(lambda: x[:, half:])()]
        label = sf.PYU("bob")(lambda: y)()
        sf.reset_link_stats()
        start = time.perf_counter()
        model = SSRegression(spu).fit(
            parts, label, epochs=args.epochs, learning_rate=1.0, sig_type="real", report_loss=False
        )
        sf.reveal(model.weights)
        seconds = time.perf_counter() - start
        stats = sf.link_stats()
        scores = sf.reveal(model.predict(parts))
    finally:
        sf.shutdown()
    report = _report(x, y, scores, rows, args, seconds, stats)
    report["load_average_before"], report["load_average_after"] = load_before, os.getloadavg()[0]
    print(json.dumps(report, indent=1))


def _report(x, y, scores, rows, args, seconds, stats) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    reference = LogisticRegression().fit(x, y).predict_proba(x)[:, 1]
    return {
        "benchmark": "ss_lr",
        "protocol": "SEMI2K",
        "parties": 2,
        "rows": rows,
        "features": args.features,
        "epochs": args.epochs,
        "sig_type": "real",
        "seconds": round(seconds, 3),
        "bytes_sent": stats["sent_bytes"],
        "auc": round(float(roc_auc_score(y, scores)), 5),
        "auc_sklearn": round(float(roc_auc_score(y, reference)), 5),
    }


if __name__ == "__main__":
    main()
