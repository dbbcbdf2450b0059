"""The credit-risk template on the demo data, as a new user takes it (issue 10).

Alice opens the demo project "Joint credit risk", creates a pipeline from the template "Credit
risk binary classification", changes nothing, runs it, and reads the AUC in the evaluation's
results: within 0.01 of the demo pipeline's (run on the same data in this process). Along the
way every node is configured and free of problems before anything is touched. Screenshots of
each step go to tests/e2e/artifacts/ (gitignored) to be looked at.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from console.demo.management.commands.bootstrap_demo import PROJECT_NAME
from console.demo.pipeline import ALL_FEATURES, PIPELINE_NAME
from tests.e2e.canvas_helpers import node_ids, select_node
from tests.e2e.conftest import ARTIFACTS
from tests.workflows.runs import run_now
from workflows.models import Artifact, Pipeline, Status

TEMPLATE = "Credit risk binary classification"
NAME = "Default risk from the template"
RUN_TIMEOUT_MS = 180_000
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture
def demo(transactional_db, settings, tmp_path) -> Pipeline:
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("bootstrap_demo", stdout=StringIO())
    return Pipeline.objects.get(name=PIPELINE_NAME)


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"template-journey-{name}.png"), full_page=False)


def report_auc(run, node_id: str = "evaluate") -> float:
    report = Artifact.objects.get(node_run__run=run, node_run__node_id=node_id, party="alice")
    return json.loads(report.path.read_text(encoding="utf-8"))["summary"]["auc"]


def create_from_template(page, base: str) -> int:
    page.goto(f"{base}/projects/")
    page.get_by_role("link", name=PROJECT_NAME).first.click()
    page.get_by_role("link", name="New pipeline").click()
    page.get_by_label("Name").fill(NAME)
    page.get_by_label(TEMPLATE).check()
    shoot(page, "1-new-pipeline")
    page.get_by_role("button", name="Create and open the canvas").click()
    page.wait_for_url(re.compile(r"/pipelines/\d+/$"))
    page.wait_for_selector('body[data-canvas-ready="true"]')
    return int(re.search(r"/pipelines/(\d+)/$", page.url).group(1))


def bring_into_view(page, node_id: str) -> None:
    """Pan the canvas (right-button drag on empty space) until the node clears the side panel,
    which the canvas extends under."""
    body = page.locator(f'#canvas g[data-cell-id="{node_id}"] .pp-node-body')
    panel_left = page.locator("#side-panel").bounding_box()["x"]
    overflow = body.bounding_box()["x"] + body.bounding_box()["width"] - panel_left + 60
    if overflow <= 0:
        return
    canvas = page.locator("#canvas").bounding_box()
    start = (canvas["x"] + overflow + 20, canvas["y"] + 30)
    page.mouse.move(*start)
    page.mouse.down(button="right")
    page.mouse.move(start[0] - overflow, start[1], steps=8)
    page.mouse.up(button="right")
    page.wait_for_function(
        "([id, left]) => { const r = document.querySelector("
        "`#canvas g[data-cell-id='${id}'] .pp-node-body`).getBoundingClientRect();"
        " return r.right < left; }",
        arg=[node_id, panel_left],
    )


def test_the_credit_risk_template_runs_to_the_demo_auc_with_all_defaults(
    asgi_live_server, demo, new_page
):
    base, page = asgi_live_server.url, new_page()
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("privpad-alice")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")

    pipeline_id = create_from_template(page, base)
    ids = node_ids(page)
    assert {"psi", "scale_train", "train", "evaluate"} <= set(ids), ids
    # Nothing to configure and nothing wrong: the server's check has reached every node.
    page.wait_for_function("() => !document.querySelector('#canvas [data-config=\"needs\"]')")
    expect(page.locator(".config-valid")).to_have_text("The pipeline is valid and ready to run.")
    for node_id in ids:
        expect(page.locator(f'#canvas [data-node-id="{node_id}"]')).to_have_attribute(
            "data-problems", "0"
        )
    select_node(page, "scale_train")
    for feature in ("income", "age", "monthly_spend", "premium"):  # every party's, alice's too
        box = page.locator(f'#panel-config input[name="features"][value="{feature}"]')
        expect(box).to_be_checked()
    shoot(page, "2-canvas-from-template")

    page.get_by_role("button", name="Run all").click()
    evaluate = page.locator('#canvas [data-node-id="evaluate"]')
    expect(evaluate).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-controls .run-badge .badge")).to_have_text("Succeeded")
    shoot(page, "3-run-succeeded")

    # The log says how many rows were evaluated, never the AUC (bob's copy may withhold it).
    expect(page.locator("#log-drawer")).to_contain_text("evaluated")
    bring_into_view(page, "evaluate")
    select_node(page, "evaluate")
    page.locator("#tab-results").click()
    results = page.locator("#panel-results")
    summary = results.locator("table").filter(has=page.locator("caption", has_text="Summary"))
    auc_row = summary.locator("tr").filter(has=page.locator("td", has_text=re.compile("^auc$")))
    expect(auc_row).to_have_count(1, timeout=30_000)
    shoot(page, "4-evaluation-results")

    template = Pipeline.objects.get(pk=pipeline_id)
    run = template.runs.latest("created_at")
    assert run.status == Status.SUCCEEDED
    scaled = next(n for n in template.graph["nodes"] if n["id"] == "scale_train")
    assert set(scaled["params"]["features"]) == set(ALL_FEATURES)
    demo_run = run_now(demo)
    assert demo_run.status == Status.SUCCEEDED, demo_run.message
    template_auc, demo_auc = report_auc(run), report_auc(demo_run)
    assert abs(template_auc - demo_auc) < 0.01, (template_auc, demo_auc)
    shown = float(auc_row.locator("td").nth(1).inner_text())
    assert abs(shown - template_auc) < 1e-3, (shown, template_auc)  # the page shows the run's
