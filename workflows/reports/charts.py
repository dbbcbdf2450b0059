"""Charts and tables for each kind of report a component writes (its JSON `kind`).

A figure is plain JSON for `Plotly.newPlot(div, data, layout)`: no plotly Python objects, so
the HTML only carries data. A table is {"title", "columns", "rows"} with rows already
formatted as text. `views(report)` returns {"charts": [...], "tables": [...]} for any report;
a kind it does not know is shown as its JSON in a table of key/value pairs.

Everything is built in the active language (the reader's: the request's user, or the recipient
a report is rendered for): titles, axis and trace names, and the report's field names shown as
column headers and row names (`label`). Stored reports keep English keys; a field this module
does not know is shown as stored, and so are data (column, feature and party names).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

AXIS = {"zeroline": False, "gridcolor": "#e5e7eb", "automargin": True}


# Report fields as readers see them (English: the stored key itself).
FIELDS = {
    "samples": pgettext_lazy("report field", "samples"),
    "positives": pgettext_lazy("report field", "positives"),
    "negatives": pgettext_lazy("report field", "negatives"),
    "auc": pgettext_lazy("report field", "auc"),
    "ks": pgettext_lazy("report field", "ks"),
    "threshold": pgettext_lazy("report field", "threshold"),
    "tp": pgettext_lazy("report field", "tp"),
    "fp": pgettext_lazy("report field", "fp"),
    "fn": pgettext_lazy("report field", "fn"),
    "tn": pgettext_lazy("report field", "tn"),
    "precision": pgettext_lazy("report field", "precision"),
    "recall": pgettext_lazy("report field", "recall"),
    "f1": pgettext_lazy("report field", "f1"),
    "accuracy": pgettext_lazy("report field", "accuracy"),
    "bin": pgettext_lazy("report field", "bin"),
    "count": pgettext_lazy("report field", "count"),
    "min_score": pgettext_lazy("report field", "min_score"),
    "max_score": pgettext_lazy("report field", "max_score"),
    "avg_score": pgettext_lazy("report field", "avg_score"),
    "cumulative_recall": pgettext_lazy("report field", "cumulative_recall"),
    "cumulative_fpr": pgettext_lazy("report field", "cumulative_fpr"),
    "lift": pgettext_lazy("report field", "lift"),
    "low": pgettext_lazy("report field", "low"),
    "high": pgettext_lazy("report field", "high"),
    "r2": pgettext_lazy("report field", "r2"),
    "mae": pgettext_lazy("report field", "mae"),
    "mse": pgettext_lazy("report field", "mse"),
    "rmse": pgettext_lazy("report field", "rmse"),
    "mape": pgettext_lazy("report field", "mape"),
    "sse": pgettext_lazy("report field", "sse"),
    "label_mean": pgettext_lazy("report field", "label_mean"),
    "prediction_mean": pgettext_lazy("report field", "prediction_mean"),
    "column": pgettext_lazy("report field", "column"),
    "party": pgettext_lazy("report field", "party"),
    "type": pgettext_lazy("report field", "type"),
    "total_count": pgettext_lazy("report field", "total_count"),
    "nulls": pgettext_lazy("report field", "nulls"),
    "null_ratio": pgettext_lazy("report field", "null_ratio"),
    "distinct": pgettext_lazy("report field", "distinct"),
    "min": pgettext_lazy("report field", "min"),
    "max": pgettext_lazy("report field", "max"),
    "mean": pgettext_lazy("report field", "mean"),
    "median": pgettext_lazy("report field", "median"),
    "q1": pgettext_lazy("report field", "q1"),
    "q3": pgettext_lazy("report field", "q3"),
    "std": pgettext_lazy("report field", "std"),
    "skewness": pgettext_lazy("report field", "skewness"),
    "kurtosis": pgettext_lazy("report field", "kurtosis"),
    "sum": pgettext_lazy("report field", "sum"),
    "feature": pgettext_lazy("report field", "feature"),
    "protocol": pgettext_lazy("report field", "protocol"),
    "parties": pgettext_lazy("report field", "parties"),
    "input_rows": pgettext_lazy("report field", "input_rows"),
    "duplicates_dropped": pgettext_lazy("report field", "duplicates_dropped"),
    "intersection_size": pgettext_lazy("report field", "intersection_size"),
    "columns": pgettext_lazy("report field", "columns"),
    "epochs run": pgettext_lazy("report field", "epochs run"),
    "label": pgettext_lazy("report field", "label"),
    "bias": pgettext_lazy("report field", "bias"),
    "view": pgettext_lazy("report field", "view"),
    "note": pgettext_lazy("report field", "note"),
    "name": pgettext_lazy("report field", "name"),
    "value": pgettext_lazy("report field", "value"),
    "report": pgettext_lazy("report field", "report"),
    "kind": pgettext_lazy("report field", "kind"),
    "title": pgettext_lazy("report field", "title"),
    "bins": pgettext_lazy("report field", "bins"),
    "missing": pgettext_lazy("report field", "missing"),
}


def label(key) -> str:
    """A report field's name in the reader's language; anything else as it is."""
    return str(FIELDS.get(key, key)) if isinstance(key, str) else str(key)


def figure(title: str, data: list[dict], x: str, y: str, **layout) -> dict:
    return {
        "title": title,
        "data": data,
        "layout": {
            "title": {"text": title, "y": 0.98, "yanchor": "top"},
            "xaxis": {"title": {"text": x}, **AXIS},
            "yaxis": {"title": {"text": y}, **AXIS},
            "margin": {"l": 60, "r": 20, "t": 80, "b": 40},
            "height": 380,
            # Above the plot, under the title: never over tick labels or the axis title.
            "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        }
        | layout,
    }


def line(x: list, y: list, name: str, **extra) -> dict:
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name} | extra


def text(value) -> str:
    """A cell: floats to 4 significant digits, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table(
    title: str, rows: list[dict], columns: list[str] | None = None, headers: list | None = None
) -> dict:
    """Rows (dicts) under `columns` (their keys by default); headers are the columns' field
    names in the reader's language unless given (a header that is data stays as it is)."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    return {
        "title": title,
        "columns": [str(header) for header in headers] if headers else list(map(label, columns)),
        "rows": [[text(row.get(column)) for column in columns] for row in rows],
    }


def pairs(title: str, values: dict, fields: bool = True) -> dict:
    """A name/value table; names are report fields (translated) unless `fields` is False."""
    name = label if fields else str
    rows = [{"name": name(k), "value": v} for k, v in values.items()]
    return table(title, rows, ["name", "value"])


def binary_classification(report: dict) -> dict:
    points, bins = report.get("curves", []), report.get("bins", [])
    fpr = [p["fpr"] for p in points]
    tpr = [p["tpr"] for p in points]
    ranked = [p for p in points if p.get("precision") is not None]
    depth = [p["depth"] for p in points]
    diagonal = line([0, 1], [0, 1], _("random"), line={"dash": "dot", "color": "#9ca3af"})
    confusion = report.get("confusion", {})
    matrix = [
        [confusion.get("tp"), confusion.get("fn")],
        [confusion.get("fp"), confusion.get("tn")],
    ]
    charts = [
        figure(
            _("ROC curve"),
            [line(fpr, tpr, "ROC"), diagonal],
            _("false positive rate"),
            _("recall"),
        ),
        figure(
            _("Precision-recall curve"),
            [line([p["tpr"] for p in ranked], [p["precision"] for p in ranked], _("precision"))],
            _("recall"),
            _("precision"),
        ),
        figure(
            _("KS curve"),
            [
                line(depth, tpr, _("recall (TPR)")),
                line(depth, fpr, "FPR"),
                line(depth, [t - f for t, f in zip(tpr, fpr, strict=True)], "TPR - FPR"),
            ],
            _("share of population (by descending score)"),
            _("rate"),
        ),
        figure(
            _("Lift curve"),
            [line([p["depth"] for p in ranked], [p["lift"] for p in ranked], _("lift"))],
            _("share of population (by descending score)"),
            _("lift"),
        ),
        figure(
            _("Score distribution"),
            [
                _bars(bins, "positives", _("positives")),
                _bars(bins, "negatives", _("negatives")),
            ],
            _("bin (equal frequency, by descending score)"),
            _("rows"),
            barmode="stack",
        ),
    ]
    if "tp" in confusion:  # an aggregated copy may withhold it (too few rows on a side)
        actual, predicted = [_("actual 1"), _("actual 0")], [_("predicted 1"), _("predicted 0")]
        heatmap = _heatmap(matrix, actual, predicted)
        threshold = text(confusion.get("threshold"))
        title = _("Confusion matrix (threshold %(threshold)s)") % {"threshold": threshold}
        charts.append(figure(title, [heatmap], _("predicted"), _("actual"), showlegend=False))
        # Heatmap rows are drawn bottom-up: reverse so "actual 1" is the top row.
        charts[-1]["layout"]["yaxis"]["autorange"] = "reversed"
    tables = [
        pairs(_("Summary"), report.get("summary", {})),
        pairs(_("At the threshold"), confusion),
        table(_("Equal-frequency bins"), bins),
    ]
    return {"charts": charts, "tables": tables + _disclosure(report)}


def _bars(bins: list[dict], key: str, name: str) -> dict:
    return {
        "type": "bar",
        "x": [str(b["bin"]) for b in bins],
        "y": [b.get(key) for b in bins],
        "name": name,
        "customdata": [text(b.get("avg_score")) for b in bins],
        "hovertemplate": _("bin %(bin)s, average score %(score)s: %(rows)s")
        % {"bin": "%{x}", "score": "%{customdata}", "rows": "%{y}"}
        + f"<extra>{name}</extra>",
    }


def _heatmap(z: list[list], y: list[str], x: list[str], **extra) -> dict:
    return {
        "type": "heatmap",
        "z": z,
        "x": x,
        "y": y,
        "colorscale": "Blues",
        "reversescale": True,
        "texttemplate": "%{z}",
        "hovertemplate": "%{y} / %{x}: %{z}<extra></extra>",
    } | extra


def regression(report: dict) -> dict:
    histogram = report.get("residual_histogram", [])
    bars = {
        "type": "bar",
        "x": [_bin_label(b) for b in histogram],
        "y": [b["count"] for b in histogram],
        "name": _("rows"),
    }
    chart = figure(_("Residuals (label - prediction)"), [bars], _("residual"), _("rows"))
    chart["layout"]["xaxis"]["type"] = "category"
    tables = [pairs(_("Summary"), report.get("summary", {})), table(_("Residuals"), histogram)]
    return {"charts": [chart], "tables": tables + _disclosure(report)}


def _bin_label(b: dict) -> str:
    """A bin as text; aggregated copies have open-ended outer bins (no min, no max)."""
    low, high = b.get("low"), b.get("high")
    if low is None and high is None:
        return _("all")
    if low is None:
        return f"< {text(high)}"
    if high is None:
        return f">= {text(low)}"
    return _("%(low)s to %(high)s") % {"low": text(low), "high": text(high)}


def _disclosure(report: dict) -> list[dict]:
    """A note on copies aggregated for a party other than the data's owner."""
    disclosure = report.get("disclosure")
    if not isinstance(disclosure, dict) or disclosure.get("view") != "aggregated":
        return []
    note = _(
        "Aggregated copy: every point, bin and count covers at least %(rows)s rows; the "
        "data's owner holds the full report."
    ) % {"rows": disclosure.get("min_rows")}
    return [pairs(_("Your copy"), {"view": _("aggregated"), "note": note})]


