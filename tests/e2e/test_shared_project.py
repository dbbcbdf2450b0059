"""Two nodes' consoles share a project and run a pipeline across both installations.

alice's admin invites bob from the project page, bob's admin accepts in the message center; each
uploads a dataset on its own node and authorises it to the project (bob's schema, never its
rows, reaches alice); alice creates the credit-risk pipeline from its template (replicated to
bob read-only) and runs it; bob's owners approve the disclosure plan on bob's node; alice runs
again and watches it live on her canvas while both nodes execute their parts over the engine
links; then each node's run page shows its own results: alice her evaluation report, bob his
own report copy and his part of the joined table, and neither the other's rows.

Two installations (tests/console/nodes/node_installs.py) in network mode, paired on the
command line, each with its own engine address; everything the test asserts is read from
each node's own console (and, for what each node holds, its own database).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.console.nodes.node_installs import NodeInstall, free_port, migrated_template

PASSWORD = "shared-project-walk-1"
pytestmark = pytest.mark.timeout(600)
SHOTS = os.environ.get("PRIVPAD_SCREENSHOTS")  # a directory to keep screenshots in, if set
TEMPLATE = "Credit risk binary classification"
RUN_TIMEOUT_MS = 240_000


def customers_csv() -> str:
    """alice's customers: 400 ids (cust-000..cust-399), a label, two features."""
    rng = np.random.default_rng(11)
    lines = ["customer_id,defaulted,age,score"]
    for i in range(400):
        age, score = 20 + int(rng.integers(0, 50)), rng.normal()
        risk = 0.04 * (45 - age) + score + rng.normal() * 0.5 + (i % 7) * 0.1
        lines.append(f"cust-{i:03d},{int(risk > 0.3)},{age},{score:.6f}")
    return "\n".join(lines) + "\n"


