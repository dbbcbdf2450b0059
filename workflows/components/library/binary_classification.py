"""ml.eval/binary_classification: evaluate scores against a 0/1 label at the party holding both.

Report: sample counts, AUC (trapezoid over the ROC at every distinct score, as scikit-learn's
`roc_auc_score`), KS (max TPR - FPR), precision, recall, F1 and the confusion matrix at a
threshold, ROC, precision-recall, KS and lift curve points (thinned to 200), and an
equal-frequency bin table (rows sorted by descending score, cut into `bucket_size` bins).

Recipients: the label owner (the party holding label and prediction, where this runs) gets the
full report. Every other party gets `shared_evaluation`: the same headline metrics, curve points
only where at least k rows separate them, thresholds that equal no row's score, bins of at
least k rows without their min and max score, and the confusion matrix only when both sides of
the threshold hold k rows (all of these only when each class has k rows)
(`workflows.components.aggregates`). Without that, curves with one point per distinct score
give away every (score, label) pair of the owner's rows.
"""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from workflows.components.aggregates import between, enough_rows, grouped_cuts
from workflows.components.context import RunContext
from workflows.components.disclosure import disclose
from workflows.components.evaluation import (
    bucket_param,
    check_one_party,
    label_param,
    prediction_param,
    report_disclosure,
    thin,
    write_reports,
)
from workflows.components.params import FloatParam
from workflows.components.schema import ArtifactInfo
from workflows.components.spec import Component, InferContext
from workflows.components.tables import finite, report_info, report_port, table_port
from workflows.messages import translatable


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
        raise ValueError(translatable("the label must be 0 or 1"))
    positives, n = int(y.sum()), len(y)
    if positives in (0, n):
        raise ValueError(translatable("the label needs both classes to compute AUC"))
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


def shared_evaluation(
    y: np.ndarray, score: np.ndarray, threshold: float, buckets: int, k: int
) -> dict:
    """The report for parties other than the label owner: nothing covers fewer than k rows."""
    full = evaluate(y, score, threshold, buckets)
    n, positives = len(y), full["summary"]["positives"]
    # With fewer than k rows of a class, AUC and the curves tell where those few rows rank.
    enough = enough_rows(min(positives, n - positives), k)
    return {key: full[key] for key in ("kind", "title")} | {
        "disclosure": {"view": "aggregated", "min_rows": k},
        "summary": full["summary"] if enough else {"samples": n},
        # tp + fn is the positives' count, and with a class of a few rows its cells say on
        # which side of the threshold those rows' scores lie: withheld with the summary.
        "confusion": (
            _shared_confusion(full["confusion"], k)
            if enough
            else _withheld(full["confusion"], f"fewer than {k} rows in a class")
        ),
        "curves": _grouped_curve(y, score, k, positives) if enough else [],
        "bins": _shared_bins(y, score, buckets, k) if enough else [],
    }


def _grouped_curve(y: np.ndarray, score: np.ndarray, k: int, positives: int) -> list[dict]:
    c, n = curve(y, score), len(y)
    rows = c["tps"] + c["fps"]
    points = [{"fpr": 0.0, "tpr": 0.0, "threshold": None} | _zero()]
    for index in grouped_cuts(rows, n, k):
        tps, fps = int(c["tps"][index]), int(c["fps"][index])
        last = index == len(rows) - 1
        cut = None if last else between(c["thresholds"][index + 1], c["thresholds"][index])
        precision = tps / (tps + fps)
        point = {
            "threshold": cut,
            "tpr": tps / positives,
            "fpr": fps / (n - positives),
            "precision": precision,
            "depth": (tps + fps) / n,
            "lift": precision / (positives / n),
        }
        points.append({key: finite(value) for key, value in point.items()})
    return points


def _shared_confusion(confusion: dict, k: int) -> dict:
    """At the requested threshold, only if both predicted groups hold at least k rows."""
    above = confusion["tp"] + confusion["fp"]
    below = confusion["fn"] + confusion["tn"]
    if enough_rows(min(above, below), k):
        return confusion
    return _withheld(confusion, f"fewer than {k} rows on a side")


def _withheld(confusion: dict, reason: str) -> dict:
    """The confusion matrix withheld: only its threshold and the reason are kept."""
    return {"threshold": confusion["threshold"], "withheld": reason}


def _shared_bins(y: np.ndarray, score: np.ndarray, buckets: int, k: int) -> list[dict]:
    count = min(buckets, len(y) // k)
    if count < 1:
        return []
    return [
        {key: value for key, value in row.items() if key not in ("min_score", "max_score")}
        for row in bins(y, score, count)
    ]


def run(ctx: RunContext) -> None:
    threshold, buckets, k = ctx.params["threshold"], ctx.params["bucket_size"], ctx.min_group_rows
    write_reports(
        ctx,
        lambda y, score: evaluate(y, score, threshold, buckets),
        lambda y, score: shared_evaluation(y, score, threshold, buckets, k),
    )


COMPONENT = Component(
    domain="ml.eval",
    name="binary_classification",
    version="1.0.0",
    category="evaluation",
    label=_("Binary classification evaluation"),
    description=_(
        "AUC, KS, F1, precision/recall, confusion matrix, ROC/PR/KS/lift curves and an "
        "equal-frequency bin table."
    ),
    inputs=(table_port("input_ds", _("Table with label and prediction")),),
    outputs=(report_port(),),
    params=(
        label_param(),
        prediction_param(),
        bucket_param(),
        FloatParam(name="threshold", default=0.5, help=_("Score at or above which to predict 1.")),
    ),
    infer=infer,
    check=check_one_party,
    run=run,
    disclosure=disclose(
        # Where the confusion matrix and the bins cut the scores.
        shaping=("threshold", "bucket_size"),
        report=report_disclosure(
            gettext_noop("ROC, precision-recall, KS and lift curves, bins and thresholds in full"),
            gettext_noop(
                "AUC, KS, F1, the label's class counts, the confusion matrix at the threshold, "
                "and curves and score bins aggregated over groups of at least k rows"
            ),
        ),
    ),
)
