"""The canvas's run tools in a real browser, against daphne (websockets) in this process.

Pipelines are built with the ORM (a small credit pipeline: alice's table split and evaluated,
bob's table read), then run from the page: nodes turn green through the websocket, results,
charts, downloads, history, the read-only run page, Stop, reconnection and refused runs.

Page hooks used: `window.__privpadTestHooks = true` set before the page's scripts makes the
run tools publish their live socket as `window.__privpadRunSocket` (`drop()` closes it as a
network failure would); a MutationObserver installed the same way records every `data-status`
the nodes take, so transitions are checked, not only the final colours.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from console.datasets.models import Authorization
from tests.e2e.conftest import log_in
from tests.workflows import gates
from tests.workflows.conftest import (
    CREDIT_ROLES,
    SHOP_ROLES,
    credit_frame,
    edge,
    make_dataset,
    node,
    shop_frame,
)
from tests.workflows.runs import run_now
from workflows import executor
from workflows.models import Pipeline, Run, Status

HOOKS = """
window.__privpadTestHooks = true;
window.__statusLog = [];
new MutationObserver((records) => {
  const seen = (el) => {
    const id = el.getAttribute && el.getAttribute("data-node-id");
    const status = id && el.getAttribute("data-status");
    if (status) window.__statusLog.push(`${id}:${status}`);
  };
  for (const record of records) {
    if (record.type === "attributes") seen(record.target);
    for (const added of record.addedNodes || []) {
      if (!added.querySelectorAll) continue;
      [added, ...added.querySelectorAll("[data-node-id]")].forEach(seen);
    }
  }
}).observe(document, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"],
});
"""


def placed(node_id: str, component: str, x: int, y: int, **params) -> dict:
    return node(node_id, component, **params) | {"position": {"x": x, "y": y}}


@pytest.fixture
def tables(people) -> dict:
    project, alice, bob = people["project"], people["alice"].node, people["bob"].node
    credit = make_dataset(alice, "credit", credit_frame())
    shop = make_dataset(bob, "shop", shop_frame())
    Authorization.objects.create(dataset=credit, project=project, column_roles=CREDIT_ROLES)
    Authorization.objects.create(dataset=shop, project=project, column_roles=SHOP_ROLES)
    return {"credit": credit, "shop": shop, **people}


def make_pipeline(tables, nodes, edges, name="Credit check") -> Pipeline:
    return Pipeline.objects.create(
        project=tables["project"],
        name=name,
        graph={"nodes": nodes, "edges": edges},
        created_by=tables["alice"],
    )


@pytest.fixture
def credit_pipeline(tables) -> Pipeline:
    """alice's credit table -> split -> evaluation (ROC) and statistics; bob's shop table."""
    nodes = [
        placed("read", "read/dataset", 0, 0, dataset=tables["credit"].pk),
        placed("split", "data_prep/train_test_split", 230, 0, random_state=3),
        placed("eval", "ml.eval/binary_classification", 460, -70, label="y", prediction="score"),
        placed("stats", "stats/table_statistics", 460, 70),
        placed("shop", "read/dataset", 0, 150, dataset=tables["shop"].pk),
    ]
    edges = [
        edge("read", "output_ds", "split", "input_ds"),
        edge("split", "test_ds", "eval", "input_ds"),
        edge("split", "train_ds", "stats", "input_ds"),
    ]
    return make_pipeline(tables, nodes, edges)


@pytest.fixture
def gated(asgi_live_server, monkeypatch) -> None:
    """test/gate known to the server (runs, validation, catalogue, results); released at the
    latest when the test ends, before the live server waits for its runs."""
    gates.use_registry(monkeypatch)
    registry = executor.registry  # the registry with test/gate, for the page's API too
    monkeypatch.setattr("workflows.api.views.registry", registry)
    monkeypatch.setattr("workflows.reports.collect.registry", registry)
    yield
    gates.release.set()


@pytest.fixture
def gate_pipeline(gated, tables) -> Pipeline:
    """alice's table -> test/gate, which blocks mid-node until `gates.release` is set."""
    nodes = [
        placed("read", "read/dataset", 0, 0, dataset=tables["credit"].pk),
        placed("gate", "test/gate", 240, 0),
    ]
    return make_pipeline(tables, nodes, [edge("read", "output_ds", "gate", "input_ds")], "Gated")


