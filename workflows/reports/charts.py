"""Charts and tables for each kind of report a component writes (its JSON `kind`).

A figure is plain JSON for `Plotly.newPlot(div, data, layout)`: no plotly Python objects, so
the HTML only carries data. A table is {"title", "columns", "rows"} with rows already
formatted as text. `views(report)` returns {"charts": [...], "tables": [...]} for any report;
a kind it does not know is shown as its JSON in a table of key/value pairs.
"""

from __future__ import annotations

import json
from collections.abc import Callable

AXIS = {"zeroline": False, "gridcolor": "#e5e7eb", "automargin": True}


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
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table(title: str, rows: list[dict], columns: list[str] | None = None) -> dict:
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    return {
        "title": title,
        "columns": columns,
        "rows": [[text(row.get(column)) for column in columns] for row in rows],
    }


def pairs(title: str, values: dict) -> dict:
    return table(title, [{"name": k, "value": v} for k, v in values.items()], ["name", "value"])


def binary_classification(report: dict) -> dict:
    points, bins = report.get("curves", []), report.get("bins", [])
    fpr = [p["fpr"] for p in points]
    tpr = [p["tpr"] for p in points]
    ranked = [p for p in points if p.get("precision") is not None]
    depth = [p["depth"] for p in points]
    diagonal = line([0, 1], [0, 1], "random", line={"dash": "dot", "color": "#9ca3af"})
    confusion = report.get("confusion", {})
    matrix = [
        [confusion.get("tp"), confusion.get("fn")],
        [confusion.get("fp"), confusion.get("tn")],
    ]
    charts = [
        figure("ROC curve", [line(fpr, tpr, "ROC"), diagonal], "false positive rate", "recall"),
        figure(
            "Precision-recall curve",
            [line([p["tpr"] for p in ranked], [p["precision"] for p in ranked], "precision")],
            "recall",
            "precision",
        ),
        figure(
            "KS curve",
            [
                line(depth, tpr, "recall (TPR)"),
                line(depth, fpr, "FPR"),
                line(depth, [t - f for t, f in zip(tpr, fpr, strict=True)], "TPR - FPR"),
            ],
            "share of population (by descending score)",
            "rate",
        ),
        figure(
            "Lift curve",
            [line([p["depth"] for p in ranked], [p["lift"] for p in ranked], "lift")],
            "share of population (by descending score)",
            "lift",
        ),
        figure(
            "Score distribution",
            [
                _bars(bins, "positives", "positives"),
                _bars(bins, "negatives", "negatives"),
            ],
            "bin (equal frequency, by descending score)",
            "rows",
            barmode="stack",
        ),
    ]
    if "tp" in confusion:  # an aggregated copy may withhold it (too few rows on a side)
        heatmap = _heatmap(matrix, ["actual 1", "actual 0"], ["predicted 1", "predicted 0"])
        title = f"Confusion matrix (threshold {text(confusion.get('threshold'))})"
        charts.append(figure(title, [heatmap], "predicted", "actual", showlegend=False))
        # Heatmap rows are drawn bottom-up: reverse so "actual 1" is the top row.
        charts[-1]["layout"]["yaxis"]["autorange"] = "reversed"
    tables = [
        pairs("Summary", report.get("summary", {})),
        pairs("At the threshold", confusion),
        table("Equal-frequency bins", bins),
    ]
    return {"charts": charts, "tables": tables + _disclosure(report)}


def _bars(bins: list[dict], key: str, name: str) -> dict:
    return {
        "type": "bar",
        "x": [str(b["bin"]) for b in bins],
        "y": [b.get(key) for b in bins],
        "name": name,
        "customdata": [text(b.get("avg_score")) for b in bins],
        "hovertemplate": "bin %{x}, average score %{customdata}: %{y}<extra>" + name + "</extra>",
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
        "name": "rows",
    }
    chart = figure("Residuals (label - prediction)", [bars], "residual", "rows")
    chart["layout"]["xaxis"]["type"] = "category"
    tables = [pairs("Summary", report.get("summary", {})), table("Residuals", histogram)]
    return {"charts": [chart], "tables": tables + _disclosure(report)}


