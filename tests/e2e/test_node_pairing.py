"""Two nodes' consoles in a real browser: alice's admin invites, bob's admin accepts.

Each node is its own installation (own database, identity, node service and console process,
see tests/console/nodes/node_installs.py); the invitation travels only through the admins'
hands (copied from one page, pasted into the other).
"""

from __future__ import annotations

import pytest

from tests.console.nodes.node_installs import NodeInstall, migrated_template

PASSWORD = "pairing-walk-password-1"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def two_nodes(tmp_path):
    template = migrated_template(tmp_path / "template")
    nodes = [NodeInstall(tmp_path, name, template) for name in ("alice", "bob")]
    try:
        for node in nodes:
            node.init()
            node.add_admin(PASSWORD)
            node.serve()
        yield [(node, node.serve_console()) for node in nodes]
    finally:
        for node in nodes:
            node.stop()


def _log_in(page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{url}/nodes/")


def test_admins_pair_two_nodes_through_their_consoles(two_nodes, new_page):
    (alice, alice_url), (bob, bob_url) = two_nodes
    alice_page, bob_page = new_page(), new_page()
    _log_in(alice_page, alice_url)
    assert "Network deployment" in alice_page.inner_text("footer")
    alice_page.click("text=Create invitation")
    invitation = alice_page.input_value("#invitation-text")
    assert invitation.startswith("privpad-invitation/1;node=alice;")

    _log_in(bob_page, bob_url)
    bob_page.fill("textarea[name=text]", invitation)
    bob_page.click("text=Accept and pair")
    assert "Paired with alice" in bob_page.inner_text(".messages")
    bob_page.click("tr[data-route=alice] >> text=Check now")
    assert "alice answered in" in bob_page.inner_text(".messages")
    assert "Online" in bob_page.inner_text("tr[data-route=alice]")

    alice_page.goto(f"{alice_url}/nodes/")
    assert "We invited them" in alice_page.inner_text("tr[data-route=bob]")
    alice_page.click("tr[data-route=bob] >> text=Disable")
    assert "Disabled" in alice_page.inner_text("tr[data-route=bob]")
    bob_page.click("tr[data-route=alice] >> text=Check now")
    assert "disabled its route to bob" in bob_page.inner_text(".messages")


def test_an_admin_rotates_the_certificate_and_the_peer_re_pins_it(two_nodes, new_page):
    (alice, alice_url), (bob, bob_url) = two_nodes
    bob.manage("node", "accept", alice.invite())
    alice_page, bob_page = new_page(), new_page()
    _log_in(alice_page, alice_url)
    alice_page.select_option("#grace-seconds", "3600")
    alice_page.click("text=Rotate certificate")
    messages = alice_page.inner_text(".messages")
    assert "bob pinned the new certificate." in messages
    assert "peers accept the old one until" in messages
    new_fingerprint = alice_page.inner_text("code.fingerprint >> nth=0")
    assert "peers accept the old certificate until" in alice_page.inner_text(
        "[data-field=last-rotation]"
    )

    _log_in(bob_page, bob_url)
    row = bob_page.inner_text("tr[data-route=alice]")
    assert new_fingerprint[:16] in row
    assert "its old certificate is accepted until" in row
    bob_page.click("tr[data-route=alice] >> text=Check now")
    assert "alice answered in" in bob_page.inner_text(".messages")
