"""Render a run report as one self-contained HTML file.

plotly.js comes from the installed plotly package (`plotly.offline.get_plotlyjs()`) and is
inlined, so the file opens with no network. Chart data travels as JSON in
`<script type="application/json">` blocks (Django's `json_script` escapes `<`, `>` and `&`), and
one small inline script draws them; no user string is ever concatenated into JavaScript. The
template autoescapes every name and value.
"""

from __future__ import annotations

from functools import cache

from django.template.loader import render_to_string

from workflows.disclosure.ledger import run_ledger
from workflows.models import Run
from workflows.reports.collect import run_facts

TEMPLATE = "workflows/run_report.html"


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    script = get_plotlyjs()
    # Inlined in a <script> element: a closing tag inside would end it early.
    if "</script" in script.lower():
        raise RuntimeError("plotly.js contains '</script' and cannot be inlined")
    return script


def number_charts(facts: dict) -> None:
    """Give every chart a unique element id (json_script needs one per block)."""
    count = 0
    for node in facts["nodes"]:
        for output in node["outputs"]:
            for chart in output.get("charts", []):
                count += 1
                chart["element"] = f"chart-{count}"


def render_run_report(run: Run, node_id: int) -> str:
    facts = run_facts(run, node_id)
    number_charts(facts)
    context = facts | {"plotly_js": plotly_js(), "ledger": run_ledger(run)}
    return render_to_string(TEMPLATE, context)


def report_filename(run: Run) -> str:
    return f"privpad-run-{run.pk}.html"
