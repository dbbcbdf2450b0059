"""A member that finds the run's pipeline invalid refuses it naming each problem as a message
(`console.federation.runs._checked`): the initiator's users read the problems in their own
language, not in the member's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from console.federation.runs import _checked
from console.nodes.link.envelope import EnvelopeError
from workflows.graph import parse_graph
from workflows.messages import render, wire_text


def test_the_problems_of_a_refused_pipeline_read_in_the_readers_language():
    graph = parse_graph({"nodes": [{"id": "x", "component": "nope/none"}], "edges": []})
    job = SimpleNamespace(parties=("alice", "bob"), sources={})
    with pytest.raises(EnvelopeError) as refused:
        _checked(graph, job, "0" * 64)
    sent = wire_text(refused.value.message)  # what goes back to the initiator
    assert render(sent, "en") == (
        "the run's pipeline does not validate here: unknown component nope/none"
    )
    chinese = render(sent, "zh-hans")
    assert "nope/none" in chinese
    assert "unknown component" not in chinese
