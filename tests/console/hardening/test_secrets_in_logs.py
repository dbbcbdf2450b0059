"""Secrets never reach the logs: passwords tried, API tokens (good or bad), the secret key."""

from __future__ import annotations

import logging

from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from console.accounts.models import ApiToken
from console.accounts.tokens import digest_of
from tests.console.conftest import PASSWORD


def test_sign_ins_and_tokens_leave_no_secret_in_the_logs(caplog, alice_user):
    caplog.set_level(logging.DEBUG)
    Client().post("/accounts/login/", {"username": "alice_admin", "password": "hunter2-typo"})
    Client().post("/accounts/login/", {"username": "alice_admin", "password": PASSWORD})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert api.get("/api/v1/me/").status_code == 401
    session = Client()
    session.force_login(alice_user)
    issued = session.post("/api/v1/tokens/", {"name": "script"}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {issued}")
    assert api.get("/api/v1/me/").status_code == 200
    logged = caplog.text + " ".join(str(record.__dict__) for record in caplog.records)
    assert ApiToken.objects.get().digest == digest_of(issued)  # only a digest is kept
    for secret in ("hunter2-typo", PASSWORD, "f" * 40, issued, settings.SECRET_KEY):
        assert secret not in logged
