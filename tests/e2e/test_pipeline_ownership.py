"""Ownership in a real browser: bob opens alice's pipeline read-only, alice makes him an editor
on the editors page, and his canvas becomes editable."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.canvas_helpers import open_canvas
from tests.e2e.conftest import log_in
from tests.e2e.test_canvas_editor import make_pipeline, node, world  # noqa: F401 - fixture


def test_bob_reads_alices_pipeline_until_she_makes_him_an_editor(
    new_page,
    live_server,
    world,  # noqa: F811
):
    pipeline = make_pipeline(
        world, [node("bank", "read/dataset", 120, 120, dataset=world["bank"].pk)], name="Risk"
    )
    base = live_server.url
    bob = new_page()
    log_in(bob, base, "bob_admin")
    open_canvas(bob, base, pipeline.pk)
    banner = bob.get_by_role("note")
    expect(banner).to_contain_text("only alice_admin and the editors they chose")
    expect(bob.locator("#palette")).to_contain_text("Read-only")
    expect(bob.get_by_role("button", name="Run all")).to_be_disabled()

    alice = new_page()
    log_in(alice, base, "alice_admin")
    alice.goto(f"{base}/projects/{world['project'].pk}/")
    alice.get_by_role("row", name="Risk").get_by_role("link", name="editors").click()
    expect(alice.get_by_role("heading", name="Who may change “Risk”")).to_be_visible()
    alice.get_by_label("bob_admin (bob)").check()
    alice.get_by_role("button", name="Save editors").click()
    expect(alice.get_by_text("Editors of 'Risk' saved.")).to_be_visible()
    expect(alice.locator("dl.facts")).to_contain_text("bob_admin")

    open_canvas(bob, base, pipeline.pk)
    expect(bob.get_by_role("note")).to_have_count(0)
    expect(bob.locator("#palette")).to_contain_text("Drag a component")
    expect(bob.get_by_role("button", name="Run all")).to_be_enabled()