def orders_csv() -> str:
    """bob's orders: 330 of alice's ids and 10 of his own (cust-900..cust-909)."""
    rng = np.random.default_rng(12)
    lines = ["customer_id,amount,visits,segment"]
    for i in [*range(330), *range(900, 910)]:
        amount, visits = 10 + 90 * rng.random(), int(rng.integers(1, 30))
        lines.append(f"cust-{i:03d},{amount:.4f},{visits},{['gold', 'silver'][i % 2]}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def two_nodes(tmp_path):
    template = migrated_template(tmp_path / "template")
    nodes = {n: NodeInstall(tmp_path, n, template, network=True) for n in ("alice", "bob")}
    try:
        for node in nodes.values():
            # Its node service and console both: a run's part executes in either.
            node.extra_env["PRIVPAD_ENGINE_ADDRESS"] = f"127.0.0.1:{free_port()}"
            node.init()
            node.serve()
            node.act("make_admin", f"{node.name}_admin", PASSWORD)
        nodes["bob"].manage("node", "accept", nodes["alice"].invite())
        yield {name: (node, node.serve_console()) for name, node in nodes.items()}
    finally:
        for node in nodes.values():
            node.stop()


def _log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_a_project_is_shared_and_run_across_two_nodes_consoles(two_nodes, new_page, tmp_path):
    (alice, alice_url), (bob, bob_url) = two_nodes["alice"], two_nodes["bob"]
    alice_page, bob_page = new_page(), new_page()
    _log_in(alice_page, alice_url, "alice_admin")
    alice_page.goto(f"{alice_url}/projects/new/")
    alice_page.fill("input[name=name]", "Credit")
    alice_page.fill("textarea[name=description]", "Alice Bank and Bob Shop score credit.")
    alice_page.click("text=Create project")
    alice_page.select_option("#invite-node", label="bob (bob)")
    alice_page.click("#member-nodes >> button:has-text('Invite')")
    assert "invited" in alice_page.inner_text(".messages")
    assert "bob: pending" in alice_page.inner_text("[data-testid=proposals]")
    _shot(alice_page, "1-alice-project-invited")

    _log_in(bob_page, bob_url, "bob_admin")
    bob_page.goto(f"{bob_url}/approvals/")
    ballots = bob_page.inner_text("[data-testid=ballots]")
    assert "Credit" in ballots
    assert "This node joins the project" in ballots
    _shot(bob_page, "2-bob-message-center")
    bob_page.click("[data-testid=ballots] >> text=Accept")
    assert "alice has your vote" in bob_page.inner_text(".messages").lower()

    bob_page.goto(f"{bob_url}/projects/")
    bob_page.click("text=Credit")
    members = bob_page.inner_text("[data-testid=member-nodes]")
    assert "alice" in members
    assert "Owner" in members
    assert "copy of a project owned by" in bob_page.inner_text("#member-nodes")

    _upload_and_authorise(bob_page, bob_url, tmp_path / "orders.csv", orders_csv(), ORDER_ROLES)
    _shot(bob_page, "4-bob-dataset-authorised")
    _upload_and_authorise(
        alice_page, alice_url, tmp_path / "customers.csv", customers_csv(), CUSTOMER_ROLES
    )

    alice_page.goto(f"{alice_url}/projects/")
    alice_page.click("text=Credit")
    remote = alice_page.inner_text("[data-testid=remote-datasets]")
    assert "orders" in remote
    assert "Protected" in remote
    assert "cust-905" not in alice_page.content()
    assert "bob: accepted" in alice_page.inner_text("[data-testid=proposals]")
    _shot(alice_page, "3-alice-project-remote-dataset")

    pipeline_id = _pipeline_from_template(alice_page)
    _shot(alice_page, "5-alice-canvas-from-template")
    bobs_copy = bob.act("pipeline_pk", PIPELINE)
    bob_page.goto(f"{bob_url}/pipelines/{bobs_copy}/")
    assert "Replicated read-only from node alice" in bob_page.content()
    _shot(bob_page, "6-bob-replicated-pipeline")

    # The run needs bob's approval: asked at bob's node, decided there, known at alice's.
    alice_page.get_by_role("button", name="Run all").click()
    expect(alice_page.locator(".run-alert")).to_contain_text("waits for the approval of bob")
    _shot(alice_page, "7-alice-run-waits-for-bob")
    _approve_at(bob_page, bob_url)
    _shot(bob_page, "8-bob-approved")

    run_id = _run_live(alice_page, alice_url, pipeline_id)
    auc = _alice_results(alice_page, alice_url, run_id)
    assert _bob_results(bob_page, bob_url, bob, bobs_copy) == auc  # one run, two copies
    assert alice.query("SELECT DISTINCT party FROM workflows_artifact") == [("alice",)]
    # Neither node holds the ids only the other one has, anywhere in its data directory.
    assert _files_holding(bob, [f"cust-{i}" for i in range(330, 400)]) == []
    assert _files_holding(alice, [f"cust-{i}" for i in range(900, 910)]) == []
    assert _files_holding(bob, ["cust-905"])  # the scan finds an id where it is


def _files_holding(node: NodeInstall, ids: list[str]) -> list[str]:
    """Files of `node`'s data directory (database, storage) holding any of `ids`."""
    wanted = [i.encode() for i in ids]
    return [
        str(path)
        for path in node.data_dir.rglob("*")
        if path.is_file() and any(i in path.read_bytes() for i in wanted)
    ]


ORDER_ROLES = {
    "customer_id": "id",
    "amount": "feature",
    "visits": "feature",
    "segment": "protected",
}
CUSTOMER_ROLES = {"customer_id": "id", "defaulted": "label", "age": "feature", "score": "feature"}
PIPELINE = "Default risk across nodes"


def _upload_and_authorise(page, url: str, path: Path, text: str, roles: dict) -> None:
    """Upload a CSV on this node's console and authorise it to "Credit" with `roles`."""
    path.write_text(text, encoding="utf-8")
    page.goto(f"{url}/datasets/upload/")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_label("Name").fill(path.stem)
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    page.get_by_label("Project").select_option(label="Credit")
    for column, role in roles.items():
        page.get_by_label(column, exact=True).select_option(role)
    page.get_by_role("button", name="Authorise").click()
    done, anyway = page.get_by_text("Authorised to “Credit”."), page.get_by_text("Authorise anyway")
    expect(done.or_(anyway)).to_be_visible()
    if anyway.is_visible():  # bob's dataset has no label: the form asks him to confirm
        expect(page.locator("form.form")).to_contain_text("No column has the role Label")
        anyway.click()
    done.wait_for()


def _pipeline_from_template(page) -> int:
    page.get_by_role("link", name="New pipeline").click()
    page.get_by_label("Name").fill(PIPELINE)
    page.get_by_label(TEMPLATE).check()
    page.get_by_role("button", name="Create and open the canvas").click()
    page.wait_for_url(re.compile(r"/pipelines/\d+/$"))
    page.wait_for_selector('body[data-canvas-ready="true"]')
    page.wait_for_function("() => !document.querySelector('#canvas [data-config=\"needs\"]')")
    expect(page.locator(".config-valid")).to_have_text("The pipeline is valid and ready to run.")
    return int(re.search(r"/pipelines/(\d+)/$", page.url).group(1))


def _approve_at(page, url: str) -> None:
    """bob's admin finds the request in his message center and approves the plan."""
    page.goto(f"{url}/approvals/")
    page.locator("tr[data-approval]").get_by_role("link").first.click()
    expect(page.locator(".approval-plan")).to_contain_text("alice receives")
    # Who asked, as alice's node states it (no user of bob's node asked).
    expect(page.locator(".lead")).to_contain_text("requested by alice_admin (at node alice)")
    page.get_by_role("button", name="Approve this plan").click()
    expect(page.locator("h1")).to_contain_text("Approved")


def _run_live(page, url: str, pipeline_id: int) -> int:
    """Run all again from alice's canvas and watch it live: node statuses change on the page
    (the websocket) through running to succeeded, without a reload."""
    page.reload()
    page.wait_for_selector('body[data-canvas-ready="true"]')
    page.evaluate(
        """() => { window.seenStatuses = [];
        new MutationObserver(records => records.forEach(r => window.seenStatuses.push(
            r.target.dataset.nodeId + ":" + r.target.dataset.status)))
          .observe(document.getElementById("canvas"),
                   {attributes: true, attributeFilter: ["data-status"], subtree: true}); }"""
    )
    page.get_by_role("button", name="Run all").click()
    evaluate = page.locator('#canvas [data-node-id="evaluate"]')
    expect(evaluate).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-controls .run-badge .badge")).to_have_text("Succeeded")
    seen = page.evaluate("() => window.seenStatuses")
    assert "train:running" in seen, seen
    assert seen.index("train:running") < seen.index("train:succeeded"), seen
    _shot(page, "9-alice-run-succeeded-live")
    page.goto(f"{url}/pipelines/{pipeline_id}/")
    link = page.locator(".run-list .run-row").first
    return int(re.search(r"#(\d+)", link.inner_text()).group(1))


def _results(page, node_id: str):
    page.locator(f'#canvas [data-node-id="{node_id}"]').click()
    page.locator("#tab-results").click()
    return page.locator("#panel-results")


def _summary_auc(results) -> str:
    page = results.page
    summary = results.locator("table").filter(has=page.locator("caption", has_text="Summary"))
    auc = summary.locator("tr").filter(has=page.locator("td", has_text=re.compile("^auc$")))
    expect(auc).to_have_count(1, timeout=30_000)
    return auc.locator("td").nth(1).inner_text()


def _alice_results(page, url: str, run_id: int) -> str:
    """alice's run page: her evaluation report in full; returns the AUC it shows."""
    page.goto(f"{url}/pipelines/runs/{run_id}/")
    page.wait_for_selector('body[data-canvas-ready="true"]')
    auc = _summary_auc(_results(page, "evaluate"))
    assert 0.5 < float(auc) <= 1.0
    _shot(page, "10-alice-run-page-evaluation")
    # Her downloadable report holds bob's public log lines too, marked as the canvas marks them.
    report = page.request.get(f"{url}/api/v1/runs/{run_id}/report/")
    assert report.ok
    assert "@bob  " in report.text()
    return auc


def _bob_results(page, url: str, bob: NodeInstall, pipeline_id: int) -> str:
    """bob's copy of the pipeline and his run page: his report copy (its AUC returned), his
    part of the joined table; his node holds his parts only."""
    page.goto(f"{url}/pipelines/{pipeline_id}/")
    # bob's copy of the pipeline shows the run as his node ran it.
    expect(page.locator(".run-list .run-row").first).to_contain_text("Succeeded")
    expect(page.locator("#run-controls .run-badge .badge")).to_have_text("Succeeded")
    expect(page.locator('#canvas [data-node-id="train"]')).to_have_attribute(
        "data-status", "succeeded"
    )
    _shot(page, "11-bob-replica-canvas-after-the-run")
    run_id = int(re.search(r"#(\d+)", page.locator(".run-list .run-row").first.inner_text())[1])
    page.goto(f"{url}/pipelines/runs/{run_id}/")
    page.wait_for_selector('body[data-canvas-ready="true"]')
    expect(page.locator('#canvas [data-node-id="evaluate"]')).to_have_attribute(
        "data-status", "succeeded"
    )
    expect(page.locator("h1")).to_contain_text("started by alice_admin (at node alice)")
    results = _results(page, "evaluate")
    auc = _summary_auc(results)
    roc = results.locator("figure.result-figure").filter(has_text="ROC curve")
    roc.scroll_into_view_if_needed()
    expect(roc.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=30_000)
    _shot(page, "12-bob-run-page-report-copy")
    # The joined table: bob's own part (his columns of the 330 shared ids), alice's stays.
    joined = _results(page, "psi")
    own = joined.locator('.part-own[data-party="bob"]')
    expect(own).to_contain_text("of 330 rows (your part)", timeout=30_000)
    header = own.locator("th").all_inner_texts()
    assert "amount" in header
    assert "score" not in header
    assert "visits" in header
    expect(joined.locator('.part-other[data-party="alice"]')).to_contain_text(
        "Its rows stay with alice"
    )
    _shot(page, "13-bob-run-page-own-join")
    href = own.get_by_role("link", name="Download CSV").get_attribute("href")
    csv = page.request.get(f"{url}{href}").text()
    assert csv.splitlines()[0].lstrip("\ufeff").split(",")[0] == "customer_id"
    assert len(csv.splitlines()) == 331
    assert "score" not in csv.splitlines()[0]
    held = bob.query("SELECT party, relative_path FROM workflows_artifact")
    assert held
    assert {party for party, _ in held} == {"bob"}
    assert all(path.startswith(f"peer-runs/alice/run-{run_id}/runs/") for _, path in held)
    return auc