def table_statistics(report: dict) -> dict:
    rows = report.get("columns", [])
    numeric = [row for row in rows if row.get("median") is not None]
    boxes = [
        {
            "type": "box",
            "name": f"{row['column']} ({row['party']})",
            "x": [f"{row['column']} ({row['party']})"],
            "q1": [row["q1"]],
            "median": [row["median"]],
            "q3": [row["q3"]],
            "lowerfence": [row["min"]],
            "upperfence": [row["max"]],
            "mean": [row["mean"]],
        }
        for row in numeric
    ]
    nulls = {
        "type": "bar",
        "x": [f"{row['column']} ({row['party']})" for row in rows],
        "y": [row.get("null_ratio") for row in rows],
        "name": _("null ratio"),
    }
    charts = [figure(_("Missing values per column"), [nulls], _("column"), _("null ratio"))]
    charts[0]["layout"]["yaxis"]["range"] = [0, 1]
    if boxes:
        spread = figure(_("Column statistics: min, quartiles, max"), boxes, _("column"), _("value"))
        charts.insert(0, spread | {"layout": spread["layout"] | {"showlegend": False}})
    return {"charts": charts, "tables": [table(_("Column statistics"), rows)]}


def pearson(report: dict) -> dict:
    owners = report.get("parties", {})
    names = [f"{name} ({owners.get(name, '?')})" for name in report.get("features", [])]
    matrix = report.get("matrix", [])
    heatmap = _heatmap(matrix, names, names, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True)
    heatmap["texttemplate"] = "%{z:.2f}"
    rows = [
        {"feature": n} | dict(zip(names, r, strict=False))
        for n, r in zip(names, matrix, strict=False)
    ]
    side = max(360, 40 * len(names) + 160)
    chart = figure(_("Correlation matrix (Pearson)"), [heatmap], "", "", height=side)
    chart["layout"]["yaxis"]["autorange"] = "reversed"
    headers = [label("feature"), *names]  # the other headers are data: features' names
    return {"charts": [chart], "tables": [table(_("Correlation matrix"), rows, None, headers)]}


