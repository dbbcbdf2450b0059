"""Changing a dataset on the canvas updates the steps that depend on it, or flags them: never
silently stale (issue 10). A credit-risk pipeline from the template; alice swaps her labelled
table for another one without a label. Screenshots go to tests/e2e/artifacts/."""

from __future__ import annotations

from playwright.sync_api import expect

from console.datasets.models import Authorization
from tests.e2e.canvas_helpers import node_attr, open_canvas, select_node, set_param, wait_saved
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.workflows.conftest import credit_frame, make_dataset, shop_frame
from workflows import services
from workflows.models import Pipeline


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"canvas-dependants-{name}.png"))


def test_a_new_dataset_updates_the_feature_lists_and_flags_the_lost_label(
    live_server, people, new_page
):
    project, alice, bob = people["project"], people["alice"].node, people["bob"].node
    numeric = credit_frame().drop(columns=["city"])
    labelled = make_dataset(alice, "credit", numeric)
    roles = {"id": "id", "age": "feature", "income": "feature", "y": "label", "score": "feature"}
    Authorization.objects.create(dataset=labelled, project=project, column_roles=roles)
    shop = make_dataset(bob, "shop", shop_frame())
    shop_roles = {"id": "id", "spend": "feature", "visits": "feature"}
    Authorization.objects.create(dataset=shop, project=project, column_roles=shop_roles)
    other = make_dataset(alice, "balances", shop_frame(seed=3).rename(columns={"spend": "balance"}))
    other_roles = {"id": "id", "balance": "feature", "visits": "feature"}
    Authorization.objects.create(dataset=other, project=project, column_roles=other_roles)
    graph = services.template_graph(project.pk, "credit_risk").to_dict()
    pipeline = Pipeline.objects.create(project=project, name="Template", graph=graph)

    base, page = live_server.url, new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, base, "alice_admin")
    open_canvas(page, base, pipeline.pk)
    read = next(n["id"] for n in graph["nodes"] if n["params"].get("dataset") == labelled.pk)
    select_node(page, read)
    set_param(page, "dataset", other.pk)
    wait_saved(page)

    stored = {n["id"]: n["params"] for n in Pipeline.objects.get(pk=pipeline.pk).graph["nodes"]}
    # bob and alice's new table both hold 'visits': one choice, as the server takes it.
    assert sorted(stored["scale_train"]["features"]) == ["balance", "spend", "visits"]
    assert "label" not in stored["train"], stored["train"]
    expect(page.locator('#canvas [data-node-id="train"]')).not_to_have_attribute(
        "data-problems", "0"
    )
    summary = page.locator("#panel-config .config-follow-ups")
    expect(summary.locator(".follow-up-stale")).to_contain_text("train · Label")
    updated = summary.locator(".follow-up-updated").first
    expect(updated).to_contain_text("fill_train · Feature columns")
    shoot(page, "0-summary-on-the-read-node")
    select_node(page, "scale_train")
    note = page.locator('#panel-config [data-param="features"] .field-note')
    expect(note).to_contain_text("follows the new upstream table")
    shoot(page, "1-updated-features")
    select_node(page, "train")
    stale = page.locator('#panel-config [data-param="label"] .field-stale')
    expect(stale).to_contain_text("'y' is not in the new upstream table")
    shoot(page, "2-stale-label")
    assert node_attr(page, "train", "data-config") == "needs"
