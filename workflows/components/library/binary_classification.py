"""ml.eval/binary_classification: evaluate scores against a 0/1 label at the party holding both.

Report: sample counts, AUC (trapezoid over the ROC at every distinct score, as scikit-learn's
`roc_auc_score`), KS (max TPR - FPR), precision, recall, F1 and the confusion matrix at a
threshold, ROC, precision-recall, KS and lift curve points (thinned to 200), and an
equal-frequency bin table (rows sorted by descending score, cut into `bucket_size` bins).
"""

from __future__ import annotations

import numpy as np

from workflows.components.context import RunContext
from workflows.components.disclosure import disclose
from workflows.components.evaluation import (
    bucket_param,
    check_one_party,
    evaluation_party,
    label_param,
    prediction_param,
    read_pair,
    report_disclosure,
    thin,
)
from workflows.components.params import FloatParam
from workflows.components.schema import ArtifactInfo
from workflows.components.spec import Component, InferContext
from workflows.components.tables import finite, report_info, report_port, table_port


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    return {"report": report_info(ctx.env.parties)}


def _ratio(num, den) -> float | None:
    return finite(num / den) if den else None


def curve(y: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
    """Cumulative true/false positives at each distinct score, highest score first."""
    order = np.argsort(-score, kind="mergesort")
    ranked, labels = score[order], y[order]
    cut = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    tps = np.cumsum(labels)[cut]
    fps = cut + 1 - tps
    return {"thresholds": ranked[cut], "tps": tps, "fps": fps}


def confusion(y: np.ndarray, score: np.ndarray, threshold: float) -> dict:
    predicted = score >= threshold
    tp = int(np.sum(predicted & (y == 1)))
    fp = int(np.sum(predicted & (y == 0)))
    fn = int(np.sum(~predicted & (y == 1)))
    tn = int(np.sum(~predicted & (y == 0)))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"threshold": threshold, "tp": tp, "fp": fp, "fn": fn, "tn": tn} | {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _ratio(tp + tn, len(y)),
    }


def bins(y: np.ndarray, score: np.ndarray, buckets: int) -> list[dict]:
    order = np.argsort(-score, kind="mergesort")
    positives, negatives, base = y.sum(), len(y) - y.sum(), y.mean()
    rows, cum_pos, cum_neg = [], 0, 0
    for index, part in enumerate(np.array_split(order, min(buckets, len(y)))):
        pos = int(y[part].sum())
        cum_pos, cum_neg = cum_pos + pos, cum_neg + len(part) - pos
        rows.append(
            {
                "bin": index + 1,
                "count": len(part),
                "positives": pos,
                "negatives": len(part) - pos,
                "min_score": finite(score[part].min()),
                "max_score": finite(score[part].max()),
                "avg_score": finite(score[part].mean()),
                "precision": _ratio(pos, len(part)),
                "cumulative_recall": _ratio(cum_pos, positives),
                "cumulative_fpr": _ratio(cum_neg, negatives),
                "lift": _ratio(pos / len(part), base),
            }
        )
    return rows


def evaluate(y: np.ndarray, score: np.ndarray, threshold: float, buckets: int) -> dict:
    if not np.isin(y, (0, 1)).all():
        raise ValueError("the label must be 0 or 1")
    positives, n = int(y.sum()), len(y)
    if positives in (0, n):
        raise ValueError("the label needs both classes to compute AUC")
    c = curve(y, score)
    tpr = np.r_[0, c["tps"] / positives]
    fpr = np.r_[0, c["fps"] / (n - positives)]
    precision = c["tps"] / (c["tps"] + c["fps"])
    depth = (c["tps"] + c["fps"]) / n
    points = zip(c["thresholds"], tpr[1:], fpr[1:], precision, depth, strict=True)
    rows = [
        {
            "threshold": t,
            "tpr": r,
            "fpr": f,
            "precision": p,
            "depth": d,
            "lift": p / (positives / n),
        }
        for t, r, f, p, d in points
    ]
    rows = [{key: finite(value) for key, value in row.items()} for row in rows]
    return {
        "kind": "binary_classification",
        "title": "Binary classification evaluation",
        "summary": {
            "samples": n,
            "positives": positives,
            "negatives": n - positives,
            "auc": finite(np.trapezoid(tpr, fpr)),
            "ks": finite(np.max(tpr - fpr)),
        },
        "confusion": confusion(y, score, threshold),
        "curves": thin([{"fpr": 0.0, "tpr": 0.0, "threshold": None} | _zero()] + rows),
        "bins": bins(y, score, buckets),
    }


def _zero() -> dict:
    return {"precision": None, "depth": 0.0, "lift": None}


def run(ctx: RunContext) -> None:
    party = evaluation_party(ctx)
    y, score = read_pair(ctx, party)
    ctx.progress(40)
    report = ctx.at(party, evaluate, y, score, ctx.params["threshold"], ctx.params["bucket_size"])
    for receiver in ctx.infos["report"].parties:
        ctx.write_json("report", receiver, report)
    ctx.log(f"evaluated {len(y)} rows at {party}: AUC {report['summary']['auc']:.4f}")


COMPONENT = Component(
    domain="ml.eval",
    name="binary_classification",
    version="1.0.0",
    category="evaluation",
    label="Binary classification evaluation",
    description="AUC, KS, F1, precision/recall, confusion matrix, ROC/PR/KS/lift curves and an "
    "equal-frequency bin table.",
    inputs=(table_port("input_ds", "Table with label and prediction"),),
    outputs=(report_port(),),
    params=(
        label_param(),
        prediction_param(),
        bucket_param(),
        FloatParam(name="threshold", default=0.5, help="Score at or above which to predict 1."),
    ),
    infer=infer,
    check=check_one_party,
    run=run,
    disclosure=disclose(
        report=report_disclosure(
            "ROC, precision-recall, KS and lift curves, bins and thresholds in full",
            "AUC, KS, F1 and aggregated curves",
        )
    ),
)
