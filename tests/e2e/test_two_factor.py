"""Second factor in a real browser: alice turns on an authenticator (the test computes the
codes from the key the page shows), saves her recovery codes, then signs in with a code."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.accounts.test_two_factor import code_for
from tests.console.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, log_in


def test_alice_turns_on_a_second_factor_and_signs_in_with_a_code(new_page, live_server, people):
    base = live_server.url
    page = new_page()
    log_in(page, base, "alice_admin")
    page.get_by_role("link", name="My account").click()
    page.get_by_role("link", name="Second factor").click()
    secret = page.locator("#totp-secret").inner_text()
    # The setup address as a QR code, drawn in the page (one SVG path, no refused styles).
    qr = page.locator("#totp-qr svg")
    expect(qr).to_be_visible()
    uri = page.locator("#totp-uri").inner_text()
    assert page.locator("#totp-qr").get_attribute("data-qr") == uri
    assert uri.startswith("otpauth://totp/")
    assert f"secret={secret.replace(' ', '')}" in uri
    assert int(qr.get_attribute("data-modules")) >= 29  # version 3 or above for this length
    assert qr.evaluate("el => el.getBoundingClientRect().width") >= 150
    page.locator("#totp-qr").screenshot(path=str(ARTIFACTS / "people-6-totp-qr.png"))
    page.screenshot(path=str(ARTIFACTS / "people-6-totp-enrolment.png"), full_page=True)
    page.get_by_label("Code").fill(code_for(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("The second factor is on.")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "people-7-recovery-codes.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/accounts/login/")  # logged out before the next sign-in starts
    page.get_by_label("Username").fill("alice_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "people-8-code-step.png"), full_page=True)
    page.wait_for_timeout(1500)  # django-otp's back-off after a wrong code: 1 s
    page.get_by_label("Code").fill(code_for(secret, 1))  # the next code: the first was used
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".user-box")).to_contain_text("alice_admin")