def psi(report: dict) -> dict:
    parties = report.get("parties", [])
    rows = [
        {
            "party": party,
            "input_rows": report.get("input_rows", {}).get(party),
            "duplicates_dropped": report.get("duplicates_dropped", {}).get(party),
            "intersection_size": report.get("intersection_size"),
        }
        for party in parties
    ]
    bars = [
        {
            "type": "bar",
            "x": parties,
            "y": [r["input_rows"] for r in rows],
            "name": _("input rows"),
        },
        {
            "type": "bar",
            "x": parties,
            "y": [r["intersection_size"] for r in rows],
            "name": _("intersection"),
        },
    ]
    title = _("Private set intersection")
    return {
        "charts": [figure(title, bars, _("party"), _("rows"), barmode="group")],
        "tables": [
            pairs(_("Summary"), {"protocol": report.get("protocol"), "parties": parties}),
            table(_("Rows per party"), rows),
        ],
    }


def ss_lr_train(report: dict) -> dict:
    # Only the label holder's copy has the loss (`ml.train/ss_lr`): no empty chart elsewhere.
    loss = report.get("loss") or []
    epochs = list(range(1, len(loss) + 1))
    line_of_loss = [line(epochs, loss, _("loss"), mode="lines+markers")]
    charts = [figure(_("Loss per epoch"), line_of_loss, _("epoch"), _("loss"))] if loss else []
    features = [
        {"party": part["party"], "columns": ", ".join(part["columns"])}
        for part in report.get("features", [])
    ]
    tables = [
        pairs(_("Training"), {"epochs run": report.get("epochs_run"), "label": _label(report)}),
        table(_("Feature columns per party"), features),
    ]
    weights = report.get("weights")
    if weights:
        names, values = list(weights["features"]), list(weights["features"].values())
        bars = {"type": "bar", "x": values, "y": names, "orientation": "h", "name": _("weight")}
        height = max(300, 30 * len(names) + 120)
        charts.append(figure(_("Feature weights"), [bars], _("weight"), "", height=height))
        # Feature names are data, shown as they are; only "bias" is a field.
        rows = weights["features"] | {label("bias"): weights.get("bias")}
        tables.append(pairs(_("Weights"), rows, fields=False))
    return {"charts": charts, "tables": tables}


