"""The main pages at 1440, 1024 and 390 px: screenshots for people to look at, and the checks.

Screenshots of the dashboard, the project, the demo pipeline's canvas, a run's read-only view,
the runs page and the HTML run report go to tests/e2e/artifacts/screens/ (gitignored, where
failure screenshots go too) as `<page>-<width>.png`.

- At 1440 and 1024 px every node of the demo pipeline (ports included) lies inside the canvas,
  the area beside the side panel and above the log drawer: when the page opens, after the user
  zoomed in and pressed Fit, and after the log drawer opened.
- The "run refused" message never covers the side panel's tabs.
- At 390 px no page scrolls sideways, and the canvas page says it needs a wider screen and
  lists the pipeline's runs instead of drawing an unusable graph.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.pages_helpers import demo_world, log_in_as, open_page
from workflows.models import Pipeline

SCREENS = ARTIFACTS / "screens"
WIDTHS = {1440: 900, 1024: 768, 390: 844}
WIDE = (1440, 1024)
# Each node (with its ports) against the visible canvas and what must never cover it.
NODES_OUTSIDE = """() => {
  const rect = (selector) => document.querySelector(selector).getBoundingClientRect();
  const canvas = rect("#canvas"), panel = rect("#side-panel"), drawer = rect("#log-drawer");
  const overlaps = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const out = [];
  for (const node of document.querySelectorAll("#canvas g.x6-node")) {
    const box = node.getBoundingClientRect();
    const inside = box.left >= canvas.left - 1 && box.right <= canvas.right + 1
      && box.top >= canvas.top - 1 && box.bottom <= canvas.bottom + 1;
    if (!inside || overlaps(box, panel) || overlaps(box, drawer)) {
      out.push(`${node.dataset.cellId} at ${Math.round(box.left)},${Math.round(box.top)}-` +
        `${Math.round(box.right)},${Math.round(box.bottom)} (canvas ${Math.round(canvas.left)},` +
        `${Math.round(canvas.top)}-${Math.round(canvas.right)},${Math.round(canvas.bottom)})`);
    }
  }
  return out;
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def world(asgi_live_server, settings, tmp_path) -> dict:
    return demo_world(settings, tmp_path)


@pytest.fixture
def world_without_runs(asgi_live_server, settings, tmp_path) -> dict:
    return demo_world(settings, tmp_path, run=False)


def open_context(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    context.set_default_timeout(15_000)
    return context


def shoot(page, name: str, width: int) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=width == 390)


def wait_fitted(page) -> None:
    """Until the graph is drawn and no node is outside (the fit runs on animation frames)."""
    page.wait_for_selector("#canvas g.x6-node")
    page.wait_for_function(f"() => ({NODES_OUTSIDE})().length === 0", timeout=5_000)


def nodes_outside(page) -> list[str]:
    return page.evaluate(NODES_OUTSIDE)


def pages_of(world) -> dict[str, str]:
    return {
        "dashboard": "/",
        "project": f"/projects/{world['project'].pk}/",
        "canvas": f"/pipelines/{world['pipeline'].pk}/",
        "run": f"/pipelines/runs/{world['run'].pk}/",
        "runs": "/runs/",
    }


def test_main_pages_at_three_widths(world, asgi_live_server, browser):
    """One demo run, every width (the demo and its run are the slow part)."""
    for width in WIDTHS:
        context = open_context(browser, width)
        try:
            _main_pages_at(context.new_page(), asgi_live_server.url, world, width)
        finally:
            context.close()


def _main_pages_at(page, base: str, world: dict, width: int) -> None:
    log_in_as(page, base, "alice")
    for name, path in pages_of(world).items():
        open_page(page, base, path)
        canvas = name in ("canvas", "run")
        if canvas and width in WIDE:
            try:
                wait_fitted(page)
            finally:
                shoot(page, name, width)
            assert nodes_outside(page) == [], f"{name} at {width}"
        else:
            shoot(page, name, width)
        if width == 390:
            assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways at 390 px"
        if canvas and width == 390:
            expect(page.get_by_role("heading", name="needs a wider screen")).to_be_visible()
            expect(page.locator("#canvas")).to_be_hidden()
            report = page.get_by_role("link", name=f"Report of run #{world['run'].pk}")
            expect(report).to_be_visible()
    report_html = page.request.get(f"{base}/api/v1/runs/{world['run'].pk}/report/").text()
    # A blank document first: written into a console page, the report would live under that
    # page's Content-Security-Policy (its nonce), not under the report's own, as when opened.
    page.goto("about:blank")
    page.set_content(report_html)
    page.wait_for_timeout(500)
    shoot(page, "report", width)
    if width == 390:
        assert page.evaluate(SIDEWAYS) <= 0, "the report scrolls sideways at 390 px"


def test_fit_brings_the_whole_graph_back_and_follows_the_drawer(
    world_without_runs, asgi_live_server, browser
):
    for width in WIDE:
        context = open_context(browser, width)
        page = context.new_page()
        try:
            log_in_as(page, asgi_live_server.url, "alice")
            open_page(
                page, asgi_live_server.url, f"/pipelines/{world_without_runs['pipeline'].pk}/"
            )
            wait_fitted(page)
            zoom_in = page.get_by_role("button", name="Zoom in (+)")
            for _ in range(6):
                zoom_in.click()
            assert nodes_outside(page), "zooming in kept every node in view: nothing to fit"
            page.get_by_role("button", name="Fit to window (F)").click()
            wait_fitted(page)
            page.locator(".log-toggle").click()
            expect(page.locator(".log-toggle")).to_have_attribute("aria-expanded", "true")
            wait_fitted(page)
            shoot(page, "canvas-logs-open", width)
        finally:
            context.close()


def test_a_refused_run_is_explained_without_covering_the_panel_tabs(
    world_without_runs, asgi_live_server, new_page
):
    pipeline: Pipeline = world_without_runs["pipeline"]
    graph = pipeline.graph
    next(node for node in graph["nodes"] if node["id"] == "read_alice")["params"].pop("dataset")
    pipeline.save(update_fields=["graph"])
    base = asgi_live_server.url
    page = new_page()
    page.set_viewport_size({"width": 1024, "height": 768})
    log_in_as(page, base, "alice")
    open_page(page, base, f"/pipelines/{pipeline.pk}/")
    page.get_by_role("button", name="Run all").click()
    alert = page.locator(".run-alert")
    expect(alert).to_be_visible()
    shoot(page, "canvas-refused", 1024)
    box, tabs = alert.bounding_box(), page.locator("#side-panel .tabs").bounding_box()
    assert box["y"] + box["height"] <= tabs["y"] or box["x"] >= tabs["x"] + tabs["width"], (
        box,
        tabs,
    )
    expect(page.get_by_role("tab", name="Configure")).to_be_visible()
    page.get_by_role("tab", name="Runs").click()  # clickable: nothing lies over it
    expect(page.get_by_role("tab", name="Runs")).to_have_attribute("aria-selected", "true")
    wait_fitted(page)
