"""Pipeline templates: filled from the project's datasets and roles, valid when the project
says enough, and left for the user to configure (never guessed) when it does not."""

from __future__ import annotations

import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import SHOP_ROLES, make_dataset, shop_frame
from workflows import services, starters
from workflows.models import Pipeline

pytestmark = pytest.mark.django_db


def built(project, key: str) -> dict:
    return services.template_graph(project.pk, key).to_dict()


def params(graph: dict, node_id: str) -> dict:
    return next(node["params"] for node in graph["nodes"] if node["id"] == node_id)


def problems(pipeline) -> list[dict]:
    return [p.to_dict() for p in services.validate_pipeline(pipeline).problems]


def test_the_blank_template_is_empty(project):
    assert built(project, "blank") == {"nodes": [], "edges": []}


def test_joint_audience_reads_each_party_and_joins_on_the_id_columns(project, credit, shop):
    graph = built(project, "joint_audience")
    assert params(graph, "read_1") == {"dataset": credit.pk}
    assert params(graph, "read_2") == {"dataset": shop.pk}
    assert params(graph, "psi") == {"keys1": ["id"], "keys2": ["id"]}
    assert {(e["source"]["node"], e["target"]["node"]) for e in graph["edges"]} == {
        ("read_1", "psi"),
        ("read_2", "psi"),
        ("psi", "stats"),
    }


def test_credit_risk_uses_the_roles_and_gives_predictions_to_the_label_holder(
    project, credit, shop, pipeline_factory
):
    graph = built(project, "credit_risk")
    train = params(graph, "train")
    assert train["label"] == "y"
    # Not protected ('visits'), not text ('city': SS-LR and the scaler take numbers).
    assert train["features"] == ["age", "income", "score", "spend"]
    assert {key: train[key] for key in starters.TRAINING} == starters.TRAINING
    for node_id in ("fill_train", "fill_test", "scale_train", "scale_test"):
        assert params(graph, node_id)["features"] == train["features"], node_id
    assert params(graph, "predict")["receiver"] == "alice"
    assert params(graph, "evaluate") == {"prediction": "pred", "label": "y"}
    assert problems(pipeline_factory(graph)) == []


def test_every_required_setting_is_filled_for_every_party(project, credit, shop, pipeline_factory):
    for key in starters.STARTERS:
        pipeline = pipeline_factory(built(project, key), name=key)
        assert [p for p in problems(pipeline) if p["code"] == "missing_param"] == [], key
        assert problems(pipeline) == [], key


def test_credit_risk_is_valid_on_numeric_data(project, alice, bob, pipeline_factory):
    frame = shop_frame(seed=3).rename(columns={"spend": "balance", "visits": "loans"})
    data = make_dataset(alice, "numeric", frame.assign(y=[i % 2 for i in range(60)]))
    roles = {"id": "id", "balance": "feature", "loans": "feature", "y": "label"}
    Authorization.objects.create(dataset=data, project=project, column_roles=roles)
    other = make_dataset(bob, "shop", shop_frame())
    Authorization.objects.create(dataset=other, project=project, column_roles=SHOP_ROLES)
    assert problems(pipeline_factory(built(project, "credit_risk"))) == []


def test_a_party_with_two_datasets_gets_the_one_with_the_label(
    project, alice, credit, shop, pipeline_factory
):
    newer = make_dataset(alice, "second", shop_frame(seed=4))
    Authorization.objects.create(dataset=newer, project=project, column_roles=SHOP_ROLES)
    graph = built(project, "credit_risk")
    assert params(graph, "read_1") == {"dataset": credit.pk}
    assert params(graph, "train")["label"] == "y"
    assert problems(pipeline_factory(graph)) == []


def test_without_a_label_to_look_for_the_newest_dataset_is_taken(project, alice, credit, shop):
    newer = make_dataset(alice, "second", shop_frame(seed=4))
    Authorization.objects.create(dataset=newer, project=project, column_roles=SHOP_ROLES)
    graph = built(project, "joint_audience")
    assert params(graph, "read_1") == {"dataset": newer.pk}
    assert params(graph, "psi")["keys1"] == ["id"]


