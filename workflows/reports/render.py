"""Render a run report as one self-contained HTML file.

plotly.js comes from the installed plotly package (`plotly.offline.get_plotlyjs()`) and is
inlined, so the file opens with no network. Chart data travels as JSON in
`<script type="application/json">` blocks (Django's `json_script` escapes `<`, `>` and `&`), and
one small inline script draws them; no user string is ever concatenated into JavaScript. The
template autoescapes every name and value.

The file carries its own Content-Security-Policy (a meta tag), since it is opened from disk
with no server to send one: only its own two scripts and its style elements run (a nonce drawn
for each rendering), nothing loads from anywhere, forms post nowhere. Should a value ever slip
through escaping, it still could not run or call home.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from functools import cache

from django.template.loader import render_to_string

from workflows.disclosure.ledger import run_ledger
from workflows.models import Run
from workflows.reports.collect import run_facts
from workflows.reports.plotly_config import plotly_config

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


# The only style attributes plotly sets (by `setAttribute`, which a policy governs, unlike the
# CSSOM): an empty one on colour-bar fills, and its image-rendering feature probe.
PLOTLY_STYLE_ATTRIBUTES = (
    "",
    "".join(
        f"image-rendering: {value}; "
        for value in (
            "optimizeSpeed",
            "-moz-crisp-edges",
            "-o-crisp-edges",
            "-webkit-optimize-contrast",
            "optimize-contrast",
            "crisp-edges",
            "pixelated",
        )
    ),
)
# plotly skips injecting a stylesheet when an element with its id exists (see the template).
_PLOTLY_STYLE_ID = re.compile(r'getElementById\("([0-9a-f]{64})"\)')


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def report_csp(nonce: str) -> str:
    """The report's policy: its own scripts and styles (nonce), plotly's two known style
    attributes (hashes), inline images; nothing loads from anywhere."""
    attributes = " ".join(_csp_hash(value) for value in PLOTLY_STYLE_ATTRIBUTES)
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src-elem 'nonce-{nonce}'; "
        f"style-src-attr 'unsafe-hashes' {attributes}; img-src data: blob:; font-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


@cache
def plotly_placeholder_styles() -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PLOTLY_STYLE_ID.findall(plotly_js())))


def render_run_report(run: Run, node_id: int) -> str:
    facts = run_facts(run, node_id)
    number_charts(facts)
    nonce = secrets.token_urlsafe(18)
    context = facts | {
        "plotly_js": plotly_js(),
        "ledger": run_ledger(run),
        "plotly_placeholder_styles": plotly_placeholder_styles(),
        "plotly_config": plotly_config(),
        "csp_nonce": nonce,
        "report_csp": report_csp(nonce),
    }
    return render_to_string(TEMPLATE, context)


def report_filename(run: Run) -> str:
    return f"privpad-run-{run.pk}.html"
