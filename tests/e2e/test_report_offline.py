"""A downloaded run report opens from disk with every network request refused, and draws."""

from __future__ import annotations

import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import (
    CREDIT_ROLES,
    SHOP_ROLES,
    credit_frame,
    credit_graph,
    make_dataset,
    shop_frame,
)
from tests.workflows.runs import run_now
from workflows.models import Pipeline, Status
from workflows.reports.render import render_run_report


@pytest.fixture
def report_file(people, tmp_path):
    project, alice, bob = people["project"], people["alice"].node, people["bob"].node
    credit = make_dataset(alice, "credit", credit_frame())
    shop = make_dataset(bob, "shop", shop_frame())
    Authorization.objects.create(dataset=credit, project=project, column_roles=CREDIT_ROLES)
    Authorization.objects.create(dataset=shop, project=project, column_roles=SHOP_ROLES)
    pipeline = Pipeline.objects.create(
        project=project, name="Credit <offline>", graph=credit_graph(credit.pk, shop.pk)
    )
    run = run_now(pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    path = tmp_path / f"privpad-run-{run.pk}.html"
    path.write_text(render_run_report(run, alice.pk), encoding="utf-8")
    return path


def test_the_report_draws_its_charts_with_the_network_blocked(new_page, report_file):
    page = new_page()
    requested, errors = [], []

    def refuse(route):
        requested.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report_file.as_uri())
    page.wait_for_selector(".js-plotly-plot")
    expected = page.locator("[data-chart]").count()
    assert expected >= 8  # six binary-evaluation charts and two per statistics node at least
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {expected}"
    )
    assert page.locator(".js-plotly-plot").count() == expected
    assert page.get_by_role("heading", name="Credit <offline>").is_visible()
    assert requested == []
    assert errors == []
