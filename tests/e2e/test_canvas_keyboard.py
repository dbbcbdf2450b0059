"""The canvas without a mouse, and its text at WCAG AA contrast.

A keyboard user adds two components from the palette (Enter), tidies them, tabs to the canvas,
selects nodes with the arrow keys (each selection announced), connects them from the list C
opens (only connections the model accepts are offered), opens the settings with Enter, moves a
node with Shift+arrows, opens the node menu with Shift+F10, deletes with Delete and finds all
of it in the "?" list. Every text drawn on the nodes (category, name, id, state, the "Needs
configuration" mark) has at least 4.5:1 contrast with the node's white card.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.demo.pipeline import PIPELINE_NAME
from tests.e2e.canvas_helpers import edge_count, node_ids, wait_saved
from tests.e2e.pages_helpers import demo_world, log_in_as, open_page
from workflows.models import Pipeline

VIEWPORT = {"width": 1440, "height": 900}
# Contrast of every text on the nodes against their white card (WCAG relative luminance).
LOW_CONTRAST = """() => {
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+/g).slice(0, 3).map(Number).map(channel);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const out = [];
  for (const text of document.querySelectorAll("#canvas g.x6-node text")) {
    if (!text.textContent.trim() || getComputedStyle(text).display === "none") continue;
    const ratio = 1.05 / (luminance(getComputedStyle(text).fill) + 0.05);
    if (ratio < 4.5) out.push(`${text.textContent.trim()}: ${ratio.toFixed(2)}:1`);
  }
  return out;
}"""


@pytest.fixture
def blank(asgi_live_server, settings, tmp_path) -> Pipeline:
    world = demo_world(settings, tmp_path, run=False)
    return Pipeline.objects.create(
        project=world["project"], name="Keyboard only", graph={"nodes": [], "edges": []}
    )


def announced(page) -> str:
    return page.locator("#canvas-announcer").inner_text()


def selected_in_panel(page, node_id: str) -> None:
    expect(page.locator("#panel-config .config-meta code")).to_have_text(node_id)


def test_a_pipeline_is_built_and_connected_from_the_keyboard(blank, asgi_live_server, new_page):
    base = asgi_live_server.url
    page = new_page()
    page.set_viewport_size(VIEWPORT)
    log_in_as(page, base, "alice")
    open_page(page, base, f"/pipelines/{blank.pk}/")
    for key in ("read/dataset", "stats/table_statistics"):
        page.locator(f'#palette [data-component="{key}"]').focus()
        page.keyboard.press("Enter")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(2)
    page.get_by_role("button", name="Tidy layout").focus()
    page.keyboard.press("Enter")
    assert sorted(node_ids(page)) == ["dataset_1", "table_statistics_1"]

    canvas = page.locator("#canvas")
    expect(canvas).to_have_attribute("tabindex", "0")
    canvas.focus()
    page.keyboard.press("Escape")  # the node added last was selected
    expect(page.locator("#panel-config .config-meta code")).to_have_count(0)
    page.keyboard.press("ArrowRight")  # nothing selected: the top-left node
    selected_in_panel(page, "dataset_1")
    expect(page.locator("#canvas-announcer")).to_contain_text("dataset_1, Dataset, selected.")
    expect(page.locator("#canvas-announcer")).to_contain_text("Needs configuration.")
    page.keyboard.press("ArrowDown")
    selected_in_panel(page, "table_statistics_1")
    expect(page.locator("#canvas-announcer")).to_contain_text("0 of 1 inputs connected")
    page.keyboard.press("ArrowUp")
    selected_in_panel(page, "dataset_1")

    page.keyboard.press("c")
    menu = page.get_by_role("menu", name="Connections of dataset_1")
    expect(menu).to_be_visible()
    options = menu.get_by_role("menuitem")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("dataset_1")
    expect(options.first).to_contain_text("→ table_statistics_1")
    expect(options.first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#canvas .x6-edge').length === 1")
    expect(canvas).to_be_focused()
    expect(page.locator("#canvas-announcer")).to_contain_text("Connected")
    page.keyboard.press("c")
    expect(page.locator(".canvas-alert")).to_contain_text("no connection left")

    page.keyboard.press("Enter")
    focused_in_panel = (
        "() => document.querySelector('#panel-config').contains(document.activeElement)"
    )
    page.wait_for_function(focused_in_panel)

    canvas.focus()
    before = blank_position(page, blank, "dataset_1")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    wait_saved(page)
    after = blank_position(page, blank, "dataset_1")
    assert after == {"x": before["x"] + 20, "y": before["y"]}

    page.keyboard.press("Shift+F10")
    node_menu = page.get_by_role("menu", name="Node dataset_1")
    expect(node_menu.get_by_role("menuitem", name="Run this node")).to_be_focused()
    expect(node_menu.get_by_role("menuitem", name="Connect…")).to_be_visible()
    page.keyboard.press("Escape")
    expect(node_menu).to_be_hidden()
    expect(canvas).to_be_focused()

    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    for action in ("Select the nearest node that way", "Connect the selected node"):
        expect(shortcuts).to_contain_text(action)
    page.keyboard.press("Escape")

    canvas.focus()
    page.keyboard.press("Delete")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(1)
    assert edge_count(page) == 0


def blank_position(page, pipeline: Pipeline, node_id: str) -> dict:
    wait_saved(page)
    pipeline.refresh_from_db()
    return next(n["position"] for n in pipeline.graph["nodes"] if n["id"] == node_id)


def test_every_text_on_the_canvas_meets_aa_contrast(blank, asgi_live_server, new_page):
    """Every category, a node needing configuration, and the demo's nodes as drawn."""
    base = asgi_live_server.url
    page = new_page()
    page.set_viewport_size(VIEWPORT)
    log_in_as(page, base, "alice")
    open_page(page, base, f"/pipelines/{blank.pk}/")
    keys = page.locator("#palette [data-component]").evaluate_all(
        "els => els.map(el => el.dataset.component)"
    )
    for key in keys:
        page.locator(f'#palette [data-component="{key}"]').focus()
        page.keyboard.press("Enter")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(len(keys))
    marks = page.locator("#canvas g.x6-node text", has_text="Needs configuration")
    assert marks.count() > 0
    assert page.evaluate(LOW_CONTRAST) == []
    open_page(page, base, f"/pipelines/{Pipeline.objects.get(name=PIPELINE_NAME).pk}/")
    page.wait_for_selector("#canvas g.x6-node")
    assert page.evaluate(LOW_CONTRAST) == []
