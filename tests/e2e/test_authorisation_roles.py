"""Authorising a dataset in a real browser: roles suggested from the file and pre-filled, a
confirm step for roles without a label, editing the roles as a new version, and a confirm step
before revoking. Screenshots of each step go to tests/e2e/artifacts/ to be looked at."""

from __future__ import annotations

from playwright.sync_api import expect

from console.datasets.models import Authorization
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.workflows.conftest import credit_frame, make_dataset

PROJECT = "Joint credit model"


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"authorisation-{name}.png"), full_page=True)


def test_the_owner_confirms_suggested_roles_edits_them_and_revokes_after_a_warning(
    live_server, people, new_page
):
    dataset = make_dataset(people["alice"].node, "credit", credit_frame())  # id, ..., y (0/1)
    base, page = live_server.url, new_page()
    log_in(page, base, "alice_admin")
    page.goto(f"{base}/datasets/{dataset.pk}/")

    # Suggested from the file and pre-filled, with the reason: the owner still decides.
    expect(page.get_by_label("id", exact=True)).to_have_value("id")
    expect(page.get_by_label("y", exact=True)).to_have_value("label")
    expect(page.get_by_text("named like a target and every value is 0/1")).to_be_visible()
    shoot(page, "1-suggested")

    page.get_by_label("Project").select_option(label=PROJECT)
    page.get_by_label("y", exact=True).select_option("feature")
    page.get_by_role("button", name="Authorise").click()
    warning = page.locator("#role-warnings")
    expect(warning).to_contain_text("No column has the role Label")
    expect(page.get_by_label("y", exact=True)).to_have_value("feature")  # the choice is kept
    assert not Authorization.objects.exists()
    shoot(page, "2-confirm-step")
    page.get_by_role("button", name="Authorise anyway").click()
    expect(page.get_by_text(f"Authorised to “{PROJECT}”.")).to_be_visible()

    page.get_by_role("link", name="Edit roles").click()
    expect(page.get_by_label("y", exact=True)).to_have_value("feature")
    page.get_by_label("y", exact=True).select_option("label")
    shoot(page, "3-edit-roles")
    page.get_by_role("button", name="Save roles").click()
    expect(page.get_by_text("version 2 replaces version 1")).to_be_visible()
    expect(page.get_by_text("Replaced by version 2")).to_be_visible()
    shoot(page, "4-versions")

    page.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name=f"Revoke “credit” from “{PROJECT}”?")).to_be_visible()
    shoot(page, "5-revoke-confirm")
    assert Authorization.objects.filter(revoked_at__isnull=True).count() == 1
    page.get_by_role("button", name="Revoke authorisation").click()
    expect(page.get_by_text(f"Authorisation to “{PROJECT}” revoked.")).to_be_visible()
    assert not Authorization.objects.filter(revoked_at__isnull=True).exists()
