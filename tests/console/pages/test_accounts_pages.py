"""Login, logout and the API token page."""

from __future__ import annotations

from rest_framework.authtoken.models import Token

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


def test_it_redirects_anonymous_token_page_to_login(anon_client):
    response = anon_client.get("/accounts/token/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/token/")


def test_it_creates_a_token_and_shows_it_once(alice_client, alice_user):
    response = alice_client.post("/accounts/token/")
    key = Token.objects.get(user=alice_user).key
    assert key in response.content.decode()
    assert key not in alice_client.get("/accounts/token/").content.decode()


def test_it_rotates_the_token(alice_client, alice_user):
    alice_client.post("/accounts/token/")
    first = Token.objects.get(user=alice_user).key
    response = alice_client.post("/accounts/token/")
    second = Token.objects.get(user=alice_user).key
    assert first != second
    assert second in response.content.decode()
    assert first not in response.content.decode()
