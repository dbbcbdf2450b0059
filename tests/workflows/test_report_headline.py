"""The run report opens with its headline metrics; missing values and port kinds read as words."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from tests.workflows.test_reports import alice_report, finished_run  # noqa: F401 - fixtures
from workflows.reports.charts import headline

pytestmark = pytest.mark.django_db

METRIC = re.compile(r'<div class="metric"><dt>([^<]+)</dt><dd>([^<]*)</dd></div>')
SUMMARY_ROW = re.compile(r"<tr><td>(auc|ks)</td><td>([^<]+)</td></tr>")


def test_binary_and_regression_reports_have_headline_metrics_in_order():
    report = {
        "kind": "binary_classification",
        "summary": {"auc": 0.91234, "ks": 0.5},
        "confusion": {"f1": 0.25, "precision": None, "recall": 0.1, "accuracy": 0.8},
    }
    assert headline(report) == [
        {"name": "AUC", "value": "0.9123"},
        {"name": "KS", "value": "0.5"},
        {"name": "F1", "value": "0.25"},
        {"name": "Precision", "value": ""},
        {"name": "Recall", "value": "0.1"},
        {"name": "Accuracy", "value": "0.8"},
    ]
    names = [m["name"] for m in headline({"kind": "regression", "summary": {"r2": 0.5}})]
    assert names == ["R²", "RMSE", "MAE", "MAPE"]
    assert headline({"kind": "psi"}) == []
    assert headline(["not", "a", "report"]) == []


def test_the_report_opens_with_the_evaluations_auc_and_ks(alice_report):  # noqa: F811
    headline_at = alice_report.index('id="headline-title"')
    assert headline_at < alice_report.index("<h2>Nodes</h2>")
    metrics = dict(METRIC.findall(alice_report[headline_at:]))
    assert list(metrics) == ["AUC", "KS", "F1", "Precision", "Recall", "Accuracy"]
    # The same numbers as the evaluation's own summary table further down.
    summary = dict(SUMMARY_ROW.findall(alice_report))
    assert metrics["AUC"] == summary["auc"]
    assert metrics["KS"] == summary["ks"]
    assert 0.0 <= float(metrics["AUC"]) <= 1.0


def test_port_kinds_read_as_words(alice_report):  # noqa: F811
    assert "table.individual" not in alice_report
    assert "table.vertical" not in alice_report
    assert "(table; parties" in alice_report


@pytest.mark.parametrize("value", [None, "", "  ", float("nan")])
def test_a_missing_value_is_a_dash_read_as_missing(value):
    html = Template("{% load values %}{{ value|or_missing }}").render(Context({"value": value}))
    assert html == (
        '<span class="missing"><span aria-hidden="true">—</span>'
        '<span class="visually-hidden">missing</span></span>'
    )


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (False, "False"), ("<b>", "&lt;b&gt;")])
def test_present_values_are_shown_escaped(value, shown):
    html = Template("{% load values %}{{ value|or_missing }}").render(Context({"value": value}))
    assert html == shown