def test_a_dataset_without_an_id_column_comes_after_one_with(project, alice, credit, shop):
    newer = make_dataset(alice, "no_keys", shop_frame(seed=4))
    roles = {"id": "feature", "spend": "feature", "visits": "feature"}
    Authorization.objects.create(dataset=newer, project=project, column_roles=roles)
    assert params(built(project, "joint_audience"), "read_1") == {"dataset": credit.pk}


def test_psi_keys_prefer_the_id_column_name_the_parties_share(project, alice, bob):
    frame = shop_frame().assign(branch_id=[f"b{i}" for i in range(60)])
    mine = make_dataset(alice, "two_ids", frame[["branch_id", "id", "spend"]])
    roles = {"branch_id": "id", "id": "id", "spend": "feature"}
    Authorization.objects.create(dataset=mine, project=project, column_roles=roles)
    theirs = make_dataset(bob, "shop", shop_frame())
    Authorization.objects.create(dataset=theirs, project=project, column_roles=SHOP_ROLES)
    psi = params(built(project, "joint_audience"), "psi")
    assert psi == {"keys1": ["id"], "keys2": ["id"]}


def test_without_datasets_every_read_needs_configuration(project):
    graph = built(project, "credit_risk")
    assert params(graph, "read_1") == {}
    assert params(graph, "read_2") == {}
    assert "label" not in params(graph, "train")


def test_an_unknown_template_is_named(project):
    with pytest.raises(KeyError, match="unknown pipeline template 'nope'"):
        services.template_graph(project.pk, "nope")


def test_the_api_lists_the_templates(api_bob):
    body = api_bob.get("/api/v1/pipeline-templates/").json()
    assert [t["key"] for t in body["templates"]] == list(starters.STARTERS)


def test_the_api_creates_a_pipeline_from_a_template(api_bob, project, credit, shop):
    data = {"project": project.pk, "name": "Audience", "template": "joint_audience"}
    response = api_bob.post("/api/v1/pipelines/", data, format="json")
    assert response.status_code == 201, response.json()
    pipeline = Pipeline.objects.get(pk=response.json()["id"])
    assert len(pipeline.graph["nodes"]) == 4
    assert problems(pipeline) == []


def test_the_api_refuses_a_template_and_a_graph_together(api_bob, project):
    data = {"project": project.pk, "name": "x", "template": "blank", "graph": {"nodes": []}}
    response = api_bob.post("/api/v1/pipelines/", data, format="json")
    assert response.status_code == 400
    assert "either a graph or a template" in response.json()["detail"]


def test_the_api_refuses_an_unknown_template(api_bob, project):
    data = {"project": project.pk, "name": "x", "template": "nope"}
    response = api_bob.post("/api/v1/pipelines/", data, format="json")
    assert response.status_code == 400
    assert "template" in response.json()["errors"]
    assert not Pipeline.objects.exists()


def test_the_notes_say_what_was_chosen_and_what_was_left_out(project, alice, credit, shop):
    newer = make_dataset(alice, "second", shop_frame(seed=4))
    Authorization.objects.create(dataset=newer, project=project, column_roles=SHOP_ROLES)
    said = services.template_notes(project.pk, "credit_risk")
    assert said == [
        "alice has 2 datasets: the template took 'credit'.",
        "Text features of 'credit' left out (SS-LR takes numbers; encode them first): city.",
    ]
    assert services.template_notes(project.pk, "blank") == []


def test_the_notes_name_what_the_user_must_choose(project):
    said = services.template_notes(project.pk, "credit_risk")
    assert "alice has no dataset authorised to the project: choose it on read_1." in said
    assert "No dataset has a label column: choose the label on 'train' and 'evaluate'." in said


def test_the_api_gives_each_templates_notes_for_a_project(api_alice, project, credit, shop):
    body = api_alice.get("/api/v1/pipeline-templates/", {"project": project.pk}).json()
    notes = {template["key"]: template["notes"] for template in body["templates"]}
    assert notes["blank"] == []
    assert notes["credit_risk"] == [
        "Text features of 'credit' left out (SS-LR takes numbers; encode them first): city."
    ]


def test_the_api_hides_another_nodes_project_and_a_malformed_one(api_carol, api_alice, project):
    assert api_carol.get("/api/v1/pipeline-templates/", {"project": project.pk}).status_code == 404
    assert api_alice.get("/api/v1/pipeline-templates/", {"project": "x"}).status_code == 404