@pytest.fixture
def live_pipeline(gated, credit_pipeline) -> Pipeline:
    """The credit pipeline with a gate run right after `read` (the executor takes ready nodes
    in insertion order): split, eval and stats wait behind it until the page is watching."""
    graph = credit_pipeline.graph
    graph["nodes"].append(placed("gate", "test/gate", 230, 150))
    graph["edges"].insert(0, edge("read", "output_ds", "gate", "input_ds"))
    credit_pipeline.save(update_fields=["graph"])
    return credit_pipeline


def open_canvas(page, base: str, path: str) -> None:
    page.add_init_script(HOOKS)
    page.goto(f"{base}{path}")
    page.wait_for_selector('body[data-canvas-ready="true"]')
    expect(page.locator("#run-controls")).not_to_be_empty()


def node_body(page, node_id: str):
    return page.locator(f'#canvas [data-node-id="{node_id}"]')


def status_log(page) -> list[str]:
    return page.evaluate("window.__statusLog")


def run_badge(page):
    return page.locator("#run-controls .run-badge .badge")


def test_run_all_turns_nodes_green_live_then_shows_results_history_and_report(
    asgi_live_server, live_pipeline, new_page
):
    credit_pipeline = live_pipeline
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{credit_pipeline.pk}/")
    expect(page.locator("#panel-runs")).to_contain_text("No runs yet", use_inner_text=False)

    frames: list[str] = []
    page.on(
        "websocket", lambda socket: socket.on("framereceived", lambda frame: frames.append(frame))
    )
    page.get_by_role("button", name="Run all").click()
    assert gates.started.wait(30), "the gate node never started"
    expect(node_body(page, "gate")).to_have_attribute("data-status", "running")
    expect(node_body(page, "eval")).to_have_attribute("data-status", "pending")
    gates.release.set()
    expect(run_badge(page)).to_have_text("Succeeded", timeout=30_000)
    run = Run.objects.get(pipeline=credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    for node_id in ("read", "gate", "split", "eval", "stats", "shop"):
        expect(node_body(page, node_id)).to_have_attribute("data-status", "succeeded")
    # Live transitions, not only final colours. The gate blocked while the page watched: its
    # node was drawn pending, then running, then succeeded. The nodes behind it ran after the
    # socket joined, so their running and succeeded events came over the socket (the canvas
    # may draw both in one frame when a node takes milliseconds).
    log = status_log(page)
    seen = [entry.split(":")[1] for entry in log if entry.startswith("gate:")]
    assert seen.index("pending") < seen.index("running") < seen.index("succeeded"), log
    events = [json.loads(frame) for frame in frames]
    for node_id in ("split", "eval", "stats"):
        statuses = [e["status"] for e in events if e.get("node") == node_id and "status" in e]
        assert statuses == ["running", "succeeded"], (node_id, events)
    # The log drawer (opened when the run started) streamed the nodes' lines.
    expect(page.locator(".log-toggle")).to_have_attribute("aria-expanded", "true")
    expect(page.locator('.log-lines li[data-node="eval"]').first).to_be_visible()

    # Double-click a finished node: its report tables and an interactive ROC chart (plotly.js
    # is loaded only now, for the first chart shown).
    assert page.evaluate("typeof window.Plotly") == "undefined"
    node_body(page, "eval").dblclick()
    results = page.locator("#panel-results")
    expect(results).to_be_visible()
    expect(
        results.get_by_role("heading", name="Binary classification evaluation").first
    ).to_be_visible()
    expect(results.locator("caption", has_text="Summary")).to_be_visible()
    roc = results.locator("figure", has_text="ROC curve")
    expect(roc.locator(".js-plotly-plot .main-svg").first).to_be_attached(timeout=20_000)

    # My own table: row count, preview rows and the CSV download.
    node_body(page, "read").click()
    own = results.locator('.part-own[data-party="alice"]')
    expect(own).to_contain_text("60 rows")
    expect(own.locator("tbody tr")).to_have_count(20)
    page.get_by_label("This node only").check()  # the log filter follows the selection
    expect(page.locator('.log-lines li[data-node="read"]').first).to_be_visible()
    expect(page.locator('.log-lines li[data-node="eval"]').first).to_be_hidden()
    with page.expect_download() as csv:
        own.get_by_role("link", name="Download CSV").click()
    assert csv.value.path().read_text().startswith("id,age,income")

    with page.expect_download() as report:
        page.get_by_role("button", name="Download report").click()
    html = report.value.path().read_text(encoding="utf-8")
    assert "Credit check" in html
    assert "<script src" not in html

    # History lists the run and opens its read-only page, coloured and with results.
    page.get_by_role("tab", name="Runs").click()
    row = page.locator(f'#panel-runs [data-run-id="{run.pk}"]')
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("by alice_admin")
    row.get_by_role("link", name=f"Run #{run.pk}").click()
    page.wait_for_url(f"**/pipelines/runs/{run.pk}/")
    page.wait_for_selector('body[data-canvas-ready="true"]')
    expect(node_body(page, "eval")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_role("button", name="Run all")).to_have_count(0)
    node_body(page, "eval").dblclick()
    expect(page.locator("#panel-results figure", has_text="ROC curve")).to_be_visible()


def test_another_party_sees_schema_and_counts_but_never_the_rows(
    asgi_live_server, credit_pipeline, tables, new_page
):
    run = run_now(credit_pipeline, user=tables["alice"])
    assert run.status == Status.SUCCEEDED, run.message
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "bob_admin")
    open_canvas(page, base, f"/pipelines/runs/{run.pk}/")
    node_body(page, "read").dblclick()
    results = page.locator("#panel-results")
    other = results.locator('.part-other[data-party="alice"]')
    expect(other).to_contain_text("6 columns")
    expect(results.locator(".result-schema")).to_contain_text("income")
    expect(results.locator(".part-own")).to_have_count(0)
    expect(results.get_by_role("link", name="Download CSV")).to_have_count(0)
    expect(results.locator(".table-data")).to_have_count(0)
    assert "c001" not in results.inner_text()
    # Bob's own table, on the other hand, is his to preview.
    node_body(page, "shop").click()
    expect(results.locator('.part-own[data-party="bob"] tbody tr')).to_have_count(20)


