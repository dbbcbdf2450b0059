"""The initiator's canvas follows every party's part of a run across nodes, live.

The run is recorded here as an initiating node records one (`workflows.state.open_parts`), and
the parties' reports are applied as `console.federation.run_events` applies them (through
`workflows.state`), from the test thread while the page watches: each node's progress track
splits into one segment per party, the results panel lists the parties with their status and
progress, and the lines a member reported are marked with its name in the log drawer.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_canvas_runs import credit_pipeline, node_body, open_canvas, tables  # noqa: F401
from tests.workflows.runs import new_run
from workflows import state
from workflows.models import NodePart, Status
from workflows.recovery import executor_id

SCREENSHOT = "var/screenshots/network-run-parts.png"


def part(run, node_id: str, party: str) -> NodePart:
    return NodePart.objects.select_related("node_run").get(
        node_run__run=run, node_run__node_id=node_id, party=party
    )


def test_each_partys_part_shows_on_the_canvas_as_it_reports(
    asgi_live_server,
    credit_pipeline,  # noqa: F811
    new_page,
):
    run = new_run(credit_pipeline)
    state.open_parts(run, ("alice", "bob"))
    state.claim_run(run.pk, executor_id())
    base, page = asgi_live_server.url, new_page()
    log_in(page, base, "alice_admin")
    open_canvas(page, base, f"/pipelines/{credit_pipeline.pk}/")
    read = node_body(page, "read")
    expect(read).to_have_attribute("data-parts", "alice:pending:0 bob:pending:0")
    expect(page.locator("#run-controls")).to_contain_text("Running")

    read_node = run.nodes.get(node_id="read")
    state.set_node_status(read_node, Status.RUNNING)
    alice, bob = part(run, "read", "alice"), part(run, "read", "bob")
    state.set_part_status(alice, Status.RUNNING)
    state.set_part_status(bob, Status.RUNNING, "", sequence=1)
    state.set_part_progress(alice, 40)
    state.set_part_progress(bob, 70, sequence=2)
    line = {"time": "2026-12-04T10:00:01+00:00", "level": "info", "message": "read 40 rows at bob"}
    state.add_part_log(bob, line, sequence=3)
    expect(read).to_have_attribute("data-parts", "alice:running:40 bob:running:70")
    expect(read.locator("title")).to_have_text("alice: Running 40% · bob: Running 70%")

    read.click()
    page.get_by_role("tab", name="Results").click()
    parts = page.locator("#panel-results .result-parts")
    expect(parts.locator('tr[data-party="bob"]')).to_contain_text("70%")
    expect(parts.locator('tr[data-party="alice"]')).to_contain_text("Running")
    page.locator(".log-toggle").click()
    expect(page.locator(".log-lines li .log-party").first).to_have_text("@bob ")
    page.screenshot(path=SCREENSHOT)

    state.set_part_status(bob, Status.SUCCEEDED, "", sequence=4)
    expect(read).to_have_attribute("data-parts", "alice:running:40 bob:succeeded:100")
    expect(parts.locator('tr[data-party="bob"]')).to_contain_text("Succeeded")
    state.set_part_status(alice, Status.FAILED, "lost contact with bob")
    expect(read).to_have_attribute("data-parts", "alice:failed:40 bob:succeeded:100")
    state.set_node_status(read_node, Status.FAILED, "lost contact with bob", "bob")
    for node in run.nodes.filter(status=Status.PENDING):
        state.set_node_status(node, Status.SKIPPED, "the run stopped")
    run.refresh_from_db()
    state.set_run_status(run, Status.FAILED, "failed at read at bob: lost contact with bob")
    state.close_parts(run)
    expect(node_body(page, "split")).to_have_attribute(
        "data-parts", "alice:skipped:0 bob:skipped:0"
    )
    page.screenshot(path=SCREENSHOT.replace(".png", "-ended.png"))
