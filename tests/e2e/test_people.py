"""People in a real browser: alice's node admin adds a viewer on the People page, hands over
the generated password, and the viewer signs in, sees their role and a read-only canvas."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.canvas_helpers import open_canvas
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.e2e.test_canvas_editor import make_pipeline, node, world  # noqa: F401 - fixture


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"people-{name}.png"), full_page=True)


def test_a_node_admin_adds_a_viewer_who_then_signs_in(
    new_page,
    live_server,
    world,  # noqa: F811
):
    pipeline = make_pipeline(
        world, [node("bank", "read/dataset", 120, 120, dataset=world["bank"].pk)], name="Risk"
    )
    base = live_server.url
    admin = new_page()
    log_in(admin, base, "alice_admin")
    admin.get_by_role("link", name="People").click()
    expect(admin.get_by_role("heading", name="People", exact=True)).to_be_visible()
    admin.get_by_label("Username").fill("dora")
    admin.get_by_label("Email").fill("dora@alice.example")
    admin.get_by_label("Role").select_option("viewer")
    shot(admin, "1-add-user")
    admin.get_by_role("button", name="Add user").click()
    expect(admin.get_by_text("User 'dora' was created.")).to_be_visible()
    password = admin.locator("#new-password").inner_text().strip()
    assert re.fullmatch(r"[\w-]{12,}", password)
    shot(admin, "2-password-shown-once")
    admin.get_by_role("link", name="People").first.click()
    expect(admin.get_by_role("row", name=re.compile("dora"))).to_contain_text("Viewer")

    dora = new_page()
    dora.goto(f"{base}/accounts/login/")
    dora.get_by_label("Username").fill("dora")
    dora.get_by_label("Password").fill(password)
    dora.get_by_role("button", name="Log in").click()
    dora.wait_for_url(f"{base}/")
    expect(dora.locator(".user-box")).to_contain_text("Viewer")
    expect(dora.get_by_role("link", name="People")).to_have_count(0)
    open_canvas(dora, base, pipeline.pk)
    expect(dora.get_by_role("note")).to_contain_text("viewers open pipelines and results")
    expect(dora.get_by_role("button", name="Run all")).to_be_disabled()
    shot(dora, "3-viewer-canvas")
    dora.goto(f"{base}/accounts/")
    expect(dora.get_by_role("heading", name="Signed-in sessions")).to_be_visible()
    expect(dora.get_by_text("This session")).to_be_visible()
    shot(dora, "4-my-account")
