"""Messages and the component catalogue name port types for people, not the engine."""

from __future__ import annotations

from tests.workflows.test_validation import check, edge, node, read
from workflows.components import registry
from workflows.components.schema import PortType, type_names


def test_every_port_type_has_a_human_name():
    assert {kind.label for kind in PortType} == {
        "table",
        "vertical table",
        "model",
        "report",
        "rule",
    }
    assert str(type_names(["table.individual", "table.vertical"])) == "table or vertical table"


def test_a_type_mismatch_names_the_types_as_people_do():
    _, result = check(
        [
            read(),
            node("fill", "preprocessing/fillna", features=["income"]),
            node("stats", "stats/table_statistics"),
        ],
        [edge("read", "output_ds", "fill"), edge("fill", "output_rule", "stats")],
    )
    messages = [p.message for p in result.problems if p.code == "port_type_mismatch"]
    assert messages
    for message in messages:
        assert "table.individual" not in message, message
        assert "table.vertical" not in message, message
        assert "accepts a table or vertical table" in message, message
        assert "gives a rule" in message, message


def test_the_catalogue_gives_each_port_its_type_names():
    for component in registry().catalogue():
        for port in [*component["inputs"], *component["outputs"]]:
            assert len(port["type_labels"]) == len(port["types"]), port
            assert not any("." in label for label in port["type_labels"]), port
