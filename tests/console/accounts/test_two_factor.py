"""Second factor: enrolment with a code computed here, login in two steps, recovery codes,
throttled wrong codes, a node's requirement, and an admin removing a lost authenticator."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from html import unescape

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.accounts.models import NodeSecurityPolicy
from console.audit.models import AuditEvent
from tests.console.conftest import PASSWORD


def code_for(secret_b32: str, offset_steps: int = 0) -> str:
    """The 6-digit TOTP code an authenticator app would show now (RFC 6238, SHA-1, 30 s)."""
    totp = TOTP(b32decode(secret_b32.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * offset_steps
    return f"{totp.token():06d}"


def password_step(client: Client, username: str = "alice_admin"):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


def enrol(client: Client) -> tuple[str, list[str]]:
    """Open the page, read the shown secret, confirm with a code; return secret and codes."""
    html = client.get("/accounts/two-factor/").content.decode()
    secret = re.search(r'id="totp-secret">([^<]+)<', html).group(1)
    response = client.post("/accounts/two-factor/", {"action": "enrol", "code": code_for(secret)})
    codes = re.findall(r"<li><code>([0-9a-f]+)</code></li>", response.content.decode())
    return secret, codes


@pytest.fixture
def enrolled(alice_user) -> tuple[str, list[str]]:
    client = Client()
    assert password_step(client).status_code == 302
    return enrol(client)


def test_enrolment_shows_the_secret_as_text_and_confirms_with_a_code(alice_client, alice_user):
    html = alice_client.get("/accounts/two-factor/").content.decode()
    assert "otpauth://totp/" in html
    assert "issuer=PrivPad" in html
    secret, codes = enrol(alice_client)
    assert TOTPDevice.objects.get(user=alice_user).confirmed
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert AuditEvent.objects.filter(action="two_factor_enable", actor=alice_user).exists()
    # This session was verified by the enrolment: it stays signed in.
    assert alice_client.get("/").status_code == 200


def test_enrolment_carries_the_qr_element_with_the_devices_setup_address(alice_client, alice_user):
    html = alice_client.get("/accounts/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=alice_user, confirmed=False)
    qr = re.search(r'<div class="totp-qr" id="totp-qr" data-qr="([^"]+)" role="img"', html)
    assert qr is not None
    assert unescape(qr.group(1)) == device.config_url
    assert unescape(qr.group(1)).startswith("otpauth://totp/")
    assert '<script type="module" src="/static/console/js/totp_qr.js"></script>' in html
    # The key stays shown as text for typing by hand.
    assert re.search(r'id="totp-secret">[A-Z2-7 ]{32,}<', html)


def test_an_enrolled_authenticator_shows_no_qr_code(enrolled, alice_user):
    client = Client()
    client.force_login(alice_user)
    html = client.get("/accounts/two-factor/").content.decode()
    assert "data-qr=" not in html
    assert "totp_qr.js" not in html


def test_a_wrong_enrolment_code_turns_nothing_on(alice_client, alice_user):
    alice_client.get("/accounts/two-factor/")
    response = alice_client.post(
        "/accounts/two-factor/", {"action": "enrol", "code": "000000"}, follow=True
    )
    assert "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice_user, confirmed=True).exists()


def test_login_asks_for_a_code_after_the_password(enrolled, alice_user):
    secret, _codes = enrolled
    client = Client()
    response = password_step(client)
    assert response["Location"] == "/accounts/login/code/"
    assert client.get("/").status_code == 302  # not logged in yet
    # The code already used at enrolment cannot be replayed; the next one works.
    response = client.post("/accounts/login/code/", {"code": code_for(secret, 1)})
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_code_is_refused_audited_and_throttled(enrolled, alice_user):
    secret, _codes = enrolled
    client = Client()
    password_step(client)
    response = client.post("/accounts/login/code/", {"code": "123456"})
    assert "not valid" in response.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="login_failed", detail__factor="second").count() == 1
    # Right after a wrong code even the right one waits (django-otp's back-off): say so.
    response = client.post("/accounts/login/code/", {"code": code_for(secret, 1)})
    assert "Too many wrong codes: wait 1 s" in response.content.decode()
    assert client.get("/").status_code == 302


def test_five_wrong_codes_send_back_to_the_password(enrolled, alice_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no back-off: count the attempts alone
    client = Client()
    password_step(client)
    for _ in range(5):
        response = client.post("/accounts/login/code/", {"code": "123456"})
    assert response["Location"] == "/accounts/login/"  # back to the password after 5


def test_a_recovery_code_works_once(enrolled, alice_user):
    _secret, codes = enrolled
    first = Client()
    password_step(first)
    assert first.post("/accounts/login/code/", {"code": codes[0]})["Location"] == "/"
    second = Client()
    password_step(second)
    assert "not valid" in second.post("/accounts/login/code/", {"code": codes[0]}).content.decode()
    assert StaticToken.objects.count() == 9


def test_the_code_step_without_a_password_step_goes_back_to_login(anon_client):
    assert anon_client.get("/accounts/login/code/")["Location"] == "/accounts/login/"
    assert (
        anon_client.post("/accounts/login/code/", {"code": "1"})["Location"] == "/accounts/login/"
    )


def test_a_session_without_the_code_is_signed_out(enrolled, alice_user):
    client = Client()
    client.force_login(alice_user)  # a session that never gave a code
    assert client.get("/").status_code == 302
    assert client.get("/accounts/").status_code == 302
    api = Client()
    api.force_login(alice_user)
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_turning_off_needs_the_password(enrolled, alice_user):
    secret, _ = enrolled
    client = Client()
    password_step(client)
    client.post("/accounts/login/code/", {"code": code_for(secret, 1)})
    response = client.post(
        "/accounts/two-factor/", {"action": "disable", "password": "x"}, follow=True
    )
    assert "current password" in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice_user).exists()
    client.post("/accounts/two-factor/", {"action": "disable", "password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=alice_user).exists()
    assert AuditEvent.objects.filter(action="two_factor_disable").exists()


def test_a_node_admin_requires_a_second_factor(alice_client, alice_member_user, alice):
    alice_client.post("/accounts/people/two-factor/", {"require_two_factor": "on"})
    assert NodeSecurityPolicy.objects.get(node=alice).require_two_factor
    assert AuditEvent.objects.filter(action="two_factor_policy").exists()
    member = Client()
    member.force_login(alice_member_user)
    assert member.get("/datasets/")["Location"] == "/accounts/two-factor/"
    response = member.get("/api/v1/datasets/")
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"
    assert member.get("/accounts/two-factor/").status_code == 200
    enrol(member)
    assert member.get("/datasets/").status_code == 200
    # Required: the member cannot turn it off.
    body = {"action": "disable", "password": PASSWORD}
    assert (
        "requires a second factor"
        in member.post("/accounts/two-factor/", body, follow=True).content.decode()
    )


@pytest.mark.parametrize(
    ("who", "status"), [("alice_member_user", 403), ("alice_viewer", 403), ("carol_user", 302)]
)
def test_only_the_nodes_admins_set_the_requirement(request, who, status, alice):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    response = client.post("/accounts/people/two-factor/", {"require_two_factor": "on"})
    # carol's admin sets carol's rule (their own node), never alice's.
    assert response.status_code == status
    assert not NodeSecurityPolicy.objects.filter(node=alice, require_two_factor=True).exists()


def test_a_node_admin_removes_a_lost_authenticator(alice_client, alice_member_user, alice_user):
    member = Client()
    assert password_step(member, "alice_analyst").status_code == 302
    enrol(member)
    url = f"/accounts/people/{alice_member_user.pk}/"
    alice_client.post(url, {"action": "reset_two_factor"})
    assert not TOTPDevice.objects.filter(user=alice_member_user).exists()
    assert password_step(Client(), "alice_analyst")["Location"] == "/"


def test_anonymous_cannot_open_the_two_factor_pages(anon_client):
    assert anon_client.get("/accounts/two-factor/").status_code == 302
    assert anon_client.post("/accounts/people/two-factor/").status_code == 302
