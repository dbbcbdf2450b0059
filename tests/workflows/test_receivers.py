"""Predictions go to the label owner only, tried as bob: he sets himself as the receiver."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import PartyFailure
from tests.workflows.conftest import edge, node
from workflows.components.context import RunContext
from workflows.components.schema import ArtifactInfo, PortType
from workflows.models import Run

pytestmark = pytest.mark.django_db


def graph(credit_id: int, shop_id: int, receiver: str) -> dict:
    return {
        "nodes": [
            node("alice_in", "read/dataset", dataset=credit_id),
            node("bob_in", "read/dataset", dataset=shop_id),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("train", "ml.train/ss_lr", features=["age", "spend"], label="y"),
            node("predict", "ml.predict/ss_lr", receiver=receiver, save_ids=True),
        ],
        "edges": [
            edge("alice_in", "output_ds", "psi", "input_ds1"),
            edge("bob_in", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "train", "input_ds"),
            edge("train", "output_model", "predict", "input_model"),
            edge("psi", "output_ds", "predict", "input_ds"),
        ],
    }


@pytest.fixture
def bobs_pipeline(api_bob, project, credit, shop):
    body = {
        "project": project.pk,
        "name": "bob ranks alice",
        "graph": graph(credit.pk, shop.pk, "bob"),
    }
    response = api_bob.post("/api/v1/pipelines/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_the_label_owners_approval_is_asked_before_anything_runs(bobs_pipeline, api_bob):
    # The validation passes (no policy refuses it) but the plan asks alice: predictions of a
    # model trained on her label, to bob.
    assert api_bob.post(f"/api/v1/pipelines/{bobs_pipeline}/validate/").json()["valid"] is True
    response = api_bob.post(f"/api/v1/pipelines/{bobs_pipeline}/runs/", {}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "approval_required"
    assert [approval["party"] for approval in body["approvals"]] == ["alice"]
    assert not Run.objects.exists()


def test_the_label_owner_as_receiver_needs_no_approval_for_the_scores(
    api_bob, project, credit, shop
):
    body = {"project": project.pk, "name": "to alice", "graph": graph(credit.pk, shop.pk, "alice")}
    pipeline = api_bob.post("/api/v1/pipelines/", body, format="json").json()["id"]
    detail = api_bob.get(f"/api/v1/pipelines/{pipeline}/").json()
    assert api_bob.post(f"/api/v1/pipelines/{pipeline}/validate/").json()["valid"] is True
    to_bob = [
        entry
        for entry in detail["disclosure"]["entries"]
        if entry["node"] == "predict" and entry["recipient"] == "bob"
    ]
    # bob, a party of the model, learns only the bound of alice's features to score (an
    # aggregate of her whole input, declared by the prediction), never a score.
    assert [(entry["form"], entry["k"]) for entry in to_bob] == [("aggregate", None)]
    assert to_bob[0]["what"].startswith("the order of magnitude (a power of two)")


def test_a_component_cannot_write_to_a_party_its_output_does_not_declare(tmp_path):
    context = RunContext(
        params={},
        parties=("alice", "bob"),
        inputs={},
        infos={"output_ds": ArtifactInfo(PortType.INDIVIDUAL, ("alice",))},
        output_dir=lambda party: tmp_path / party,
    )
    with pytest.raises(PartyFailure, match="has no part at 'bob'"):
        context.write_table("output_ds", "bob", pd.DataFrame())
    assert not (tmp_path / "bob").exists()
