"""OpenAPI schema at /api/schema/ and Swagger UI at /api/docs/, served from local files."""

from __future__ import annotations

import re
from io import StringIO

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

ENDPOINTS = [
    "/api/v1/me/",
    "/api/v1/tokens/",
    "/api/v1/nodes/",
    "/api/v1/nodes/{name}/",
    "/api/v1/projects/",
    "/api/v1/projects/{id}/",
    "/api/v1/projects/{id}/members/",
    "/api/v1/projects/{id}/members/{node_name}/",
    "/api/v1/audit/",
]


@pytest.fixture(scope="module")
def schema() -> dict:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_the_schema_validates_without_warnings_and_lists_endpoints(schema):
    assert schema["openapi"].startswith("3.")
    assert set(ENDPOINTS) <= set(schema["paths"])


def test_the_schema_documents_token_and_session_auth(schema):
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_schema_documents_the_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    responses = schema["paths"]["/api/v1/projects/{id}/"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(responses)


def test_starting_a_run_documents_the_refusals_it_can_meet(schema):
    """409 for an archived project or missing approvals, 503 when a member node is down."""
    responses = schema["paths"]["/api/v1/pipelines/{id}/runs/"]["post"]["responses"]
    assert {"201", "400", "401", "404", "409", "503"} <= set(responses)


def test_the_schema_never_mentions_storage_paths(schema):
    text = yaml.safe_dump(schema)
    assert "relative_path" not in text
    assert "storage_root" not in text


def test_the_schema_is_served_to_signed_in_users(alice_client):
    response = alice_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/projects/" in response.json()["paths"]


def test_the_schema_and_docs_need_a_sign_in(anon_client):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    docs = anon_client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"].startswith("/accounts/login/?next=/api/docs/")


def test_a_setting_publishes_the_schema_and_docs(anon_client, settings):
    settings.PRIVPAD_PUBLISH_API_SCHEMA = True
    assert anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200
    assert anon_client.get("/api/docs/").status_code == 200


def test_the_docs_reference_no_remote_host(alice_client):
    response = alice_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    script = alice_client.get("/api/docs/?script").content.decode()
    remote = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", html + script)
    assert remote == [], remote
    # Swagger UI's default validator badge would call validator.swagger.io from the browser.
    assert '"validatorUrl": null' in script


def test_the_docs_run_no_inline_script(alice_client):
    html = alice_client.get("/api/docs/").content.decode()
    assert re.findall(r"<script>", html) == []
    assert '<script src="/api/docs/?script' in html


def test_the_docs_assets_are_local_static_files(alice_client):
    html = alice_client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), html
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
