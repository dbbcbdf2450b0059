"""Two nodes' consoles share a project: alice's admin invites bob from the project page, bob's
admin accepts in the message center, each sees the other's side: members' nodes, bob's dataset
as a remote schema at alice, alice's pipeline read-only at bob.

Two installations (tests/console/nodes/node_installs.py) in network mode, paired on the
command line; everything the test asserts is read from each node's own console.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.console.nodes.node_installs import NodeInstall, migrated_template

PASSWORD = "shared-project-walk-1"
pytestmark = pytest.mark.timeout(400)
SHOTS = os.environ.get("PRIVPAD_SCREENSHOTS")  # a directory to keep screenshots in, if set
ORDERS = "uid,amount,segment\nu1,10.5,gold\nu2,99.25,silver\n"


@pytest.fixture
def two_nodes(tmp_path):
    template = migrated_template(tmp_path / "template")
    nodes = {n: NodeInstall(tmp_path, n, template, network=True) for n in ("alice", "bob")}
    try:
        for node in nodes.values():
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


def test_a_project_is_shared_across_two_nodes_consoles(two_nodes, new_page):
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

    roles = {"uid": "id", "amount": "feature", "segment": "protected"}
    bob.act("upload_and_authorise", "bob_admin", "Credit", ORDERS, roles)
    alice.act("save_pipeline", "Credit", "Credit scoring LR")

    alice_page.reload()
    remote = alice_page.inner_text("[data-testid=remote-datasets]")
    assert "orders" in remote
    assert "Protected" in remote
    assert "99.25" not in alice_page.content()
    assert "bob: accepted" in alice_page.inner_text("[data-testid=proposals]")
    _shot(alice_page, "3-alice-project-remote-dataset")

    bob_page.reload()
    _shot(bob_page, "4-bob-project-copy")
    bob_page.goto(f"{bob_url}/pipelines/{bob.act('pipeline_pk', 'Credit scoring LR')}/")
    assert "Replicated read-only from node alice" in bob_page.content()
    _shot(bob_page, "5-bob-replicated-pipeline")
