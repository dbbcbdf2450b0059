"""GET /api/v1/runs/<id>/nodes/<node>/: one node's results as the asking node may see them."""

from __future__ import annotations

import pytest

from tests.workflows.runs import run_now
from workflows.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(credit_pipeline):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    return run


def result(client, run, node: str) -> dict:
    response = client.get(f"/api/v1/runs/{run.pk}/nodes/{node}/")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def output(body: dict, port: str) -> dict:
    return next(entry for entry in body["outputs"] if entry["port"] == port)


def test_it_shows_the_owner_its_table_with_a_row_preview(finished_run, api_alice):
    body = result(api_alice, finished_run, "split")
    train = output(body, "train_ds")
    assert body["status"] == "succeeded"
    assert body["component"] == "data_prep/train_test_split"
    assert {c["name"] for c in train["columns"]} >= {"id", "age", "income", "y"}
    (part,) = train["own"]
    assert part["party"] == "alice"
    assert part["rows"] == 45
    assert part["preview"]["columns"][0] == "id"
    assert len(part["preview"]["rows"]) == 20


def test_it_shows_another_party_the_schema_but_no_rows(finished_run, api_bob):
    body = result(api_bob, finished_run, "split")
    train = output(body, "train_ds")
    assert train["columns"]
    assert train["own"] == []
    assert "preview" not in str(body)


def test_it_gives_a_report_as_charts_and_tables(finished_run, api_bob):
    report = output(result(api_bob, finished_run, "eval"), "report")
    titles = [chart["title"] for chart in report["charts"]]
    assert "ROC curve" in titles
    roc = report["charts"][titles.index("ROC curve")]
    assert roc["data"]
    assert roc["layout"]["title"]["text"] == "ROC curve"
    assert report["tables"]


def test_it_names_the_parameters_and_the_dataset_they_read(finished_run, api_bob, credit):
    params = {p["name"]: p["value"] for p in result(api_bob, finished_run, "read")["params"]}
    assert params["dataset"] == f"{credit.pk} (credit, held by alice)"


def test_it_answers_404_for_a_node_the_run_does_not_have(finished_run, api_alice):
    response = api_alice.get(f"/api/v1/runs/{finished_run.pk}/nodes/nope/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_it_hides_the_run_from_outsiders_and_needs_login(finished_run, api_carol, api_anon):
    assert api_carol.get(f"/api/v1/runs/{finished_run.pk}/nodes/split/").status_code == 404
    assert api_anon.get(f"/api/v1/runs/{finished_run.pk}/nodes/split/").status_code == 401


def test_it_never_exposes_storage_paths(finished_run, api_alice):
    text = str(result(api_alice, finished_run, "split"))
    assert "datasets/" not in text
    assert "/tmp" not in text
    assert "artifacts/" not in text
