"""Login and logout (the account, token and people pages: tests/console/accounts/)."""

from __future__ import annotations

from console.audit.models import AuditEvent
from tests.console.conftest import PASSWORD


def test_it_shows_the_login_form(anon_client):
    response = anon_client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_it_logs_in_and_lands_on_the_dashboard(anon_client, alice_user):
    response = anon_client.post(
        "/accounts/login/", {"username": "alice_admin", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Alice" in response.content.decode()


def test_it_shows_an_error_for_a_wrong_password(anon_client, alice_user):
    response = anon_client.post("/accounts/login/", {"username": "alice_admin", "password": "x"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert AuditEvent.objects.filter(action="login_failed").exists()


def test_it_logs_out_with_post_only(alice_client):
    assert alice_client.get("/accounts/logout/").status_code == 405
    response = alice_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert alice_client.get("/").status_code == 302


def test_it_offers_logout_as_a_post_form_on_every_page(alice_client):
    html = alice_client.get("/").content.decode()
    assert 'method="post" action="/accounts/logout/"' in html
