"""Passkeys: registration and sign-in checked against a software authenticator's real bytes;
wrong challenge, origin, site, signature or counter refused; who may add and remove."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from console.accounts.models import Passkey
from console.accounts.webauthn import WebAuthnError, cbor_decode
from console.audit.models import AuditEvent
from tests.console.accounts.authenticator import SoftAuthenticator, cbor
from tests.console.conftest import PASSWORD


def post_json(client: Client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def register(client: Client, authenticator: SoftAuthenticator, name="laptop", **overrides):
    options = post_json(client, "/accounts/passkeys/options/").json()
    answer = authenticator.create(options, **overrides)
    return post_json(client, "/accounts/passkeys/", {"name": name, **answer})


def password_step(username: str = "alice_admin") -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response["Location"] == "/accounts/login/code/"
    return client


def passkey_sign_in(client: Client, authenticator: SoftAuthenticator, **kwargs):
    options = post_json(client, "/accounts/login/passkey/options/").json()
    return post_json(client, "/accounts/login/passkey/", authenticator.get(options, **kwargs))


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator()


@pytest.fixture
def registered(alice_user, authenticator) -> SoftAuthenticator:
    client = Client()
    client.post("/accounts/login/", {"username": "alice_admin", "password": PASSWORD})
    assert register(client, authenticator).status_code == 201
    return authenticator


def test_registration_stores_the_key_and_gives_recovery_codes(
    alice_client, alice_user, authenticator
):
    options = post_json(alice_client, "/accounts/passkeys/options/").json()
    assert options["rp"]["id"] == "testserver"
    assert options["pubKeyCredParams"] == [{"type": "public-key", "alg": -7}]
    answer = authenticator.create(options)
    response = post_json(alice_client, "/accounts/passkeys/", {"name": "laptop", **answer})
    assert response.status_code == 201
    assert len(response.json()["recovery_codes"]) == 10
    passkey = Passkey.objects.get(user=alice_user)
    assert passkey.name == "laptop"
    assert passkey.confirmed
    assert AuditEvent.objects.filter(action="two_factor_enable", detail__passkey="laptop").exists()
    # The session that added it counts as verified: it stays signed in.
    assert alice_client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"challenge": "bm90LXRoZS1jaGFsbGVuZ2U"}, "another challenge"),
        ({"origin": "https://evil.example"}, "comes from 'https://evil.example'"),
    ],
)
def test_registration_refuses_a_foreign_answer(alice_client, authenticator, overrides, message):
    response = register(alice_client, authenticator, **overrides)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Passkey.objects.exists()


def test_registration_refuses_another_site_and_replays(alice_client):
    response = register(alice_client, SoftAuthenticator(rp_id="evil.example"))
    assert "another site" in response.json()["detail"]
    authenticator = SoftAuthenticator()
    options = post_json(alice_client, "/accounts/passkeys/options/").json()
    answer = authenticator.create(options)
    assert (
        post_json(alice_client, "/accounts/passkeys/", {"name": "a", **answer}).status_code == 201
    )
    replay = post_json(alice_client, "/accounts/passkeys/", {"name": "b", **answer})
    assert "no passkey request is waiting" in replay.json()["detail"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "Name the passkey"),
        ({"name": "x", "clientDataJSON": "!!", "attestationObject": "AA"}, "not base64url"),
        ({"name": "x", "clientDataJSON": 5}, "missing or too long"),
    ],
)
def test_registration_names_bad_inputs(alice_client, body, message):
    post_json(alice_client, "/accounts/passkeys/options/")
    response = post_json(alice_client, "/accounts/passkeys/", body)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_non_json_body_is_a_clear_error(alice_client):
    response = alice_client.post("/accounts/passkeys/", "nope", content_type="application/json")
    assert response.json()["detail"] == "The passkey answer is not JSON."


def test_sign_in_with_a_passkey(registered, alice_user):
    client = password_step()
    assert b"Use a passkey instead" in client.get("/accounts/login/code/").content
    response = passkey_sign_in(client, registered)
    assert response.json() == {"redirect": "/"}
    assert client.get("/").status_code == 200
    assert Passkey.objects.get().sign_count == 1


def test_sign_in_refuses_a_wrong_signature_and_a_counter_going_back(registered, alice_user):
    client = password_step()
    response = passkey_sign_in(client, registered, key=ec.generate_private_key(ec.SECP256R1()))
    assert "signature does not verify" in response.json()["detail"]
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="login_failed", detail__factor="passkey").exists()
    response = passkey_sign_in(client, registered)  # counter 2: fine
    assert response.status_code == 200
    clone = password_step()
    response = passkey_sign_in(clone, registered, counter_step=-1)
    assert "counter went back" in response.json()["detail"]


def test_passkey_sign_in_needs_the_password_step_first(registered, anon_client):
    assert post_json(anon_client, "/accounts/login/passkey/options/").status_code == 403
    assert post_json(anon_client, "/accounts/login/passkey/", {"id": "x"}).status_code == 403


def test_a_passkey_of_another_user_does_not_sign_in(registered, bob_user):
    other = SoftAuthenticator()
    bob = Client()
    bob.force_login(bob_user)
    assert register(bob, other).status_code == 201
    client = password_step()
    response = passkey_sign_in(client, other)
    assert "not registered for the account" in response.json()["detail"]


def test_removing_passkeys(registered, alice_user, bob_user):
    client = password_step()
    passkey_sign_in(client, registered)
    passkey = Passkey.objects.get()
    bob = Client()
    bob.force_login(bob_user)
    assert bob.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 404
    client.post(f"/accounts/passkeys/{passkey.pk}/remove/")
    assert not Passkey.objects.exists()


def test_anonymous_cannot_register(anon_client):
    assert post_json(anon_client, "/accounts/passkeys/options/").status_code == 302
    assert post_json(anon_client, "/accounts/passkeys/", {}).status_code == 302


@pytest.mark.parametrize(
    "data",
    [b"", b"\x1f", b"\x5a\xff\xff\xff\xff", b"\x81" * 20 + b"\x00", b"\xc1\x00", b"\x62a"],
)
def test_the_cbor_decoder_refuses_malformed_input(data):
    with pytest.raises(WebAuthnError):
        cbor_decode(data)


def test_the_cbor_decoder_reads_what_webauthn_sends():
    value = {"fmt": "none", "attStmt": {}, "authData": b"\x00" * 40, -2: -7, 1: [True, None]}
    encoded = cbor({"fmt": "none", "attStmt": {}, "authData": b"\x00" * 40, -2: -7, 1: [1]})
    decoded, end = cbor_decode(encoded)
    assert end == len(encoded)
    assert decoded["authData"] == value["authData"]
    assert decoded[-2] == -7
