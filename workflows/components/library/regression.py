"""ml.eval/regression: evaluate predicted values against the label at the party holding both.

Report: R2, MAE, MSE, RMSE, MAPE (relative errors divided by max(|y|, machine epsilon), as
scikit-learn's `mean_absolute_percentage_error`), SSE, label and prediction means, and a
histogram of the residuals (label - prediction) with `bucket_size` equal-width bins.

Recipients: the label owner gets the full report. Other parties get the same summary when it
covers at least k rows, and a residual histogram on round edges whose bins hold at least k rows
each, open-ended at both ends: equal-width edges would give the smallest and largest residual
(`workflows.components.aggregates`).
"""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from workflows.components.aggregates import enough_rows, grouped_histogram
from workflows.components.context import RunContext
from workflows.components.disclosure import disclose
from workflows.components.evaluation import (
    bucket_param,
    check_one_party,
    label_param,
    prediction_param,
    report_disclosure,
    write_reports,
)
from workflows.components.schema import ArtifactInfo
from workflows.components.spec import Component, InferContext
from workflows.components.tables import finite, report_info, report_port, table_port


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    return {"report": report_info(ctx.env.parties)}


def evaluate(y: np.ndarray, prediction: np.ndarray, buckets: int) -> dict:
    residual = y - prediction
    sse = float(np.sum(residual**2))
    sst = float(np.sum((y - y.mean()) ** 2))
    mse = sse / len(y)
    relative = np.abs(residual) / np.maximum(np.abs(y), np.finfo(np.float64).eps)
    counts, edges = np.histogram(residual, bins=buckets)
    return {
        "kind": "regression",
        "title": "Regression evaluation",
        "summary": {
            "samples": len(y),
            "r2": finite(1 - sse / sst) if sst > 0 else None,
            "mae": finite(np.mean(np.abs(residual))),
            "mse": finite(mse),
            "rmse": finite(np.sqrt(mse)),
            "mape": finite(np.mean(relative)),
            "sse": finite(sse),
            "label_mean": finite(y.mean()),
            "prediction_mean": finite(prediction.mean()),
        },
        "residual_histogram": [
            {"low": finite(low), "high": finite(high), "count": int(count)}
            for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True)
        ],
    }


def shared_evaluation(y: np.ndarray, prediction: np.ndarray, buckets: int, k: int) -> dict:
    """The report for parties other than the label owner: nothing covers fewer than k rows."""
    full = evaluate(y, prediction, buckets)
    return {key: full[key] for key in ("kind", "title")} | {
        "disclosure": {"view": "aggregated", "min_rows": k},
        "summary": full["summary"] if enough_rows(len(y), k) else {"samples": len(y)},
        "residual_histogram": grouped_histogram(y - prediction, buckets, k),
    }


def run(ctx: RunContext) -> None:
    buckets, k = ctx.params["bucket_size"], ctx.min_group_rows
    write_reports(
        ctx,
        lambda y, prediction: evaluate(y, prediction, buckets),
        lambda y, prediction: shared_evaluation(y, prediction, buckets, k),
    )


COMPONENT = Component(
    domain="ml.eval",
    name="regression",
    version="1.0.0",
    category="evaluation",
    label=_("Regression evaluation"),
    description=_("R2, MAE, MSE, RMSE, MAPE and a residual histogram."),
    inputs=(table_port("input_ds", _("Table with label and prediction")),),
    outputs=(report_port(),),
    params=(label_param(), prediction_param(), bucket_param()),
    infer=infer,
    check=check_one_party,
    run=run,
    disclosure=disclose(
        shaping=("bucket_size",),  # where the residual histogram is cut
        report=report_disclosure(
            gettext_noop("error metrics and the residual histogram in full"),
            gettext_noop(
                "R2, MAE, MSE, RMSE, MAPE, SSE, the label's and the predictions' means and a "
                "residual histogram with bins of at least k rows"
            ),
        ),
    ),
)
