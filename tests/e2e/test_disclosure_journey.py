"""Disclosure control in a real browser: request -> approval -> run -> ledger.

bob's pipeline trains SS-LR on alice's features and label and sends id-linked scores to bob.
bob sees the plan and the badge on `predict`; his run waits for alice's approval (409), alice
finds the request in her message center, reads the plan in words and approves it with a
comment; bob's run then executes exactly that plan, the run page shows the privacy ledger, and
alice's dataset page lists the run with who approved and what left to whom.

Screenshots of each step go to tests/e2e/artifacts/disclosure-*.png (gitignored).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.datasets.models import Authorization
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.workflows.conftest import (
    AGGREGATES,
    CREDIT_ROLES,
    SHOP_ROLES,
    credit_frame,
    edge,
    make_dataset,
    node,
    shop_frame,
)
from workflows.models import Approval, LedgerEntry, Pipeline, Run, Status


def placed(node_id: str, component: str, x: int, y: int, **params) -> dict:
    return node(node_id, component, **params) | {"position": {"x": x, "y": y}}


@pytest.fixture
def scoring(people) -> dict:
    project, alice, bob = people["project"], people["alice"].node, people["bob"].node
    credit = make_dataset(alice, "credit", credit_frame())
    shop = make_dataset(bob, "shop", shop_frame())
    for dataset, roles in ((credit, CREDIT_ROLES), (shop, SHOP_ROLES)):
        Authorization.objects.create(
            dataset=dataset, project=project, column_roles=roles, disclosure_policy=AGGREGATES
        )
    train = {"features": ["score"], "label": "y", "epochs": 2}  # scaled: [0, 1]
    nodes = [
        placed("read_a", "read/dataset", 0, 0, dataset=credit.pk),
        placed("read_b", "read/dataset", 0, 140, dataset=shop.pk),
        placed("psi", "data_prep/psi", 230, 70, keys1=["id"], keys2=["id"]),
        placed("train", "ml.train/ss_lr", 460, 0, **train),
        placed("predict", "ml.predict/ss_lr", 690, 70, receiver="bob", save_ids=True),
    ]
    edges = [
        edge("read_a", "output_ds", "psi", "input_ds1"),
        edge("read_b", "output_ds", "psi", "input_ds2"),
        edge("psi", "output_ds", "train", "input_ds"),
        edge("train", "output_model", "predict", "input_model"),
        edge("psi", "output_ds", "predict", "input_ds"),
    ]
    pipeline = Pipeline.objects.create(
        project=project,
        name="Bob's scoring",
        graph={"nodes": nodes, "edges": edges},
        created_by=people["bob"],
    )
    return {"pipeline": pipeline, "credit": credit, **people}


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"disclosure-{name}.png"), full_page=True)


def open_canvas(page, base: str, path: str) -> None:
    page.goto(f"{base}{path}")
    page.wait_for_selector('body[data-canvas-ready="true"]')


def test_request_approval_run_and_ledger(asgi_live_server, scoring, new_page):
    base, pipeline = asgi_live_server.url, scoring["pipeline"]
    bob = new_page()
    log_in(bob, base, "bob_admin")
    open_canvas(bob, base, f"/pipelines/{pipeline.pk}/")

    # The plan, before anything runs: a badge on the node that discloses, the plan in words.
    # psi (ids), train (model shares) and predict (scores): each needs alice's approval.
    expect(bob.locator('#canvas rect[data-disclosure="ask"]')).to_have_count(3)
    bob.get_by_role("tab", name="Disclosure").click()
    panel = bob.locator("#panel-disclosure")
    source = panel.locator('[data-source="alice"]')
    expect(source).to_contain_text("alice: approval needed")
    # (predict's other entry from alice: the bound of her features, an aggregate bob learns)
    asked = source.locator('.disclosure-entry[data-node="predict"][data-form="row_level"]')
    expect(asked).to_contain_text("bob receives: id-linked prediction scores over up to 60 rows")
    expect(asked).to_contain_text("Needs approval")
    shot(bob, "1-plan")

    # Run all: the run waits for alice's approval.
    bob.get_by_role("button", name="Run all").click()
    expect(bob.locator(".run-alert")).to_contain_text("waits for the approval of alice")
    waiting = panel.locator(".disclosure-waiting")
    expect(waiting).to_contain_text("pending")
    # bob consented to his own part by starting the run; alice's request is pending.
    expect(panel.locator(".disclosure-verdict")).to_have_text("Runs once alice approves this plan.")
    expect(panel.locator('[data-source="alice"]')).to_contain_text("waiting for a decision")
    assert not Run.objects.exists()
    approval = Approval.objects.get(party="alice")
    shot(bob, "2-waiting")

    # alice: the count in the navigation, the request in words, approval with a comment.
    alice = new_page()
    log_in(alice, base, "alice_admin")
    expect(alice.locator(".nav-count")).to_have_text("1")
    alice.get_by_role("link", name="Approvals").click()
    alice.locator(f'tr[data-approval="{approval.pk}"]').get_by_role("link").click()
    expect(alice.locator(".approval-plan")).to_contain_text(
        "bob receives: id-linked prediction scores over up to 60 rows"
    )
    expect(alice.locator(".approval-plan")).to_contain_text("label y")
    shot(alice, "3-request")
    alice.get_by_label("Comment").fill("For the Q3 campaign only.")
    alice.get_by_role("button", name="Approve this plan").click()
    expect(alice.locator("h1")).to_contain_text("Approved")
    expect(alice.locator(".nav-count")).to_have_count(0)
    shot(alice, "4-approved")

    # bob runs again: exactly the approved plan runs.
    bob.reload()
    bob.wait_for_selector('body[data-canvas-ready="true"]')
    bob.get_by_role("tab", name="Disclosure").click()
    expect(panel.locator('[data-source="alice"]')).to_contain_text("approved this exact plan")
    bob.get_by_role("button", name="Run all").click()
    expect(bob.locator("#run-controls .run-badge .badge")).to_have_text("Succeeded", timeout=90_000)
    run = Run.objects.get(pipeline=pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    assert run.disclosure_fingerprint == approval.fingerprint
    assert LedgerEntry.objects.filter(run=run, recipient="bob", kind="row_level").exists()

    # The run page: its privacy ledger.
    bob.goto(f"{base}/pipelines/runs/{run.pk}/")
    bob.wait_for_selector('body[data-canvas-ready="true"]')
    bob.get_by_role("tab", name="Disclosure").click()
    ledger = panel.locator(".ledger-list")
    row = ledger.locator('li[data-recipient="bob"]', has_text="prediction scores")
    expect(row).to_contain_text("row-level")
    expect(row).to_contain_text(f"alice: approval #{approval.pk}")
    shot(bob, "5-ledger")

    # alice's dataset page: the run, who approved, what left and to whom.
    alice.goto(f"{base}/datasets/{scoring['credit'].pk}/")
    used = alice.locator(f'#dataset-runs tr[data-run="{run.pk}"]')
    expect(used).to_contain_text("bob_admin")
    expect(used).to_contain_text(f"alice: approved by alice_admin (#{approval.pk})")
    expect(used).to_contain_text("bob received id-linked prediction scores")
    used.scroll_into_view_if_needed()
    shot(alice, "6-dataset")
