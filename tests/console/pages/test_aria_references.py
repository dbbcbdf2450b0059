"""Every ARIA id reference on the server-rendered pages names an element that exists.

Django points an input at its help text (`<id>_helptext`) and, once the form has errors, at
them (`<id>_error`); the shared field template must render both ids. Checked on pages with
forms, blank and after an invalid post, without a browser (the e2e suite checks every page).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

REFERENCE = re.compile(r'aria-(?:describedby|labelledby|controls)="([^"]*)"')
ID = re.compile(r'\sid="([^"]+)"')


def dangling(html: str) -> list[str]:
    ids = set(ID.findall(html))
    return [ref for refs in REFERENCE.findall(html) for ref in refs.split() if ref not in ids]


def test_the_login_form_blank_and_refused(anon_client):
    blank = anon_client.get("/accounts/login/").content.decode()
    refused = anon_client.post("/accounts/login/", {"username": "x", "password": ""})
    assert dangling(blank) == []
    assert dangling(refused.content.decode()) == []


@pytest.mark.parametrize("path", ["/projects/new/", "/datasets/upload/"])
def test_forms_of_a_node_admin_blank_and_with_errors(alice_client, path):
    html = alice_client.get(path).content.decode()
    assert "aria-describedby" in html
    assert dangling(html) == []
    refused = alice_client.post(path, {}).content.decode()
    assert dangling(refused) == []


def test_the_project_form_points_at_its_help_and_errors(alice_client):
    html = alice_client.post("/projects/new/", {"name": ""}).content.decode()
    assert 'aria-describedby="id_name_helptext id_name_error"' in html
    assert 'id="id_name_error"' in html
    assert 'id="id_name_helptext"' in html


def test_the_node_registration_form_of_the_platform_admin(platform_admin):
    client = Client()
    client.force_login(platform_admin)
    assert dangling(client.get("/nodes/").content.decode()) == []
    assert dangling(client.post("/nodes/", {"name": "Not a slug!"}).content.decode()) == []
