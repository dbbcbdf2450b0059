"""The disclosure step of validation: unavailable nodes, the plan and standing policies.

Called by `workflows.validation.validate` once the graph's schemas are inferred. Adds, on the
node concerned: `node_unavailable` (a disabled or offline node's data or computation is
needed) and `disclosure_refused` (a standing policy, or a protected column, refuses what the
node would disclose). The plan is kept on the validation result as `plan`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import pgettext_lazy

from workflows.components.params import DatasetParam, PartyParam
from workflows.disclosure.plan import build_plan
from workflows.disclosure.policy import REFUSE, decide_entries
from workflows.graph import Graph
from workflows.messages import translatable

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
        refusals = [
            translatable(
                "%(reason)s: %(recipient)s would receive %(what)s",
                reason=entry.reason,
                recipient=entry.recipient,
                # Marked with gettext_noop by its component: rendered in the reader's language.
                what={"msgid": entry.what, "params": {}},
            )
            for entry in entries
            if entry.decision == REFUSE
        ]
        # One problem per distinct sentence, in the plan's order.
        for reason in {refusal.stored_text(): refusal for refusal in refusals}.values():
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
                        translatable(
                            "dataset %(dataset)s belongs to %(party)s, whose node is "
                            "%(state)s: its data cannot be used",
                            dataset=repr(sources[value].name),
                            party=party,
                            state=_state(unavailable[party]),
                        ),
                        param.name,
                    )
            elif isinstance(param, PartyParam):
                for party in value if isinstance(value, list) else [value]:
                    if party in unavailable:
                        result.add(
                            node_id,
                            "node_unavailable",
                            translatable(
                                "party %(party)s is %(state)s: it cannot take part",
                                party=party,
                                state=_state(unavailable[party]),
                            ),
                            param.name,
                        )


# Why a node cannot take part (its status), as the messages above say it.
STATE_WORDS = {
    "disabled": pgettext_lazy("node state", "disabled"),
    "offline": pgettext_lazy("node state", "offline"),
}


def _state(status: str):
    return STATE_WORDS.get(status, status)
