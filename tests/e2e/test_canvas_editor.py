"""The pipeline editor in a real browser: palette, typed connections, panel, autosave, history,
clipboard, export/import and the read-only run page.

Data is built with the ORM (two nodes, a project, one authorised dataset each) rather than
`bootstrap_demo`, which would cost seconds per test. Assertions on what was saved read the
pipeline back from the database after autosave reported "Saved".
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.console.pages.conftest import authorize, make_dataset
from tests.e2e.canvas_helpers import (
    connect,
    drag_component,
    edge_count,
    node_attr,
    node_ids,
    open_canvas,
    select_node,
    set_param,
    wait_saved,
)
from tests.e2e.conftest import log_in

WIDE = {"width": 1600, "height": 900}


@pytest.fixture
def world(people) -> dict:
    """People plus an authorised dataset at alice (bank) and at bob (shop).

    `people` maps "alice"/"bob" to the node admins (users); their nodes are `user.node`.
    """
    project = people["project"]
    bank = make_dataset(people["alice"].node, "bank", ["customer_id", "income", "default_flag"], [])
    shop = make_dataset(people["bob"].node, "shop", ["customer_id", "spend"], [])
    authorize(bank, project, {"customer_id": "id", "income": "feature", "default_flag": "label"})
    authorize(shop, project, {"customer_id": "id", "spend": "feature"})
    return {**people, "bank": bank, "shop": shop}


def make_pipeline(world, nodes=(), edges=(), name="Editor test"):
    from workflows.models import Pipeline

    graph = {"nodes": list(nodes), "edges": list(edges)}
    return Pipeline.objects.create(
        project=world["project"], name=name, graph=graph, created_by=world["alice"]
    )


def node(node_id, component, x, y, **params):
    return {
        "id": node_id,
        "component": component,
        "version": "1.0.0",
        "params": params,
        "position": {"x": x, "y": y},
    }


def edge(source, source_port, target, target_port):
    return {
        "source": {"node": source, "port": source_port},
        "target": {"node": target, "port": target_port},
    }


def stored_graph(pipeline) -> dict:
    pipeline.refresh_from_db()
    return pipeline.graph


def editor(new_page, live_server, world, pipeline):
    page = new_page()
    page.set_viewport_size(WIDE)
    log_in(page, live_server.url, "alice_admin")
    open_canvas(page, live_server.url, pipeline.pk)
    return page


def test_palette_drag_and_refused_connections(new_page, live_server, world):
    pipeline = make_pipeline(world)
    page = editor(new_page, live_server, world, pipeline)
    bank = drag_component(page, "read/dataset", 90, 120)
    shop = drag_component(page, "read/dataset", 90, 330)
    psi = drag_component(page, "data_prep/psi", 330, 220)
    first = drag_component(page, "data_filter/feature_filter", 560, 120)
    second = drag_component(page, "data_filter/feature_filter", 560, 360)
    assert node_attr(page, psi, "data-component") == "data_prep/psi"
    assert node_attr(page, bank, "data-config") == "needs"
    alert = page.locator(".canvas-alert")

    connect(page, bank, "output_ds", psi, "input_ds1")
    expect(page.locator("#canvas .x6-edge")).to_have_count(1)
    connect(page, psi, "report", first, "input_ds")  # a report is not a table
    expect(alert).to_contain_text("Type mismatch")
    connect(page, shop, "output_ds", psi, "input_ds1")  # input 1 is taken
    expect(alert).to_contain_text("already has a connection")
    connect(page, psi, "output_ds", first, "input_ds")
    expect(page.locator("#canvas .x6-edge")).to_have_count(2)
    connect(page, first, "output_ds", second, "input_ds")
    expect(page.locator("#canvas .x6-edge")).to_have_count(3)
    connect(page, shop, "output_ds", psi, "input_ds2")
    expect(page.locator("#canvas .x6-edge")).to_have_count(4)
    wait_saved(page)

    graph = stored_graph(pipeline)
    assert sorted(n["id"] for n in graph["nodes"]) == sorted([bank, shop, psi, first, second])
    pairs = {
        (e["source"]["node"], e["target"]["node"], e["target"]["port"]) for e in graph["edges"]
    }
    assert pairs == {
        (bank, psi, "input_ds1"),
        (shop, psi, "input_ds2"),
        (psi, first, "input_ds"),
        (first, second, "input_ds"),
    }


def test_a_cycle_is_refused_with_its_reason(new_page, live_server, world):
    nodes = [
        node("f1", "data_filter/feature_filter", 60, 100),
        node("f2", "data_filter/feature_filter", 320, 100),
        node("f3", "data_filter/feature_filter", 320, 300),
    ]
    pipeline = make_pipeline(world, nodes, [edge("f1", "output_ds", "f2", "input_ds")])
    page = editor(new_page, live_server, world, pipeline)
    connect(page, "f2", "output_ds", "f1", "input_ds")
    expect(page.locator(".canvas-alert")).to_contain_text("cycle")
    expect(page.locator(".canvas-alert")).to_have_attribute("role", "alert")
    assert edge_count(page) == 1
    connect(page, "f2", "output_ds", "f2", "input_ds")
    expect(page.locator(".canvas-alert")).to_contain_text("itself")
    connect(page, "f2", "output_ds", "f3", "output_ds")
    expect(page.locator(".canvas-alert")).to_contain_text("Connect an output")
    expect(page.locator("#canvas .x6-edge")).to_have_count(1)

    # Rubber band around f1 and f2, delete them, undo.
    first = page.locator('#canvas [data-node-id="f1"]').bounding_box()
    second = page.locator('#canvas [data-node-id="f2"]').bounding_box()
    page.mouse.move(first["x"] - 20, first["y"] - 20)
    page.mouse.down()
    page.mouse.move(
        second["x"] + second["width"] + 20, second["y"] + second["height"] + 20, steps=8
    )
    page.mouse.up()
    page.keyboard.press("Delete")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(3)

    # The node menu offers the run scopes; tidy lays the graph out by depth.
    page.locator('#canvas g[data-cell-id="f2"] .pp-node-body').click(
        button="right", position={"x": 40, "y": 12}
    )
    menu = page.get_by_role("menu")
    for item in ("Run this node", "Run from here", "Run up to here", "Delete", "Copy"):
        expect(menu.get_by_role("menuitem", name=item)).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Tidy layout: arrange left to right").click()
    wait_saved(page)
    positions = {n["id"]: n["position"] for n in stored_graph(pipeline)["nodes"]}
    assert positions["f1"]["x"] == positions["f3"]["x"] < positions["f2"]["x"]
    assert positions["f1"]["y"] == positions["f2"]["y"]


def test_a_failed_save_says_why_and_retries(new_page, live_server, world):
    from console.projects.models import Project

    pipeline = make_pipeline(world, [node("a", "read/dataset", 40, 60)])
    page = editor(new_page, live_server, world, pipeline)
    project = world["project"]
    project.status = Project.Status.ARCHIVED
    project.save()
    page.locator("#palette-search").fill("statistics")
    expect(page.locator('#palette [data-component="data_prep/psi"]')).to_be_hidden()
    drag_component(page, "stats/table_statistics", 300, 200)
    state = page.locator("#save-state")
    expect(state).to_contain_text("Save failed:")
    project.status = Project.Status.ACTIVE
    project.save()
    state.get_by_role("button", name="Retry").click()
    wait_saved(page)
    assert len(stored_graph(pipeline)["nodes"]) == 2


def test_configuring_through_the_panel_autosaves(new_page, live_server, world):
    nodes = [
        node("bank", "read/dataset", 40, 60),
        node("shop", "read/dataset", 40, 260),
        node("psi", "data_prep/psi", 300, 140),
    ]
    edges = [
        edge("bank", "output_ds", "psi", "input_ds1"),
        edge("shop", "output_ds", "psi", "input_ds2"),
    ]
    pipeline = make_pipeline(world, nodes, edges)
    page = editor(new_page, live_server, world, pipeline)
    assert node_attr(page, "bank", "data-config") == "needs"
    select_node(page, "psi")
    expect(page.locator("#panel-config .column-unknown").first).to_contain_text("not known yet")

    select_node(page, "bank")
    dataset = page.locator('#panel-config select[name="dataset"]')
    expect(dataset.locator("option", has_text="bank — Alice")).to_have_count(1)
    set_param(page, "dataset", world["bank"].pk)
    expect(page.locator('#canvas [data-node-id="bank"]')).to_have_attribute("data-config", "ok")
    select_node(page, "shop")
    set_param(page, "dataset", world["shop"].pk)
    wait_saved(page)

    select_node(page, "psi")
    picker = page.locator("#panel-config .config-field", has=page.locator('input[name="keys1"]'))
    option = picker.locator(".column-option", has_text="customer_id")
    expect(option).to_contain_text("Alice")
    expect(option).to_contain_text("id")
    expect(picker.locator(".column-option")).to_have_count(1)  # only id-role columns
    set_param(page, "keys1", ["customer_id"])
    set_param(page, "keys2", ["customer_id"])
    set_param(page, "sort_result", False)
    expect(page.locator('#canvas [data-node-id="psi"]')).to_have_attribute("data-config", "ok")
    wait_saved(page)
    params = {n["id"]: n["params"] for n in stored_graph(pipeline)["nodes"]}
    assert params["bank"] == {"dataset": world["bank"].pk}
    assert params["psi"] == {
        "keys1": ["customer_id"],
        "keys2": ["customer_id"],
        "sort_result": False,
    }


def test_invalid_values_and_server_problems_show_on_nodes_and_fields(new_page, live_server, world):
    nodes = [
        node("bank", "read/dataset", 40, 60, dataset=world["bank"].pk),
        node("train", "ml.train/ss_lr", 300, 60, label="default_flag", features=["nope"]),
    ]
    pipeline = make_pipeline(world, nodes, [edge("bank", "output_ds", "train", "input_ds")])
    page = editor(new_page, live_server, world, pipeline)
    body = page.locator('#canvas [data-node-id="train"]')
    expect(body).not_to_have_attribute("data-problems", "0")
    assert node_attr(page, "bank", "data-problems") == "0"
    select_node(page, "train")
    expect(page.locator("#panel-config .field-server-error").first).to_be_visible()
    set_param(page, "epochs", 0)
    field = page.locator("#panel-config .config-field", has=page.locator('input[name="epochs"]'))
    expect(field.locator(".field-error").first).to_contain_text("at least 1")


def test_undo_redo_copy_paste_and_delete(new_page, live_server, world):
    nodes = [node("a", "read/dataset", 40, 60), node("b", "stats/table_statistics", 300, 60)]
    pipeline = make_pipeline(world, nodes, [edge("a", "output_ds", "b", "input_ds")])
    page = editor(new_page, live_server, world, pipeline)
    page.locator("#canvas").click(position={"x": 600, "y": 500})
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(4)
    expect(page.locator("#canvas .x6-edge")).to_have_count(2)
    assert set(node_ids(page)) == {"a", "b", "dataset_1", "table_statistics_1"}
    page.keyboard.press("Control+z")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(2)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(4)
    select_node(page, "a")
    page.keyboard.press("Delete")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(3)
    page.get_by_role("button", name="Undo (Ctrl+Z)").click()
    expect(page.locator("#canvas [data-node-id]")).to_have_count(4)
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.locator("#shortcuts-help")).to_contain_text("Select all")
    wait_saved(page)
    graph = stored_graph(pipeline)
    assert len(graph["nodes"]) == 4
    assert len(graph["edges"]) == 2


def test_export_then_import_round_trip(new_page, live_server, world, tmp_path):
    from workflows.models import Pipeline

    nodes = [node("a", "read/dataset", 40, 60, dataset=world["bank"].pk)]
    pipeline = make_pipeline(world, nodes, name="Round trip")
    page = editor(new_page, live_server, world, pipeline)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON: download the pipeline document").click()
    document = json.loads(download.value.path().read_text())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"graph": {"nodes": [{"id": "no spaces allowed"}]}}))
    page.locator("#import-file").set_input_files(str(bad))
    expect(page.locator(".canvas-alert")).to_contain_text("Import refused")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document))
    page.locator("#import-file").set_input_files(str(good))
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1] != str(pipeline.pk))
    page.wait_for_selector('body[data-canvas-ready="true"]')
    imported = Pipeline.objects.exclude(pk=pipeline.pk).get()
    assert imported.graph["nodes"][0]["params"] == {"dataset": world["bank"].pk}
    assert page.url.endswith(f"/pipelines/{imported.pk}/")
    assert node_ids(page) == ["a"]


def test_the_run_page_shows_the_snapshot_read_only(new_page, live_server, world):
    from workflows.models import Run, Status

    nodes = [node("a", "read/dataset", 40, 60, dataset=world["bank"].pk)]
    pipeline = make_pipeline(world, [*nodes, node("b", "stats/table_statistics", 300, 60)])
    run = Run.objects.create(
        pipeline=pipeline,
        status=Status.SUCCEEDED,
        snapshot={"nodes": nodes, "edges": []},
        created_by=world["alice"],
    )
    page = new_page()
    page.set_viewport_size(WIDE)
    log_in(page, live_server.url, "alice_admin")
    open_canvas(page, live_server.url, run.pk, run=True)
    assert node_ids(page) == ["a"]
    expect(page.locator('#palette [data-component="read/dataset"]')).not_to_have_attribute(
        "draggable", "true"
    )
    expect(page.get_by_role("button", name="Delete the selection (Delete)")).to_have_count(0)
    select_node(page, "a")
    expect(page.locator("#panel-config .config-values")).to_contain_text("bank")
    expect(page.locator("#panel-config input, #panel-config select")).to_have_count(0)
    page.keyboard.press("Delete")
    expect(page.locator("#canvas [data-node-id]")).to_have_count(1)
    expect(page.locator("#save-state")).to_have_text("")
