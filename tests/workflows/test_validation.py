"""Every validation rule, one broken pipeline each (pure: no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.components import discover
from workflows.components.disclosure import Declares, disclose
from workflows.components.params import ColumnsParam, PartyParam
from workflows.components.schema import ArtifactInfo, Column, PortType
from workflows.components.spec import Component, Port, Registry
from workflows.components.tables import table_port
from workflows.graph import GraphFormatError, parse_graph
from workflows.ports import SourceTable
from workflows.validation import validate

PARTIES = ("alice", "bob")


def _columns(party: str, spec: dict[str, tuple[str, str]]) -> tuple[Column, ...]:
    return tuple(Column(name, kind, party, role) for name, (kind, role) in spec.items())


SOURCES = {
    1: SourceTable(
        1,
        "credit",
        "alice",
        Path("/nowhere"),
        "f1",
        _columns(
            "alice",
            {
                "id": ("str", "id"),
                "age": ("int", "feature"),
                "income": ("float", "feature"),
                "city": ("str", "feature"),
                "y": ("int", "label"),
                "score": ("float", "feature"),
                "secret": ("float", "protected"),
            },
        ),
    ),
    2: SourceTable(
        2, "shop", "bob", Path("/nowhere"), "f2", _columns("bob", {"spend": ("float", "feature")})
    ),
}


def _train_infer(ctx):
    return {"model": ArtifactInfo(PortType.MODEL, (ctx.params["label_party"],))}


def _noop(ctx) -> None:
    """Validation tests never run components."""


# A training-like component: the label must be held by the chosen party; a receiver party.
TRAINER = Component(
    domain="test",
    name="trainer",
    version="1.0.0",
    category="ml",
    label="Trainer",
    description="Validation test double.",
    inputs=(table_port("input_ds"),),
    outputs=(Port("model", (PortType.MODEL,)),),
    params=(
        PartyParam(name="label_party"),
        ColumnsParam(
            name="label",
            port="input_ds",
            roles=("label",),
            multiple=False,
            party_param="label_party",
        ),
        PartyParam(name="receiver", default="alice"),
    ),
    infer=_train_infer,
    run=_noop,
    disclosure=disclose(model=Declares()),
)
REGISTRY = Registry([*discover(), TRAINER])


def node(node_id, component, **params):
    return {"id": node_id, "component": component, "params": params}


def edge(source, source_port, target, target_port="input_ds"):
    return {
        "source": {"node": source, "port": source_port},
        "target": {"node": target, "port": target_port},
    }


def check(nodes, edges=(), parties=PARTIES, sources=SOURCES):
    result = validate(
        parse_graph({"nodes": nodes, "edges": list(edges)}), REGISTRY, parties, sources
    )
    return [(p.node, p.code) for p in result.problems], result


def read(node_id="read", dataset=1):
    return node(node_id, "read/dataset", dataset=dataset)


def test_a_valid_pipeline_has_no_problem_and_states_its_output_columns():
    problems, result = check(
        [read(), node("fill", "preprocessing/fillna", features=["income"])],
        [edge("read", "output_ds", "fill")],
    )
    assert problems == []
    columns = result.infos["fill"]["output_ds"].columns
    assert [c.name for c in columns] == ["id", "age", "income", "city", "y", "score"]
    assert {c.party for c in columns} == {"alice"}
    assert result.infos["fill"]["output_rule"].kind == PortType.RULE


def test_it_reports_a_cycle():
    problems, _ = check(
        [
            read(),
            node("a", "data_filter/feature_filter", drop_features=["age"]),
            node("b", "data_filter/feature_filter", drop_features=["city"]),
        ],
        [edge("a", "output_ds", "b"), edge("b", "output_ds", "a")],
    )
    assert ("a", "cycle") in problems
    assert ("b", "cycle") in problems


def test_it_reports_an_unconnected_required_input():
    problems, _ = check([node("stats", "stats/table_statistics")])
    assert problems == [("stats", "missing_input")]


def test_it_reports_a_port_type_mismatch():
    problems, _ = check(
        [
            read(),
            node("fill", "preprocessing/fillna", features=["income"]),
            node("stats", "stats/table_statistics"),
        ],
        [edge("read", "output_ds", "fill"), edge("fill", "output_rule", "stats")],
    )
    assert ("stats", "port_type_mismatch") in problems


def test_it_reports_a_second_edge_into_one_input():
    problems, _ = check(
        [read(), read("read2", 2), node("stats", "stats/table_statistics")],
        [edge("read", "output_ds", "stats"), edge("read2", "output_ds", "stats")],
    )
    assert ("stats", "duplicate_input") in problems


def test_it_reports_unknown_components_ports_and_parameters():
    problems, _ = check(
        [read(), node("x", "nope/nothing"), node("stats", "stats/table_statistics", colour="red")],
        [edge("read", "no_such_port", "stats")],
    )
    assert ("x", "unknown_component") in problems
    assert ("read", "unknown_port") in problems
    assert ("stats", "unknown_param") in problems


def test_it_reports_a_missing_parameter():
    problems, _ = check(
        [read(), node("fill", "preprocessing/fillna")], [edge("read", "output_ds", "fill")]
    )
    assert problems == [("fill", "missing_param")]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"train_size": 1.5}, "out_of_range"),
        ({"test_size": 0}, "out_of_range"),
        ({"random_state": -1}, "out_of_range"),
        ({"shuffle": "yes"}, "invalid_param"),
        ({"train_size": 0.8, "test_size": 0.5}, "invalid_params"),
    ],
)
def test_it_reports_invalid_and_out_of_range_parameters(params, code):
    problems, _ = check(
        [read(), node("split", "data_prep/train_test_split", **params)],
        [edge("read", "output_ds", "split")],
    )
    assert problems == [("split", code)], params


@pytest.mark.parametrize(
    ("features", "code"),
    [
        (["nope"], "column_missing"),
        (["secret"], "column_missing"),  # protected columns never leave the source
        (["y"], "column_role"),
        (["city"], "column_type"),
    ],
)
def test_it_reports_columns_missing_upstream_or_of_the_wrong_role_or_type(features, code):
    problems, _ = check(
        [read(), node("scale", "preprocessing/scaler", features=features)],
        [edge("read", "output_ds", "scale")],
    )
    assert problems == [("scale", code)], features


def test_it_reports_a_column_dropped_upstream():
    problems, _ = check(
        [
            read(),
            node("drop", "data_filter/feature_filter", drop_features=["income"]),
            node("scale", "preprocessing/scaler", features=["income"]),
        ],
        [edge("read", "output_ds", "drop"), edge("drop", "output_ds", "scale")],
    )
    assert problems == [("scale", "column_missing")]


def test_it_reports_a_label_chosen_at_a_party_that_does_not_hold_it():
    problems, result = check(
        [read(), node("train", "test/trainer", label_party="bob", label="y")],
        [edge("read", "output_ds", "train")],
    )
    assert problems == [("train", "column_party")]
    assert "held by alice" in result.problems[0].message


def test_it_reports_a_receiver_party_not_in_the_project():
    problems, _ = check(
        [read(), node("train", "test/trainer", label_party="alice", label="y", receiver="carol")],
        [edge("read", "output_ds", "train")],
    )
    assert problems == [("train", "party_not_member")]


def test_it_reports_a_dataset_not_authorised_to_the_project():
    problems, _ = check([read(dataset=99)])
    assert problems == [("read", "dataset_not_authorised")]


def test_it_reports_label_and_prediction_at_different_parties():
    problems, _ = check(
        [read(), node("e", "ml.eval/binary_classification", label="y", prediction="age")],
        [edge("read", "output_ds", "e")],
    )
    assert problems == []
    problems, _ = check(
        [read(), node("e", "ml.eval/regression", label="y", prediction="y")],
        [edge("read", "output_ds", "e")],
    )
    assert problems == [("e", "invalid_params")]


def test_a_broken_node_does_not_hide_problems_further_down():
    problems, _ = check(
        [read(dataset=99), node("scale", "preprocessing/scaler", features=[])],
        [edge("read", "output_ds", "scale")],
    )
    assert ("read", "dataset_not_authorised") in problems
    assert ("scale", "invalid_param") in problems


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be an object"),
        ({"nodes": [{"id": "a b", "component": "x"}]}, "not a valid id"),
        ({"nodes": [{"id": "a", "component": "x"}, {"id": "a", "component": "x"}]}, "used twice"),
        (
            {
                "nodes": [{"id": "a", "component": "x"}],
                "edges": [
                    {"source": {"node": "z", "port": "p"}, "target": {"node": "a", "port": "q"}}
                ],
            },
            "unknown node",
        ),
        ({"nodes": [{"id": "a", "component": "x", "params": []}]}, "'params' must be an object"),
    ],
)
def test_malformed_graph_documents_are_refused(document, message):
    with pytest.raises(GraphFormatError, match=message):
        parse_graph(document)