def _bin_label(b: dict) -> str:
    """A bin as text; aggregated copies have open-ended outer bins (no min, no max)."""
    low, high = b.get("low"), b.get("high")
    if low is None and high is None:
        return "all"
    if low is None:
        return f"< {text(high)}"
    if high is None:
        return f">= {text(low)}"
    return f"{text(low)} to {text(high)}"


def _disclosure(report: dict) -> list[dict]:
    """A note on copies aggregated for a party other than the data's owner."""
    disclosure = report.get("disclosure")
    if not isinstance(disclosure, dict) or disclosure.get("view") != "aggregated":
        return []
    note = (
        f"Aggregated copy: every point, bin and count covers at least "
        f"{disclosure.get('min_rows')} rows; the data's owner holds the full report."
    )
    return [pairs("Your copy", {"view": "aggregated", "note": note})]


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
        "name": "null ratio",
    }
    charts = [figure("Missing values per column", [nulls], "column", "null ratio")]
    charts[0]["layout"]["yaxis"]["range"] = [0, 1]
    if boxes:
        spread = figure("Column statistics: min, quartiles, max", boxes, "column", "value")
        charts.insert(0, spread | {"layout": spread["layout"] | {"showlegend": False}})
    return {"charts": charts, "tables": [table("Column statistics", rows)]}


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
    chart = figure("Correlation matrix (Pearson)", [heatmap], "", "", height=side)
    chart["layout"]["yaxis"]["autorange"] = "reversed"
    return {"charts": [chart], "tables": [table("Correlation matrix", rows)]}


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
        {"type": "bar", "x": parties, "y": [r["input_rows"] for r in rows], "name": "input rows"},
        {
            "type": "bar",
            "x": parties,
            "y": [r["intersection_size"] for r in rows],
            "name": "intersection",
        },
    ]
    return {
        "charts": [figure("Private set intersection", bars, "party", "rows", barmode="group")],
        "tables": [
            pairs("Summary", {"protocol": report.get("protocol"), "parties": parties}),
            table("Rows per party", rows),
        ],
    }


def ss_lr_train(report: dict) -> dict:
    loss = report.get("loss", [])
    epochs = list(range(1, len(loss) + 1))
    charts = [
        figure(
            "Loss per epoch", [line(epochs, loss, "loss", mode="lines+markers")], "epoch", "loss"
        )
    ]
    features = [
        {"party": part["party"], "columns": ", ".join(part["columns"])}
        for part in report.get("features", [])
    ]
    tables = [
        pairs("Training", {"epochs run": report.get("epochs_run"), "label": _label(report)}),
        table("Feature columns per party", features),
    ]
    weights = report.get("weights")
    if weights:
        names, values = list(weights["features"]), list(weights["features"].values())
        bars = {"type": "bar", "x": values, "y": names, "orientation": "h", "name": "weight"}
        charts.append(
            figure("Feature weights", [bars], "weight", "", height=max(300, 30 * len(names) + 120))
        )
        tables.append(pairs("Weights", weights["features"] | {"bias": weights.get("bias")}))
    return {"charts": charts, "tables": tables}


def _label(report: dict) -> str:
    label = report.get("label")
    if isinstance(label, dict):
        return f"{label.get('name')} ({label.get('party')})"
    return text(label)


def generic(report: dict) -> dict:
    return {"charts": [], "tables": [pairs("Values", report)]}


VIEWS: dict[str, Callable[[dict], dict]] = {
    "binary_classification": binary_classification,
    "regression": regression,
    "table_statistics": table_statistics,
    "pearson": pearson,
    "psi": psi,
    "ss_lr_train": ss_lr_train,
}


# The few numbers a reader looks for first, per report kind: (label, path in the report).
HEADLINES: dict[str, tuple[tuple[str, tuple[str, str]], ...]] = {
    "binary_classification": (
        ("AUC", ("summary", "auc")),
        ("KS", ("summary", "ks")),
        ("F1", ("confusion", "f1")),
        ("Precision", ("confusion", "precision")),
        ("Recall", ("confusion", "recall")),
        ("Accuracy", ("confusion", "accuracy")),
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
        metrics.append({"name": name, "value": text(values.get(key) if values else None)})
    return metrics


def views(report) -> dict:
    if not isinstance(report, dict):
        return {"charts": [], "tables": [pairs("Values", {"report": report})]}
    return VIEWS.get(str(report.get("kind")), generic)(report)
