"""The pipeline JSON importer under Hypothesis: unknown components, cycles, thousands of nodes,
wrong parameter types. Importing answers 201 or a 400 naming the problem; validating an
imported pipeline answers 200 with its problems; never a 500, never a hang."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.components import registry
from workflows.graph import MAX_NODES
from workflows.models import Pipeline

CATALOGUE = {entry["key"]: entry for entry in registry().catalogue()}
KEYS = sorted(CATALOGUE)
BOUNDED = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
NODE_ID = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def graphs(draw) -> dict:
    ids = draw(st.lists(NODE_ID, min_size=0, max_size=12, unique=True))
    nodes = []
    for node_id in ids:
        component = draw(st.sampled_from(KEYS) | st.sampled_from(["nope/x", "", "read/dataset:9"]))
        names = [p["name"] for p in CATALOGUE.get(component, {"params": []})["params"]]
        params = draw(st.dictionaries(st.sampled_from(names or ["x"]), JSON_VALUES, max_size=4))
        nodes.append({"id": node_id, "component": component, "params": params})
    ports = st.sampled_from(["output_ds", "input_ds", "train_ds", "report", "nope"])
    edges = []
    if ids:
        for _ in range(draw(st.integers(0, 20))):  # any pairs: self-loops and cycles included
            source, target = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
            edges.append(
                {
                    "source": {"node": source, "port": draw(ports)},
                    "target": {"node": target, "port": draw(ports)},
                }
            )
    return {"nodes": nodes, "edges": edges}


def _document(graph, **extra) -> dict:
    return {"format": "privpad.pipeline", "version": 1, "name": "fuzz", "graph": graph} | extra


def _import(api, project, document):
    return api.post(
        "/api/v1/pipelines/import/", {"project": project.pk, "document": document}, format="json"
    )


@BOUNDED
@given(graph=graphs())
def test_imports_answer_201_or_400_and_validate_without_error(api_alice, project, graph):
    response = _import(api_alice, project, _document(graph))
    assert response.status_code in (201, 400), response.content[:300]
    body = response.json()
    if response.status_code == 400:
        assert (body["detail"], body["code"]) != ("", "")
        return
    checked = api_alice.post(f"/api/v1/pipelines/{body['id']}/validate/")
    assert checked.status_code == 200, checked.content[:300]
    assert checked.json()["valid"] is (not checked.json()["problems"])
    Pipeline.objects.filter(pk=body["id"]).delete()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=JSON_VALUES | st.builds(_document, JSON_VALUES))
def test_any_json_document_is_refused_with_a_clear_error(api_alice, project, document):
    response = _import(api_alice, project, document)
    assert response.status_code in (201, 400)


def test_thousands_of_nodes_are_refused_at_once(api_alice, project):
    nodes = [{"id": f"n{i}", "component": "stats/table_statistics"} for i in range(3000)]
    started = time.monotonic()
    response = _import(api_alice, project, _document({"nodes": nodes, "edges": []}))
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert f"at most {MAX_NODES} nodes" in response.json()["detail"]


def test_the_largest_allowed_graph_with_a_long_cycle_validates_quickly(api_alice, project):
    count = MAX_NODES
    nodes = [{"id": f"n{i}", "component": "stats/table_statistics"} for i in range(count)]
    edges = [
        {
            "source": {"node": f"n{i}", "port": "report"},
            "target": {"node": f"n{(i + 1) % count}", "port": "input_ds"},
        }
        for i in range(count)
    ]
    response = _import(api_alice, project, _document({"nodes": nodes, "edges": edges}))
    assert response.status_code == 201, response.json()
    started = time.monotonic()
    checked = api_alice.post(f"/api/v1/pipelines/{response.json()['id']}/validate/")
    assert time.monotonic() - started < 10
    assert checked.status_code == 200
    assert any("cycle" in p["message"] for p in checked.json()["problems"])
