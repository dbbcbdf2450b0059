"""The Content-Security-Policy in a real browser: pages and the downloaded report work under
it, and nothing they do needs 'unsafe-inline' (the browser reports no violation)."""

from __future__ import annotations

import pytest

from tests.e2e.canvas_helpers import open_canvas, select_node
from tests.e2e.conftest import log_in
from tests.e2e.test_canvas_editor import make_pipeline, node, world  # noqa: F401 - fixture
from tests.e2e.test_report_offline import report_file  # noqa: F401 - fixture

# Collects every violation the page reports (directive and the start of the refused text).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.cspViolations.push([event.violatedDirective, event.sample]));
"""
# X6's selection plugin adds its <style> whatever the configuration: it is refused, and
# static/vendor/x6/x6.css carries the same rules.
X6_SELECTION_STYLE = ("style-src-elem", ".x6-widget-selection {")


def _recording(page):
    page.add_init_script(RECORD_VIOLATIONS)
    return page


def _violations(page) -> list[tuple[str, str]]:
    return [(directive, sample) for directive, sample in page.evaluate("window.cspViolations")]


def test_the_report_draws_under_its_own_policy(new_page, report_file):  # noqa: F811
    page = _recording(new_page())
    page.route("http*://**/*", lambda route: route.abort())
    page.goto(report_file.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 8")
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert _violations(page) == []
    # A script the report did not bring (no nonce) does not run.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected === true") is False
    assert [directive for directive, _ in _violations(page)] == ["script-src-elem"]


@pytest.mark.parametrize(
    "path",
    ["/", "/projects/", "/datasets/", "/datasets/upload/", "/audit/", "/accounts/two-factor/"],
)
def test_pages_report_no_violation(new_page, asgi_live_server, world, path):  # noqa: F811
    page = _recording(new_page())
    log_in(page, asgi_live_server, "alice_admin")
    page.goto(f"{asgi_live_server}{path}")
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []


def test_the_canvas_works_under_the_policy(new_page, asgi_live_server, world):  # noqa: F811
    pipeline = make_pipeline(
        world, [node("read", "read/dataset", 80, 80, dataset=world["bank"].pk)]
    )
    page = _recording(new_page())
    log_in(page, asgi_live_server, "alice_admin")
    open_canvas(page, asgi_live_server, pipeline.pk)
    select_node(page, "read")
    graph = page.locator(".x6-graph")
    assert graph.evaluate("el => getComputedStyle(el).position") == "relative"
    refused = [(d, s) for d, s in _violations(page) if not s.startswith(X6_SELECTION_STYLE[1])]
    assert refused == []
