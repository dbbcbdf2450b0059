"""A binning run's report as each member opens it: alice's draws rows per bin for each of her
columns and lists her bins; bob's copy draws only his own column."""

from __future__ import annotations

import os

import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import (
    CREDIT_ROLES,
    SHOP_ROLES,
    credit_frame,
    edge,
    make_dataset,
    node,
    shop_frame,
)
from tests.workflows.runs import run_now
from workflows.models import Pipeline, Status
from workflows.reports.render import render_run_report


@pytest.fixture
def reports(people, tmp_path):
    project, alice, bob = people["project"], people["alice"].node, people["bob"].node
    credit = make_dataset(alice, "credit", credit_frame())
    shop = make_dataset(bob, "shop", shop_frame())
    Authorization.objects.create(dataset=credit, project=project, column_roles=CREDIT_ROLES)
    Authorization.objects.create(dataset=shop, project=project, column_roles=SHOP_ROLES)
    graph = {
        "nodes": [
            node("alice_in", "read/dataset", dataset=credit.pk),
            node("bob_in", "read/dataset", dataset=shop.pk),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node(
                "bin",
                "preprocessing/vert_binning",
                features=["age", "income", "spend"],
                binning_method="quantile",
                bin_num=5,
            ),
        ],
        "edges": [
            edge("alice_in", "output_ds", "psi", "input_ds1"),
            edge("bob_in", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "bin", "input_ds"),
        ],
    }
    pipeline = Pipeline.objects.create(project=project, name="Binning", graph=graph)
    run = run_now(pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    paths = {}
    for name, party in (("alice", alice), ("bob", bob)):
        paths[name] = tmp_path / f"{name}.html"
        paths[name].write_text(render_run_report(run, party.pk), encoding="utf-8")
    return paths


def chart_titles(new_page, path) -> list[str]:
    page = new_page()
    page.goto(path.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg")
    titles = page.locator(".js-plotly-plot .gtitle").all_text_contents()
    if os.environ.get("PRIVPAD_E2E_SHOTS"):  # for looking at the page by hand
        page.screenshot(path=f"{os.environ['PRIVPAD_E2E_SHOTS']}/{path.stem}.png", full_page=True)
    return titles


def test_alice_sees_her_bins_drawn_and_bob_only_his(new_page, reports):
    alice = [t for t in chart_titles(new_page, reports["alice"]) if t.startswith("Rows per bin")]
    assert sorted(alice) == ["Rows per bin: age", "Rows per bin: income"]
    bob = [t for t in chart_titles(new_page, reports["bob"]) if t.startswith("Rows per bin")]
    assert bob == ["Rows per bin: spend"]