def test_stop_cancels_a_running_run(asgi_live_server, gate_pipeline, new_page):
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{gate_pipeline.pk}/")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_disabled()
    page.get_by_role("button", name="Run all").click()
    assert gates.started.wait(30), "the gate node never started"
    expect(node_body(page, "gate")).to_have_attribute("data-status", "running")
    expect(stop).to_be_enabled()
    with page.expect_response(re.compile(r"/cancel/$")) as cancel:
        stop.click()
    assert cancel.value.ok, cancel.value.text()
    expect(stop).to_be_disabled()
    gates.release.set()  # the gate reaches its next progress point, where the cancel stops it
    expect(run_badge(page)).to_have_text("Cancelled", timeout=20_000)
    expect(node_body(page, "gate")).to_have_attribute("data-status", "cancelled")
    assert Run.objects.get(pipeline=gate_pipeline).status == Status.CANCELLED


def test_a_dropped_socket_reconnects_and_resynchronises(asgi_live_server, gate_pipeline, new_page):
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{gate_pipeline.pk}/")
    page.get_by_role("button", name="Run all").click()
    assert gates.started.wait(30), "the gate node never started"
    expect(page.locator(".run-connection")).to_have_text("Live")
    expect(node_body(page, "gate")).to_have_attribute("data-status", "running")

    # Meanwhile the read-only page of the same run follows it live too.
    run = Run.objects.get(pipeline=gate_pipeline)
    watcher = page.context.new_page()
    open_canvas(watcher, base, f"/pipelines/runs/{run.pk}/")
    expect(node_body(watcher, "gate")).to_have_attribute("data-status", "running")
    expect(watcher.locator(".run-connection")).to_have_text("Live")

    page.evaluate("window.__privpadRunSocket.drop()")
    expect(page.locator(".run-connection")).to_have_text(re.compile("Reconnecting"))
    gates.release.set()  # the run finishes while the page is disconnected (first retry: 1 s)

    expect(run_badge(page)).to_have_text("Succeeded", timeout=20_000)
    expect(node_body(page, "gate")).to_have_attribute("data-status", "succeeded")
    expect(node_body(watcher, "gate")).to_have_attribute("data-status", "succeeded")
    expect(run_badge(watcher)).to_have_text("Succeeded")
    lines = sum(len(n.logs) for n in run.nodes.all())
    assert lines > 0
    expect(page.locator(".log-lines li")).to_have_count(lines)  # no line twice after the resync


