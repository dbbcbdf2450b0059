"""Playwright helpers for the pipeline canvas, shared by the end-to-end tests.

They drive the page the way a user does (drag from the palette, drag from port to port,
click, fill the configuration panel) and read back the DOM hooks the editor publishes:

- every node's body carries `data-node-id`, `data-component`, `data-status` ("idle" or a run
  status), `data-config` ("needs" | "ok") and `data-problems` (a count);
- ports are `circle[data-port=<name>][data-port-group=in|out]` inside `g[data-cell-id=<node>]`;
- palette items carry `data-component=<key>`; configuration inputs carry `name=<param>`;
- `#save-state` reads "Saved" once autosave stored the graph; `body[data-canvas-ready]` is set
  once the editor is built.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

NODE = "#canvas [data-node-id]"
ADSORBED = "#canvas [class*='highlight-stroke']"
DRAGGED = (
    "[...document.querySelectorAll('#canvas .x6-edge')].some(e => !e.dataset.cellId.includes('->'))"
)


def open_canvas(page: Page, base_url: str, pipeline_id: int, *, run: bool = False) -> None:
    """Open the canvas of a pipeline (or, with `run=True`, the read-only page of run `id`)."""
    path = f"/pipelines/runs/{pipeline_id}/" if run else f"/pipelines/{pipeline_id}/"
    page.goto(f"{base_url}{path}")
    page.wait_for_selector('body[data-canvas-ready="true"]')


def node_ids(page: Page) -> list[str]:
    """Ids of the nodes drawn on the canvas."""
    return page.locator(NODE).evaluate_all("els => els.map(el => el.dataset.nodeId)")


def drag_component(page: Page, key: str, x: float, y: float) -> str:
    """Drag palette item `key` to (x, y) relative to the canvas; return the new node's id."""
    before = set(node_ids(page))
    item = page.locator(f'#palette [data-component="{key}"]')
    item.drag_to(page.locator("#canvas"), target_position={"x": x, "y": y})
    page.wait_for_function(
        "n => document.querySelectorAll('#canvas [data-node-id]').length > n", arg=len(before)
    )
    (created,) = set(node_ids(page)) - before
    return created


def port(page: Page, node: str, name: str, group: str):
    """The locator of port `name` (group "in" or "out") of `node`."""
    return page.locator(
        f'#canvas g[data-cell-id="{node}"] circle[data-port="{name}"][data-port-group="{group}"]'
    )


def _centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page: Page, source_node: str, source_port: str, target_node: str, target_port: str):
    """Drag from an output port to a port of another node (inputs normally; any port works,
    so that refused connections can be tested)."""
    start = _centre(port(page, source_node, source_port, "out"))
    target = page.locator(
        f'#canvas g[data-cell-id="{target_node}"] circle[data-port="{target_port}"]'
    )
    end = _centre(target)
    # Edges of the model have ids "a:port->b:port"; the one being dragged has a random id.
    # X6 renders asynchronously and, on a loaded machine, late: each step waits for what the
    # page shows (no drag left over, the dragged edge, the highlighted target) before the next.
    settled = f'() => !{DRAGGED} && !document.querySelector("{ADSORBED}")'
    for _attempt in range(3):
        page.wait_for_function(settled)
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
        try:
            page.wait_for_function(f"() => {DRAGGED}", timeout=5_000)
        except PlaywrightTimeout:
            page.mouse.up()
            continue
        _hover_target(page, end)
        page.mouse.up()
        page.wait_for_function(settled)
        return
    raise AssertionError(f"could not start a connection from {source_node}.{source_port}")


def _hover_target(page: Page, end: tuple[float, float]) -> None:
    """Move onto the target port and wait for X6 to highlight it as the edge's end (under load
    X6 may not have processed the last move yet when the button is released)."""
    for nudge in (0, 1, -1):
        page.mouse.move(end[0] + nudge, end[1], steps=3)
        try:
            page.wait_for_selector(ADSORBED, timeout=3_000)
            return
        except PlaywrightTimeout:
            continue


def edge_count(page: Page) -> int:
    """How many edges the canvas draws."""
    return page.locator("#canvas .x6-edge").count()


def select_node(page: Page, node_id: str) -> None:
    """Click a node and wait for the configuration panel to show it."""
    page.locator(f'#canvas g[data-cell-id="{node_id}"] .pp-node-body').click(
        position={"x": 40, "y": 12}
    )
    expect(page.locator("#panel-config .config-meta code")).to_have_text(node_id)


def set_param(page: Page, name: str, value) -> None:
    """Set a parameter of the selected node through the panel.

    Handles number and text inputs (any value, "" clears), selects (dataset ids, parties,
    choices, single columns), a checkbox (bool) and multi-column pickers (a list of column
    names: exactly those end up ticked).
    """
    panel = page.locator("#panel-config")
    field = panel.locator(f'[name="{name}"]').first
    field.wait_for()
    kind = field.evaluate("el => el.tagName === 'SELECT' ? 'select' : el.type")
    if isinstance(value, list | tuple):
        wanted = set(value)
        for column in panel.locator(f'input[name="{name}"]').evaluate_all(
            "els => els.map(el => el.value)"
        ):
            box = panel.locator(f'input[name="{name}"][value="{column}"]')
            if box.is_checked() != (column in wanted):
                box.set_checked(column in wanted)
        return
    if kind == "select":
        field.select_option(value=str(value))
    elif kind == "checkbox":
        field.set_checked(bool(value))
    else:
        field.fill(str(value))
        field.dispatch_event("change")


def node_attr(page: Page, node_id: str, attr: str) -> str | None:
    """An attribute of a node's body, e.g. `node_attr(page, "psi_1", "data-config")`."""
    return page.locator(f'#canvas [data-node-id="{node_id}"]').get_attribute(attr)


def wait_saved(page: Page) -> None:
    """Wait until autosave has stored every change ("Saved" in #save-state)."""
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=10_000)
