"""plotly's mode bar under the console's Content-Security-Policy: styled by the static
stylesheet (no refused <style>), its titles in the user's language, and its PNG download works.

A finished run's read-only page is opened and its evaluation's results shown. Screenshots land
in tests/e2e/artifacts/ (gitignored) to be looked at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, log_in
from tests.e2e.test_canvas_runs import credit_pipeline, tables  # noqa: F401 - fixtures
from tests.e2e.test_content_security_policy import X6_SELECTION_STYLE, _recording, _violations
from tests.e2e.test_report_offline import report_file  # noqa: F401 - fixture
from tests.workflows.runs import run_now
from workflows.models import Status

# The start of each <style> without a nonce in the page (the CSP refuses them): only X6's.
INJECTED = "els => els.map((el) => el.textContent.trim().split(/\\s+/).slice(0, 2).join(' '))"


@pytest.fixture
def finished(credit_pipeline):  # noqa: F811
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    return run


def _open_roc(page, base: str, run) -> object:
    """The evaluation's first chart (the ROC curve), drawn (charts draw once scrolled to)."""
    page.goto(f"{base}/pipelines/runs/{run.pk}/")
    page.wait_for_selector('body[data-canvas-ready="true"]')
    page.locator('#canvas [data-node-id="eval"]').dblclick()
    figure = page.locator("#panel-results figure").first
    figure.scroll_into_view_if_needed()
    expect(figure.locator(".js-plotly-plot .main-svg").first).to_be_attached(timeout=20_000)
    return figure


def test_the_mode_bar_is_styled_under_the_policy_and_downloads_a_png(
    asgi_live_server, finished, new_page
):
    base, page = asgi_live_server.url, _recording(new_page())
    log_in(page, base, "alice_admin")
    figure = _open_roc(page, base, finished)
    plot = figure.locator(".js-plotly-plot")
    plot.hover()
    button = plot.locator('.modebar-btn[data-title="Download plot as a PNG"]')
    expect(button).to_be_visible()
    titles = plot.locator(".modebar-btn").evaluate_all("els => els.map((el) => el.dataset.title)")
    assert titles == [
        "Download plot as a PNG",
        "Zoom",
        "Pan",
        "Zoom in",
        "Zoom out",
        "Reset axes",
    ]  # and no "Share chart..." (plotly.js 4 uploads to its cloud)
    ARTIFACTS.mkdir(exist_ok=True)
    figure.screenshot(path=str(ARTIFACTS / "chart-mode-bar.png"))
    # The static stylesheet styles it (no grey button boxes) and plotly injected no <style>.
    assert button.evaluate("el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert page.locator('link#plotly\\.js-style-global.no-inline-styles[rel="stylesheet"]').count()
    assert page.locator("#plotly\\.js-style-global").evaluate("el => el.sheet.cssRules.length") > 50
    assert page.locator("style:not([nonce])").evaluate_all(INJECTED) == [X6_SELECTION_STYLE[1]]
    with page.expect_download() as png:
        button.click()
    assert png.value.suggested_filename.endswith(".png")
    assert png.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [(d, t) for d, t in _violations(page) if not t.startswith(X6_SELECTION_STYLE[1])] == []


def test_the_mode_bar_speaks_the_users_language(asgi_live_server, finished, new_page, people):
    people["alice"].language = "zh-hans"
    people["alice"].save(update_fields=["language"])
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    plot = _open_roc(page, base, finished).locator(".js-plotly-plot")
    plot.hover()
    expect(plot.locator('.modebar-btn[data-title="下载图表为 PNG"]')).to_be_visible()
    expect(plot.locator('.modebar-btn[data-title="重置坐标轴"]')).to_be_visible()


def test_the_downloaded_report_has_the_mode_bar_under_its_own_policy(new_page, report_file):  # noqa: F811
    page = _recording(new_page())
    page.route("http*://**/*", lambda route: route.abort())
    page.goto(report_file.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 8")
    plot = page.locator(".js-plotly-plot").first
    plot.hover()
    button = plot.locator('.modebar-btn[data-title="Download plot as a PNG"]')
    expect(button).to_be_visible()
    assert plot.locator(".modebar-btn").count() == 6  # no "Share chart..."
    assert button.evaluate("el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    with page.expect_download() as png:
        button.click()
    assert png.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _violations(page) == []
