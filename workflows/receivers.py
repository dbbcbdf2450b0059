"""Predictions go to the label owner only, unless the owner approves another receiver.

A model trained on party X's label turns into id-linked scores that rank X's rows by that
label: the issue's bob set an SS-LR prediction's receiver to himself and ranked alice's
customers by her label (AUC 0.93). So a prediction node whose receiver is not the party holding
the model's label is a disclosure from the label owner to the receiver, and validation refuses
it unless the owner approved it.

Pure (no ORM): `foreign_receivers` finds such nodes in a validated graph; `receiver_problems`
turns those not approved into problems on their node. Approval is the disclosure plan's
business: its code passes `approved(receiver) -> bool` (default: nothing is approved). The
components themselves never write anywhere else: `RunContext` refuses to write an output part
at a party the output's inferred info does not list (`PartyFailure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workflows.components.params import PartyParam
from workflows.components.schema import PortType
from workflows.graph import Graph
from workflows.validation import Problem, Validation

RECEIVER_PARAM = "receiver"


@dataclass(frozen=True)
class ForeignReceiver:
    """Node `node` gives predictions of a model trained on `label_owner`'s label `label` to
    `receiver`, another party."""

    node: str
    receiver: str
    label_owner: str
    label: str

    def problem(self) -> Problem:
        message = (
            f"receiver {self.receiver!r} would get predictions of a model trained on "
            f"{self.label_owner}'s label {self.label!r}: they go to the label owner only, "
            f"unless {self.label_owner} approves {self.receiver} as receiver (the pipeline's "
            f"disclosure plan needs {self.label_owner}'s approval)"
        )
        return Problem(self.node, "receiver_needs_approval", message, RECEIVER_PARAM)


def _model_input(graph: Graph, checked: Validation, node_id: str):
    component = checked.components[node_id]
    ports = {p.name for p in component.inputs if PortType.MODEL in p.types}
    for edge in graph.inputs_of(node_id):
        if edge.target_port in ports:
            return checked.infos.get(edge.source, {}).get(edge.source_port)
    return None


def foreign_receivers(graph: Graph, checked: Validation) -> list[ForeignReceiver]:
    """Prediction nodes (a model input and a party `receiver`) whose receiver does not hold the
    model's label."""
    found = []
    for node_id in checked.order:
        component = checked.components.get(node_id)
        param = component.param(RECEIVER_PARAM) if component else None
        if not isinstance(param, PartyParam) or node_id not in checked.params:
            continue
        model = _model_input(graph, checked, node_id)
        receiver = checked.params[node_id][RECEIVER_PARAM]
        for column in model.columns if model else ():
            if column.role == "label" and column.party != receiver:
                found.append(ForeignReceiver(node_id, receiver, column.party, column.name))
    return found


def receiver_problems(
    graph: Graph,
    checked: Validation,
    approved: Callable[[ForeignReceiver], bool] = lambda receiver: False,
) -> list[Problem]:
    """A problem on every prediction node whose foreign receiver is not approved."""
    return [r.problem() for r in foreign_receivers(graph, checked) if not approved(r)]