def _label(report: dict) -> str:
    label = report.get("label")
    if isinstance(label, dict):
        return f"{label.get('name')} ({label.get('party')})"
    return text(label)


def binning(report: dict) -> dict:
    """Each binned column: its count of rows per bin (a bar per bin, labelled by its edges),
    its number of bins and of missing values; the bins' table when the report holds them."""
    columns = report.get("columns", [])
    summary = [{key: c.get(key) for key in ("column", "party", "bins", "missing")} for c in columns]
    bins = [
        {"column": c["column"]} | {key: b.get(key) for key in ("bin", "low", "high", "count")}
        for c in columns
        for b in c.get("rule") or []
    ]
    charts = [
        figure(
            _("Rows per bin: %(column)s") % {"column": c["column"]},
            [_bin_bars(c["rule"], c.get("missing"))],
            _("bin"),
            _("rows"),
        )
        for c in columns
        if c.get("rule")
    ]
    tables = [table(_("Binned columns"), summary)]
    return {"charts": charts, "tables": tables + ([table(_("Bins"), bins)] if bins else [])}


def _bin_bars(rule: list[dict], missing: int | None) -> dict:
    last = len(rule) - 1
    names = [
        f"[{text(b['low'])}, {text(b['high'])}{']' if b['bin'] == last else ')'}" for b in rule
    ]
    counts = [b["count"] for b in rule]
    if missing:
        names, counts = [*names, _("missing")], [*counts, missing]
    return {"type": "bar", "x": names, "y": counts, "name": _("rows")}


