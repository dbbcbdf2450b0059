"""The disclosure step of validation: unavailable nodes, the plan and standing policies.

Called by `workflows.validation.validate` once the graph's schemas are inferred. Adds, on the
node concerned: `node_unavailable` (a disabled or offline node's data or computation is
needed) and `disclosure_refused` (a standing policy, or a protected column, refuses what the
node would disclose). The plan is kept on the validation result as `plan`.
"""

from __future__ import annotations

from django.conf import settings

from workflows.components.params import DatasetParam, PartyParam
from workflows.disclosure.plan import build_plan
from workflows.disclosure.policy import REFUSE, decide_entries
from workflows.graph import Graph

DEFAULT_MIN_GROUP = 20


def min_group_size() -> int:
    """k: the fewest rows any aggregate point sent to a non-owner may cover (the setting the
    components' safe defaults use too)."""
    return int(getattr(settings, "PRIVPAD_DISCLOSURE_MIN_ROWS", DEFAULT_MIN_GROUP))


def check_disclosure(graph: Graph, result, parties, sources: dict, unavailable: dict) -> None:
    _unavailable(graph, result, sources, unavailable)
    plan = build_plan(graph, result, sources, parties, min_group_size())
    decide_entries(plan, sources)
    result.plan = plan
    for node_id, entries in plan.disclosing_nodes().items():
        reasons = {
            f"{entry.reason}: {entry.recipient} would receive {entry.what}": None
            for entry in entries
            if entry.decision == REFUSE
        }
        for reason in reasons:
            result.add(node_id, "disclosure_refused", reason)


def _unavailable(graph: Graph, result, sources: dict, unavailable: dict) -> None:
    """A disabled or offline node's data cannot be used, nor can it compute or receive."""
    if not unavailable:
        return
    for node_id, component in result.components.items():
        params = graph.nodes[node_id].params
        for param in component.params:
            value = params.get(param.name)
            if isinstance(param, DatasetParam) and value in sources:
                party = sources[value].party
                if party in unavailable:
                    result.add(
                        node_id,
                        "node_unavailable",
                        f"dataset {sources[value].name!r} belongs to {party}, whose node is "
                        f"{unavailable[party]}: its data cannot be used",
                        param.name,
                    )
            elif isinstance(param, PartyParam):
                for party in value if isinstance(value, list) else [value]:
                    if party in unavailable:
                        result.add(
                            node_id,
                            "node_unavailable",
                            f"party {party} is {unavailable[party]}: it cannot take part",
                            param.name,
                        )
