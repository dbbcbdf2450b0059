"""Validate a pipeline graph before anything runs (pure: no ORM, no files).

Every problem names the node it concerns. Checked: unknown components and ports, cycles, port
type mismatches, a second edge into one input, unconnected required inputs, missing, unknown
and out-of-range parameters, columns that do not exist upstream or have the wrong role or type,
a column chosen at a party that does not hold it, parties that are not project members,
datasets not authorised to the project, columns that may hold missing values (from the upload
profile, until a fill step) reaching a component that refuses them, and a label lost before an
evaluation because a prediction node's *Save label* is off (or its receiver does not hold
it). Walking the graph in topological order, each node's output schemas are inferred from its
inputs (schema propagation); a node whose inputs are broken is checked for what can be
checked without them and its outputs stay unknown. Last, the disclosure step
(`workflows.disclosure.checks`) computes the disclosure plan, names nodes that need a disabled
or offline party, and refuses what standing policies refuse.

Each problem's message is a `workflows.messages` message (msgid and params): `Problem.message`
renders it in the active language (the requesting user's), and a run that is not valid any more
stores it as it is, so every reader reads the problem in their own language. Codes and fields
stay fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.components.checks import gaps_message
from workflows.components.params import ColumnsParam, ParamEnv, ParamError
from workflows.components.schema import ArtifactInfo, type_names
from workflows.components.spec import Component, InferContext, Registry
from workflows.disclosure.checks import check_disclosure
from workflows.graph import Graph, Node
from workflows.messages import Message, said_by, translatable


@dataclass(frozen=True)
class Problem:
    """One problem of a pipeline: on `node` (None: the whole pipeline), `what` is wrong (a
    message to store, or plain text)."""

    node: str | None
    code: str
    what: Message | str
    field: str | None = None

    @property
    def message(self) -> str:
        """The problem in the active language."""
        return str(self.what)

    def to_dict(self) -> dict:
        return {"node": self.node, "code": self.code, "message": self.message, "field": self.field}


@dataclass
class Validation:
    problems: list[Problem] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    infos: dict[str, dict[str, ArtifactInfo]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    plan: Any = None  # workflows.disclosure.plan.Plan

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(
        self, node: str | None, code: str, message: Message | str, field: str | None = None
    ) -> None:
        self.problems.append(Problem(node, code, message, field))


def validate(
    graph: Graph,
    registry: Registry,
    parties: tuple[str, ...],
    sources: dict,
    unavailable: dict[str, str] | None = None,
) -> Validation:
    """Check `graph`; `unavailable` maps parties whose node is disabled or offline to why."""
    result = Validation()
    for node in graph.nodes.values():
        component = registry.get(node.component, node.version)
        if component is None:
            message = translatable(
                "unknown component %(component)s version %(version)s"
                if node.version
                else "unknown component %(component)s",
                component=node.component,
                version=node.version,
            )
            result.add(node.id, "unknown_component", message)
        else:
            result.components[node.id] = component
    _check_edges(graph, result)
    result.order, cyclic = graph.order()
    for node_id in sorted(cyclic):
        message = translatable("node %(node)s is on a cycle or downstream of one", node=node_id)
        result.add(node_id, "cycle", message)
    for node_id in result.order:
        if node_id in result.components:
            _check_node(graph.nodes[node_id], graph, result, parties, sources)
    check_disclosure(graph, result, parties, sources, unavailable or {})
    return result


def _check_edges(graph: Graph, result: Validation) -> None:
    seen_inputs = set()
    for edge in graph.edges:
        source = result.components.get(edge.source)
        target = result.components.get(edge.target)
        out_port = source.output(edge.source_port) if source else None
        in_port = target.input(edge.target_port) if target else None
        if source and out_port is None:
            message = translatable(
                "%(component)s has no output '%(port)s'",
                component=source.key,
                port=edge.source_port,
            )
            result.add(edge.source, "unknown_port", message)
        if target and in_port is None:
            message = translatable(
                "%(component)s has no input '%(port)s'", component=target.key, port=edge.target_port
            )
            result.add(edge.target, "unknown_port", message)
        if (edge.target, edge.target_port) in seen_inputs:
            result.add(
                edge.target,
                "duplicate_input",
                translatable(
                    "input '%(port)s' of %(node)s has more than one incoming edge",
                    port=edge.target_port,
                    node=edge.target,
                ),
            )
        seen_inputs.add((edge.target, edge.target_port))
        if out_port and in_port and not set(out_port.types) & set(in_port.types):
            result.add(edge.target, "port_type_mismatch", _mismatch(edge, out_port.types, in_port))


def _mismatch(edge, given, in_port) -> Message:
    return translatable(
        "input '%(port)s' accepts a %(accepted)s but %(source)s gives a %(given)s",
        port=edge.target_port,
        accepted=type_names(in_port.types),
        source=f"{edge.source}.{edge.source_port}",
        given=type_names(given),
    )


def _inputs(node: Node, graph: Graph, result: Validation) -> tuple[dict, bool]:
    """Input infos of a node, and whether every connected/required input is known and fits."""
    component, inputs, complete = result.components[node.id], {}, True
    for port in component.inputs:
        edges = [edge for edge in graph.inputs_of(node.id) if edge.target_port == port.name]
        if not edges:
            inputs[port.name] = None
            if not port.optional:
                complete = False
                message = translatable("required input '%(port)s' is not connected", port=port.name)
                result.add(node.id, "missing_input", message)
            continue
        edge = edges[0]
        info = result.infos.get(edge.source, {}).get(edge.source_port)
        if info is not None and info.kind not in port.types:
            result.add(node.id, "port_type_mismatch", _mismatch(edge, (info.kind,), port))
            info = None
        complete = complete and info is not None
        inputs[port.name] = info
    return inputs, complete


def _check_node(node: Node, graph: Graph, result: Validation, parties, sources) -> None:
    component = result.components[node.id]
    inputs, complete = _inputs(node, graph, result)
    env = ParamEnv(parties=tuple(parties), inputs=inputs, sources=sources)
    params, params_ok = _clean_params(node, graph, env, result)
    if not (complete and params_ok):
        return
    context = InferContext(params=params, inputs=inputs, env=env)
    checks = component.check(context) if component.check else []
    problems = [("invalid_params", message, None) for message in checks]
    problems += _party_bound_columns(component, params, inputs)
    problems += _missing_values(component, params, inputs)
    for code, message, name in problems:
        result.add(node.id, code, message, name)
    if problems:
        return
    try:
        result.infos[node.id] = component.infer(context)
    except (ParamError, ValueError) as error:
        result.add(node.id, getattr(error, "code", "invalid_params"), said_by(error))
        return
    result.params[node.id] = params


def _clean_params(node: Node, graph: Graph, env: ParamEnv, result: Validation):
    component = result.components[node.id]
    params, ok = {}, True
    for name in node.params:
        if component.param(name) is None:
            ok = False
            message = translatable(
                "%(component)s has no parameter '%(param)s'", component=component.key, param=name
            )
            result.add(node.id, "unknown_param", message, name)
    for param in component.params:
        if param.name not in node.params or node.params[param.name] is None:
            if param.required:
                ok = False
                message = translatable("parameter '%(param)s' is required", param=param.name)
                result.add(node.id, "missing_param", message, param.name)
            else:
                params[param.name] = param.default
            continue
        try:
            params[param.name] = param.clean(node.params[param.name], env)
        except ParamError as error:
            ok = False
            message = error.message
            if error.code == "column_missing":
                message = _lost_label(node, param, graph, result) or message
            result.add(node.id, error.code, message, param.name)
    return params, ok


def _party_bound_columns(component: Component, params: dict, inputs: dict) -> list[tuple]:
    """A column picked "at" a party (e.g. the label at the model owner) must be held there."""
    problems = []
    for param in component.params:
        if not isinstance(param, ColumnsParam) or not param.party_param:
            continue
        party, info = params.get(param.party_param), inputs.get(param.port)
        names = params.get(param.name) or []
        for name in [names] if isinstance(names, str) else names:
            holders = sorted({column.party for column in info.find(name)}) if info else []
            if holders and party not in holders:
                message = translatable(
                    "column %(column)s ('%(param)s') is held by %(holders)s, not by %(party)s "
                    "chosen in '%(party_param)s'",
                    column=repr(name),
                    param=param.name,
                    holders=holders,
                    party=repr(party),
                    party_param=param.party_param,
                )
                problems.append(("column_party", message, param.name))
    return problems


def _missing_values(component: Component, params: dict, inputs: dict) -> list[tuple]:
    """Columns that may hold missing values, picked where the component refuses them."""
    problems = []
    for param in component.params:
        if not isinstance(param, ColumnsParam) or not param.refuses_missing:
            continue
        info, names = inputs.get(param.port), params.get(param.name) or []
        picked = {names} if isinstance(names, str) else set(names)
        gaps: dict[str, list[str]] = {}
        for column in info.columns if info else ():
            if column.name in picked and column.missing:
                gaps.setdefault(column.party, []).append(column.name)
        if gaps:
            problems.append(("missing_values", gaps_message(component.label, gaps), param.name))
    return problems


def _lost_label(node: Node, param, graph: Graph, result: Validation) -> Message | None:
    """Why a picked column is absent after a prediction node: its label was not kept."""
    edge = next((e for e in graph.inputs_of(node.id) if e.target_port == param.port), None)
    source = result.components.get(edge.source) if edge else None
    if source is None or source.param("save_label") is None:
        return None
    wanted, settings = graph.nodes[node.id].params.get(param.name), graph.nodes[edge.source].params
    upstream = [
        column
        for e in graph.inputs_of(edge.source)
        for info in [result.infos.get(e.source, {}).get(e.source_port)]
        for column in (info.columns if info else ())
        if column.name == wanted and column.role == "label"
    ]
    if not upstream:
        return None
    if not settings.get("save_label", source.param("save_label").default):
        return translatable(
            "the label %(label)s is not in the predictions of %(node)s: its 'Save label' "
            "setting is off. Fix: turn on 'Save label' in %(node)s.",
            label=repr(wanted),
            node=edge.source,
        )
    holders = sorted({column.party for column in upstream})
    receiver = settings.get("receiver")
    if receiver and receiver not in holders:
        return translatable(
            "the label %(label)s is held by %(holders)s, not by %(receiver)s, the receiver of "
            "%(node)s's predictions, so they cannot keep it. Fix: choose %(holder)s as the "
            "receiver in %(node)s.",
            label=repr(wanted),
            holders=holders,
            receiver=receiver,
            node=edge.source,
            holder=holders[0],
        )
    return None