def generic(report: dict) -> dict:
    return {"charts": [], "tables": [pairs(_("Values"), report)]}


VIEWS: dict[str, Callable[[dict], dict]] = {
    "binary_classification": binary_classification,
    "regression": regression,
    "table_statistics": table_statistics,
    "pearson": pearson,
    "psi": psi,
    "ss_lr_train": ss_lr_train,
    "binning": binning,
}


# The few numbers a reader looks for first, per report kind: (label, path in the report).
HEADLINES: dict[str, tuple[tuple[str, tuple[str, str]], ...]] = {
    "binary_classification": (
        ("AUC", ("summary", "auc")),
        ("KS", ("summary", "ks")),
        ("F1", ("confusion", "f1")),
        (gettext_lazy("Precision"), ("confusion", "precision")),
        (gettext_lazy("Recall"), ("confusion", "recall")),
        (gettext_lazy("Accuracy"), ("confusion", "accuracy")),
    ),
    "regression": (
        ("R²", ("summary", "r2")),
        ("RMSE", ("summary", "rmse")),
        ("MAE", ("summary", "mae")),
        ("MAPE", ("summary", "mape")),
    ),
}


def headline(report) -> list[dict]:
    """The report's headline metrics as [{"name", "value"}] (value "" when missing), in the
    order of HEADLINES; empty for kinds without headline metrics."""
    if not isinstance(report, dict):
        return []
    metrics = []
    for name, (section, key) in HEADLINES.get(str(report.get("kind")), ()):
        values = report.get(section)
        metrics.append({"name": str(name), "value": text(values.get(key) if values else None)})
    return metrics


def views(report) -> dict:
    if not isinstance(report, dict):
        return {"charts": [], "tables": [pairs(_("Values"), {"report": report})]}
    return VIEWS.get(str(report.get("kind")), generic)(report)
