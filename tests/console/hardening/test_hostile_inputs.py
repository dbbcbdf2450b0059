"""The adversarial tester's 500s, replayed: each now answers a 4xx in the API's error shape."""

from __future__ import annotations

import json

import pytest

from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import upload
from workflows.api.fields import MAX_JSON_BYTES, MAX_TEXT_LENGTH

HUGE = "9" * 30


def _post_json(client, url: str, text: str):
    return client.post(url, data=text, content_type="application/json")


def test_it_refuses_json_nested_5000_levels(api_alice, project):
    body = "[" * 5000 + "]" * 5000
    response = _post_json(api_alice, "/api/v1/pipelines/", body)
    assert "nested more than 32 levels" in assert_error(response, 400, "json_too_deep")["detail"]


def test_it_refuses_json_nested_just_under_the_interpreter_limit(api_alice, project):
    graph = {"nodes": [], "edges": [], "deep": json.loads("[" * 900 + "]" * 900)}
    text = json.dumps({"project": project.pk, "name": "p", "graph": graph})
    assert_error(_post_json(api_alice, "/api/v1/pipelines/", text), 400, "json_too_deep")


def test_it_refuses_a_json_body_over_5_mb_with_413(api_alice, project):
    text = json.dumps({"project": project.pk, "name": "p", "description": "a" * 6_000_000})
    body = assert_error(_post_json(api_alice, "/api/v1/pipelines/", text), 413)
    assert body["code"] == "request_too_large"
    assert "5,242,880 bytes" in body["detail"]


def test_it_refuses_an_impossible_audit_date(api_alice):
    body = assert_error(api_alice.get("/api/v1/audit/?since=9999-99-99"), 400, "invalid")
    assert "'9999-99-99' is not an ISO 8601 date" in body["detail"]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/pipelines/?project={HUGE}",
        f"/api/v1/authorizations/?project={HUGE}",
        f"/api/v1/authorizations/?dataset={HUGE}",
        "/api/v1/pipelines/?project=-1",
        "/api/v1/pipelines/?project=%C2%B2",  # a superscript two: isdigit() but not an id
    ],
)
def test_it_refuses_ids_no_row_can_have(api_alice, url):
    assert "is not a" in assert_error(api_alice.get(url), 400, "invalid")["detail"]


@pytest.mark.parametrize("url", ["/api/v1/projects/", "/api/v1/datasets/", "/api/v1/audit/"])
@pytest.mark.parametrize("param", ["limit", "offset"])
def test_huge_page_numbers_answer_a_bounded_page(api_alice, url, param):
    response = api_alice.get(f"{url}?{param}={HUGE}")
    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) <= 1000


def test_it_refuses_a_huge_project_id_in_a_body(api_alice):
    response = api_alice.post("/api/v1/pipelines/", {"project": int(HUGE), "name": "p"}, "json")
    assert_error(response, 400, "max_value")


def test_it_refuses_a_4_mb_project_description(api_alice):
    data = {"name": "p", "description": "a" * 4_000_000}
    body = assert_error(api_alice.post("/api/v1/projects/", data, format="json"), 400)
    assert f"no more than {MAX_TEXT_LENGTH} characters" in body["detail"]


@pytest.mark.parametrize(
    ("url", "needs_project"),
    [("/api/v1/projects/", False), ("/api/v1/pipelines/", True)],
)
@pytest.mark.parametrize("name", [12345, 1.5, True, ["x"], {"a": 1}])
def test_a_number_is_not_a_name(api_alice, project, url, needs_project, name):
    data = {"name": name} | ({"project": project.pk} if needs_project else {})
    body = assert_error(api_alice.post(url, data, format="json"), 400, "invalid")
    assert body["detail"].startswith("name: Must be text, not")


@pytest.mark.parametrize("graph", [[], "x", 3, [{"nodes": []}]])
def test_a_graph_must_be_an_object(api_alice, project, graph):
    data = {"project": project.pk, "name": "p", "graph": graph}
    body = assert_error(api_alice.post("/api/v1/pipelines/", data, format="json"), 400)
    assert body["code"] == "not_object"
    assert "graph: Must be a JSON object" in body["detail"]


def test_a_graph_over_the_json_limit_is_refused(api_alice, project):
    graph = {"nodes": [], "edges": [], "note": "x" * MAX_JSON_BYTES}
    data = {"project": project.pk, "name": "p", "graph": graph}
    body = assert_error(api_alice.post("/api/v1/pipelines/", data, format="json"), 400)
    assert (body["code"], "the limit is 1048576 bytes" in body["detail"]) == ("too_large", True)


@pytest.mark.parametrize("bad", [[{}], [1], [None], [""], [["a"]], {}, "age"])
def test_a_columns_parameter_must_list_column_names(api_alice, project, bad):
    graph = {"nodes": [{"id": "f", "component": "data_filter/feature_filter", "params": {}}]}
    graph["nodes"][0]["params"]["drop_features"] = bad
    response = api_alice.post(
        "/api/v1/pipelines/", {"project": project.pk, "name": "p", "graph": graph}, format="json"
    )
    assert response.status_code == 201, response.json()
    checked = api_alice.post(f"/api/v1/pipelines/{response.json()['id']}/validate/")
    assert checked.status_code == 200, checked.json()
    messages = [problem["message"] for problem in checked.json()["problems"]]
    assert any("parameter 'drop_features'" in message for message in messages), messages


@pytest.mark.parametrize(
    "content",
    [b'id,age\n1,"34\n2,41\n3,50\n', b'id,age\n1,"34\n2,41\n3,50'],
    ids=["trailing-newline", "no-trailing-newline"],
)
def test_it_refuses_a_csv_with_an_unclosed_quote(api_alice, storage, content):
    body = assert_error(upload(api_alice, content), 400, "invalid_csv")
    assert "starts on line 2 is never closed" in body["detail"], body


def test_it_refuses_100000_columns_quickly(api_alice, storage, settings):
    header = ",".join(f"c{i}" for i in range(100_000))
    content = f"{header}\n{','.join('1' * 100_000)}\n".encode()
    body = assert_error(upload(api_alice, content), 400, "invalid_csv")
    assert "100,000 columns; at most 2,000 are accepted" in body["detail"]
