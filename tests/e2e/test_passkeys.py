"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools protocol) stands in
for the device; alice adds a passkey, saves her recovery codes, and signs in with it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, log_in


def add_virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})


def test_alice_adds_a_passkey_and_signs_in_with_it(new_page, live_server, people):
    base = live_server.url
    page = new_page()
    add_virtual_authenticator(page)
    log_in(page, base, "alice_admin")
    page.goto(f"{base}/accounts/two-factor/")
    page.get_by_label("Name of a new passkey").fill("virtual key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey 'virtual key' added.")).to_be_visible()
    expect(page.locator("[data-passkey-codes] li")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "people-9-passkey-added.png"), full_page=True)
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("row", name="virtual key")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/accounts/login/")  # logged out before the next sign-in starts
    page.get_by_label("Username").fill("alice_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Use a passkey instead").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".user-box")).to_contain_text("alice_admin")
