"""The owner chooses the project's source of Beaver triples in a real browser, and a run page
names the source its run used.

One installation in network mode (alice's node, paired with bob, a member, and with dave, a
node that is no member); the browser is alice's admin. Runs across real nodes with a dealer:
`tests/console/federation/test_dealer_across_nodes.py`.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from console.federation.models import Proposal, RunTripleSource, SharedProject
from console.nodes.models import PeerRoute
from tests.console.conftest import make_node
from tests.console.federation.conftest import deliver, make_route, make_self
from tests.e2e.conftest import log_in

SHOTS = os.environ.get("PRIVPAD_SCREENSHOTS")  # a directory to keep screenshots in, if set


@pytest.fixture
def alices_node(people, settings) -> dict:
    settings.PRIVPAD_DEPLOYMENT = "network"
    make_self(people["alice"].node)  # `people` maps each name to its node admin
    make_route(people["bob"].node)
    dave = make_node("dave", "Dave Neutral Services")
    make_route(dave)
    SharedProject.objects.create(
        project=people["project"], version=2, member_names=["alice", "bob"]
    )
    return {**people, "dave": dave}


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_the_owner_names_a_dealer_node_and_the_run_page_names_it(
    alices_node, live_server, new_page
):
    page = new_page()
    log_in(page, live_server.url, "alice_admin")
    page.goto(f"{live_server.url}/projects/{alices_node['project'].pk}/")
    card = page.get_by_test_id("triple-source")
    expect(card).to_contain_text("from the trusted first party (the default)")
    expect(card).to_contain_text("not to collude with any of them")
    expect(page.locator("#invite-node option")).to_have_text(["Choose a node…", "Dave (dave)"])
    choice = card.get_by_label("Source of Beaver triples")
    expect(choice.locator("option")).to_have_text(
        ["Trusted first party (default)", "Dealer node Dave (dave)"]
    )
    choice.select_option(label="Dealer node Dave (dave)")
    card.get_by_role("button", name="Propose").click()
    expect(page.locator(".messages, [role=status], .alert").first).to_contain_text(
        "Proposed: Beaver triples from the dealer node dave"
    )
    expect(page.get_by_test_id("dealer-proposal")).to_contain_text("Waiting for votes")
    expect(page.get_by_test_id("proposals")).to_contain_text("bob: pending")
    shoot(page, "dealer-proposed.png")
    proposal = Proposal.objects.get(kind="dealer")  # bob's admin accepts at bob's node
    vote = {"proposal": str(proposal.uid), "decision": "accepted"}
    deliver(PeerRoute.objects.get(node__name="bob"), "ProjectVote", vote)
    page.reload()
    card = page.get_by_test_id("triple-source")
    expect(card).to_contain_text("from the dealer node dave")
    expect(page.get_by_test_id("dealer-proposal")).to_have_count(0)
    # The dealer computes nothing: it is no longer offered as a member to invite.
    expect(page.locator("#invite-node")).to_have_count(0)
    shoot(page, "dealer-choice.png")
    assert SharedProject.objects.get(project=alices_node["project"]).dealer == "dave"

    from workflows.models import Pipeline, Run

    name = "Default risk: PSI, SS-LR and evaluation"  # the demo's: the title fills its line
    pipeline = Pipeline.objects.create(project=alices_node["project"], name=name, graph={})
    run = Run.objects.create(pipeline=pipeline, snapshot={"nodes": [], "edges": []})
    RunTripleSource.objects.create(run=run, dealer="dave")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(f"{live_server.url}/pipelines/runs/{run.pk}/")
    badge = page.get_by_test_id("run-triple-source")
    expect(badge).to_have_text("Beaver triples: the dealer node dave")
    expect(page.locator("#run-controls .run-summary")).to_be_visible()  # the header's final width
    assert shown_unclipped(badge), "the badge is cut off (e.g. by the title's ellipsis)"
    shoot(page, "dealer-run-page.png")


def shown_unclipped(locator) -> bool:
    """What the reader sees at both ends of the element is the element: nothing clips or covers
    it (Playwright counts an element cut off by its parent's `overflow: hidden` as visible)."""
    return locator.evaluate(
        """element => {
            const box = element.getBoundingClientRect(), y = box.y + box.height / 2;
            return [box.left + 2, box.right - 2].every(
                x => element.contains(document.elementFromPoint(x, y)));
        }"""
    )


def test_a_dealer_nodes_operator_finds_what_it_served_from_the_nodes_page(
    transactional_db, settings, live_server, new_page
):
    from django.utils import timezone

    from console.federation.models import DealerService
    from tests.console.conftest import make_user

    settings.PRIVPAD_DEPLOYMENT = "network"
    settings.PRIVPAD_SERVES_DEALER = True
    dave = make_self(make_node("dave", "Dave Neutral Services"))
    make_user("dave_admin", dave)
    alice, bob = make_node("alice", "Alice Bank"), make_node("bob", "Bob Shop")
    for node in (alice, bob):
        make_route(node)
    started = timezone.now()
    DealerService.objects.create(
        origin=alice,
        remote_run=7,
        project_uid="6f1c1a8e-0000-4000-8000-000000000001",
        project_name="Joint credit risk",
        parties=["alice", "bob"],
        engines={"alice": "10.0.0.1:7201", "bob": "10.0.0.2:7202"},
        state=DealerService.State.ENDED,
        endings={
            "alice": "'alice' has shut down its link",
            "bob": "'bob' has shut down its link",
        },
        started_at=started,
        ended_at=timezone.now(),
    )
    page = new_page()
    log_in(page, live_server.url, "dave_admin")
    page.goto(f"{live_server.url}/nodes/")
    page.get_by_role("link", name="Runs served as dealer node").click()
    table = page.get_by_test_id("dealer-services")
    expect(table).to_contain_text("run #7 of alice")
    expect(table).to_contain_text("Joint credit risk")
    expect(table).to_contain_text("Ended normally")
    expect(table).to_contain_text("'bob' has shut down its link")
    expect(page.locator(".lead")).to_contain_text("sent no data, no pipeline, no share")
    shoot(page, "dealer-services.png")
