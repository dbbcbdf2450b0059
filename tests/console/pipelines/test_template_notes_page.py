"""A pipeline created from a template on the page opens with what the template chose or left
to the user, said in words (flash messages on the canvas page)."""

from __future__ import annotations

import pytest

from tests.console.pages.conftest import authorize, make_dataset
from workflows.models import Pipeline

pytestmark = pytest.mark.django_db


def test_the_canvas_opens_with_the_templates_notes(alice_client, alice, project):
    rows = [[f"c{i}", str(20 + i), "x"] for i in range(5)]
    dataset = make_dataset(alice, "customers", ["customer_id", "region", "secret"], rows)
    authorize(dataset, project)  # customer_id ID, the text columns features
    response = alice_client.post(
        f"/pipelines/new/{project.pk}/",
        {"name": "From the template", "template": "credit_risk"},
        follow=True,
    )
    html = response.content.decode()
    assert Pipeline.objects.filter(name="From the template").exists()
    assert "left out (SS-LR takes numbers; encode them first): region, secret." in html
    assert "bob has no dataset authorised to the project: choose it on read_2." in html
    assert "No dataset has a label column" in html
