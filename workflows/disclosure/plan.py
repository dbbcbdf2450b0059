"""A pipeline's disclosure plan: which source columns reach which other party, in which form.

Pure (no ORM). Walking the validated graph in topological order, every output column gets a
*lineage*: the set of source dataset columns it derives from (`SourceColumn`), resolved through
each component's declaration (`workflows.components.disclosure`). Every declared flow (a part
kept by its holder, a report, PSI membership, ...) then says which recipients receive what about
which columns; resolved to source columns, whatever reaches a party other than the column's
owner becomes an `Entry` of the plan: (source party, recipient, node, port, form, columns).

The plan's fingerprint is a hash of its entries (without row estimates and decisions), the
ids of the authorisations of every dataset the pipeline reads and the values of the nodes'
shaping parameters (those that choose which rows or cut points an output covers:
`workflows.components.disclosure`): consent is given to a fingerprint, so any change to what
flows, to the rows or thresholds it is cut at, or a revoked and re-granted authorisation, asks
again. Other settings (epochs, learning rate, positions) change nothing.
So does a change to a component's declarations: when SS-LR training and prediction and Pearson
came to declare the input bounds every party of their computation learns (`input_bounds`),
every plan using them got a new fingerprint, and approvals given before were asked again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from workflows.components.disclosure import (
    DATASET,
    Declares,
    DisclosureContext,
    Flow,
    Form,
    Ref,
)
from workflows.components.schema import ArtifactInfo
from workflows.graph import Graph
from workflows.messages import Message


@dataclass(frozen=True, order=True)
class SourceColumn:
    """A column of an authorised dataset: the origin of everything derived from it."""

    party: str
    dataset_id: int
    name: str
    role: str

    def to_dict(self) -> dict:
        return {
            "party": self.party,
            "dataset": self.dataset_id,
            "name": self.name,
            "role": self.role,
        }


@dataclass
class Entry:
    """Derived information about `columns` of `source` reaches `recipient` through a node."""

    source: str
    recipient: str
    node: str
    component: str
    port: str
    form: Form
    what: str
    k: int | None
    columns: set[SourceColumn] = field(default_factory=set)
    rows: int | None = None  # an upper bound: the smallest source dataset it derives from
    decision: str = "ask"  # allow | ask | refuse (set from the source's standing policy)
    reason: Message | str = ""  # the policy's words (a message: read in the reader's language)
    during_run: bool = False  # opened while the node runs, not in a file (`Flow.during_run`)

    def identity(self) -> dict:
        # `during_run` only when set: the fingerprints of plans without it stay as they were.
        opened = {"during_run": True} if self.during_run else {}
        return opened | {
            "source": self.source,
            "recipient": self.recipient,
            "node": self.node,
            "component": self.component,
            "port": self.port,
            "form": str(self.form),
            "what": self.what,
            "k": self.k,
            "columns": [column.to_dict() for column in sorted(self.columns)],
        }

    def to_dict(self) -> dict:
        return self.identity() | {
            "rows": self.rows,
            "decision": self.decision,
            "reason": str(self.reason),
        }


@dataclass
class Plan:
    entries: list[Entry] = field(default_factory=list)
    # Every dataset the pipeline reads: id -> {"name", "party", "authorization", "rows"}.
    datasets: dict[int, dict] = field(default_factory=dict)
    min_group: int = 20
    # Node id -> {shaping parameter: value} (module docstring).
    shaping: dict[str, dict] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        document = {
            "entries": sorted(
                (entry.identity() for entry in self.entries),
                key=lambda e: json.dumps(e, sort_keys=True),
            ),
            "authorizations": sorted((d["authorization"] for d in self.datasets.values()), key=str),
        }
        if self.shaping:  # plans without shaping parameters keep their fingerprints
            document["shaping"] = self.shaping
        encoded = json.dumps(document, sort_keys=True, default=str).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()

    def from_source(self, party: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.source == party]

    def sources(self) -> list[str]:
        return sorted({entry.source for entry in self.entries})

    def disclosing_nodes(self) -> dict[str, list[Entry]]:
        nodes: dict[str, list[Entry]] = {}
        for entry in self.entries:
            nodes.setdefault(entry.node, []).append(entry)
        return nodes

    def to_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "min_group": self.min_group,
            "entries": [entry.to_dict() for entry in self.entries],
            "datasets": {str(key): value for key, value in self.datasets.items()},
        }


Lineage = dict[tuple[str, str], frozenset[SourceColumn]]


class PlanBuilder:
    """Resolves declarations node by node over a validated graph (see the module docstring)."""

    def __init__(self, graph: Graph, checked, sources: dict, parties, min_group: int):
        self.graph, self.checked, self.sources = graph, checked, sources
        self.parties, self.min_group = tuple(parties), min_group
        self.lineages: dict[tuple[str, str], Lineage] = {}
        self.entries: dict[tuple, Entry] = {}
        self.datasets: dict[int, dict] = {}
        self.shaping: dict[str, dict] = {}

    def build(self) -> Plan:
        for node_id in self.checked.order:
            if node_id in self.checked.infos and node_id in self.checked.params:
                self._node(node_id)
        ordered = sorted(self.entries.values(), key=lambda e: (e.source, e.recipient, e.node))
        return Plan(ordered, self.datasets, self.min_group, self.shaping)

    def _node(self, node_id: str) -> None:
        component = self.checked.components[node_id]
        params = self.checked.params[node_id]
        if component.disclosure.shaping:
            self.shaping[node_id] = {name: params[name] for name in component.disclosure.shaping}
        wiring = {e.target_port: (e.source, e.source_port) for e in self.graph.inputs_of(node_id)}
        inputs = {port.name: self._info(wiring.get(port.name)) for port in component.inputs}
        outputs = self.checked.infos[node_id]
        ctx = DisclosureContext(params, inputs, outputs, self.parties, self.min_group)
        resolve = _Resolver(self, wiring, params)
        for port, declares in component.disclosure.ports:
            info = outputs.get(port)
            if info is None:
                continue
            lineage = self._lineage(ctx, declares, info, resolve)
            self.lineages[(node_id, port)] = lineage
            for flow in self._flows(ctx, declares, info, lineage, resolve):
                self._add(node_id, component.key, port, *flow)

    def _info(self, source: tuple[str, str] | None) -> ArtifactInfo | None:
        """The inferred info of the output (node, port) wired into an input, if any."""
        return self.checked.infos.get(source[0], {}).get(source[1]) if source else None

    def _lineage(self, ctx, declares: Declares, info: ArtifactInfo, resolve) -> Lineage:
        if not info.columns:
            return {}
        refs = declares.lineage(ctx) if declares.lineage else _passthrough(ctx, info)
        return {
            key: resolve(refs.get(key, ())) for key in ((c.party, c.name) for c in info.columns)
        }

    def _flows(self, ctx, declares: Declares, info: ArtifactInfo, lineage: Lineage, resolve):
        if declares.parts:
            what = declares.parts_what
            what = what(ctx) if callable(what) else what
            for party in info.parties:
                used = frozenset().union(
                    *(lineage[(c.party, c.name)] for c in info.columns_at(party))
                )
                yield (party,), declares.parts_form, used, what, None, False
        for flow in declares.flows(ctx):
            flow: Flow
            used = resolve(flow.refs)
            yield flow.recipients, flow.form, used, flow.what, flow.k, flow.during_run

    def _add(self, node_id, component, port, recipients, form, used, what, k, during) -> None:
        if form == Form.NONE:
            return
        rows = self._rows(used)
        for recipient in recipients:
            for column in used:
                if column.party == recipient:
                    continue
                key = (column.party, recipient, node_id, port, form, what, k, during)
                entry = self.entries.get(key)
                if entry is None:
                    entry = Entry(column.party, recipient, node_id, component, port, form, what, k)
                    entry.during_run = during
                    self.entries[key] = entry
                entry.columns.add(column)
                entry.rows = _smaller(entry.rows, rows)

    def _rows(self, used) -> int | None:
        counts = [
            self.datasets[c.dataset_id]["rows"] for c in used if c.dataset_id in self.datasets
        ]
        counts = [count for count in counts if count is not None]
        return min(counts) if counts else None


class _Resolver:
    """Turns a node's refs (input columns, or its dataset's columns) into source columns."""

    def __init__(self, builder: PlanBuilder, wiring: dict, params: dict):
        self.builder, self.wiring, self.params = builder, wiring, params

    def __call__(self, refs) -> frozenset[SourceColumn]:
        found: set[SourceColumn] = set()
        for ref in refs:
            ref: Ref
            if ref.port == DATASET:
                found |= self._dataset_column(ref)
            elif ref.port in self.wiring:
                lineage = self.builder.lineages.get(self.wiring[ref.port], {})
                found |= lineage.get((ref.party, ref.name), frozenset())
        return frozenset(found)

    def _dataset_column(self, ref: Ref) -> set[SourceColumn]:
        source = self.builder.sources.get(self.params.get("dataset"))
        if source is None:
            return set()
        self.builder.datasets[source.dataset_id] = {
            "name": source.name,
            "party": source.party,
            "authorization": source.authorization_id,
            "rows": source.rows,
        }
        return {
            SourceColumn(source.party, source.dataset_id, column.name, column.role)
            for column in source.columns
            if column.name == ref.name
        }


def _passthrough(ctx: DisclosureContext, info: ArtifactInfo) -> dict:
    """A column derives from the input column(s) of the same party and name."""
    refs: dict[tuple[str, str], tuple[Ref, ...]] = {}
    for column in info.columns:
        key = (column.party, column.name)
        refs[key] = tuple(
            Ref(port, column.party, column.name)
            for port, given in ctx.inputs.items()
            if given is not None and any((c.party, c.name) == key for c in given.columns)
        )
    return refs


def _smaller(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def build_plan(graph: Graph, checked, sources: dict, parties, min_group: int) -> Plan:
    """The disclosure plan of a (validated) graph; nodes with problems contribute nothing."""
    return PlanBuilder(graph, checked, sources, parties, min_group).build()