def test_an_invalid_pipeline_is_refused_with_its_problems_on_the_nodes(
    asgi_live_server, tables, new_page
):
    nodes = [
        placed("read", "read/dataset", 0, 0, dataset=tables["credit"].pk),
        placed("eval", "ml.eval/binary_classification", 240, 0, prediction="score"),
    ]
    pipeline = make_pipeline(tables, nodes, [edge("read", "output_ds", "eval", "input_ds")])
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{pipeline.pk}/")
    page.get_by_role("button", name="Run all").click()
    alert = page.locator("#run-controls [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("marked nodes")
    expect(node_body(page, "eval")).not_to_have_attribute("data-problems", "0")
    expect(node_body(page, "read")).to_have_attribute("data-problems", "0")
    assert not Run.objects.filter(pipeline=pipeline).exists()


def test_an_archived_project_cannot_run_from_the_canvas(
    asgi_live_server, credit_pipeline, tables, new_page
):
    project = tables["project"]
    project.status = project.Status.ARCHIVED
    project.save()
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{credit_pipeline.pk}/")
    expect(page.get_by_role("button", name="Run all")).to_be_disabled()
    expect(page.get_by_role("button", name="Download report")).to_be_disabled()


def test_a_node_menu_runs_part_of_the_pipeline(asgi_live_server, credit_pipeline, new_page):
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{credit_pipeline.pk}/")
    node_body(page, "eval").click(button="right")
    page.get_by_role("menuitem", name="Run up to here").click()
    expect(run_badge(page)).to_have_text("Succeeded", timeout=30_000)
    run = Run.objects.get(pipeline=credit_pipeline)
    assert (run.scope, run.scope_node) == ("upstream", "eval")
    expect(node_body(page, "eval")).to_have_attribute("data-status", "succeeded")
    expect(node_body(page, "stats")).to_have_attribute("data-status", "skipped")
    node_body(page, "stats").dblclick()
    expect(page.locator("#panel-results")).to_contain_text("outside the run's scope")
    page.get_by_role("tab", name="Runs").click()
    expect(page.locator(f'#panel-runs [data-run-id="{run.pk}"]')).to_contain_text(
        "Up to a node: eval"
    )


def test_a_refused_reconnection_is_explained_and_not_retried(
    asgi_live_server, gate_pipeline, new_page
):
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{gate_pipeline.pk}/")
    page.get_by_role("button", name="Run all").click()
    assert gates.started.wait(30), "the gate node never started"
    expect(page.locator(".run-connection")).to_have_text("Live")
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))

    page.context.clear_cookies()  # logged out elsewhere: the next connection is anonymous
    page.evaluate("window.__privpadRunSocket.drop()")
    expect(page.locator(".run-connection")).to_contain_text("no longer logged in")
    expect(page.locator("#run-controls [role=alert]")).to_contain_text("log in again")
    page.wait_for_timeout(2500)  # longer than the first retry delay (1 s)
    assert len(sockets) == 1, [socket.url for socket in sockets]
