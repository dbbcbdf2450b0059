"""Pipeline graphs as plain data: parsing, order, cycles and run scopes (no ORM).

Saved JSON (what the canvas and export/import exchange):

    {"nodes": [{"id": "n1", "component": "read/dataset", "version": "1.0.0",
                "params": {...}, "position": {"x": 0, "y": 0}}],
     "edges": [{"source": {"node": "n1", "port": "output_ds"},
                "target": {"node": "n2", "port": "input_ds"}}]}

`parse_graph` rejects only malformed documents (they cannot be saved); everything a user can
get wrong on a well-formed graph is reported by `workflows.validation`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workflows.messages import translatable

NODE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_NODES = 500


class GraphFormatError(ValueError):
    """The graph document is malformed; the message (a `workflows.messages` message, read in
    each reader's language) says where."""


class Scope(StrEnum):
    ALL = "all"
    NODE = "node"
    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"


@dataclass(frozen=True)
class Node:
    id: str
    component: str
    version: str | None
    params: dict[str, Any]
    position: dict[str, float]


@dataclass(frozen=True)
class Edge:
    source: str
    source_port: str
    target: str
    target_port: str

    def to_dict(self) -> dict:
        return {
            "source": {"node": self.source, "port": self.source_port},
            "target": {"node": self.target, "port": self.target_port},
        }


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def inputs_of(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.target == node_id]

    def children(self, node_id: str) -> set[str]:
        return {e.target for e in self.edges if e.source == node_id and e.target in self.nodes}

    def parents(self, node_id: str) -> set[str]:
        return {e.source for e in self.edges if e.target == node_id and e.source in self.nodes}

    def reachable(self, node_id: str, downstream: bool) -> set[str]:
        """`node_id` and every node downstream (or upstream) of it."""
        seen, stack = {node_id}, [node_id]
        while stack:
            current = stack.pop()
            following = self.children(current) if downstream else self.parents(current)
            for other in following - seen:
                seen.add(other)
                stack.append(other)
        return seen

    def order(self) -> tuple[list[str], set[str]]:
        """Topological order of the nodes outside cycles, and the set of nodes on or behind one.

        Kahn's algorithm; ties are broken by insertion order so runs are reproducible.
        """
        indegree = dict.fromkeys(self.nodes, 0)
        outgoing = defaultdict(list)
        for edge in self.edges:
            if edge.source in self.nodes and edge.target in self.nodes:
                indegree[edge.target] += 1
                outgoing[edge.source].append(edge.target)
        ready = [node_id for node_id, degree in indegree.items() if degree == 0]
        ordered = []
        while ready:
            current = ready.pop(0)
            ordered.append(current)
            for target in outgoing[current]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        return ordered, set(self.nodes) - set(ordered)

    def scope(self, scope: Scope, node_id: str | None) -> set[str]:
        if scope == Scope.ALL:
            return set(self.nodes)
        if node_id not in self.nodes:
            raise GraphFormatError(
                translatable(
                    "scope %(scope)s needs a node of the pipeline, not %(node)s",
                    scope=str(scope),
                    node=repr(node_id),
                )
            )
        if scope == Scope.NODE:
            return {node_id}
        return self.reachable(node_id, downstream=scope == Scope.DOWNSTREAM)

    def to_dict(self) -> dict:
        return {
            "nodes": [
                {
                    "id": node.id,
                    "component": node.component,
                    "version": node.version,
                    "params": node.params,
                    "position": node.position,
                }
                for node in self.nodes.values()
            ],
            "edges": [edge.to_dict() for edge in self.edges],
        }


def parse_graph(data: Any) -> Graph:
    if not isinstance(data, dict):
        raise GraphFormatError(translatable("the graph must be an object with 'nodes' and 'edges'"))
    nodes, edges = data.get("nodes", []), data.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise GraphFormatError(translatable("'nodes' and 'edges' must be lists"))
    if len(nodes) > MAX_NODES:
        raise GraphFormatError(
            translatable(
                "a pipeline has at most %(limit)s nodes, not %(count)s",
                limit=MAX_NODES,
                count=len(nodes),
            )
        )
    graph = Graph()
    for index, raw in enumerate(nodes):
        node = _parse_node(index, raw)
        if node.id in graph.nodes:
            raise GraphFormatError(
                translatable("node id %(node)s is used twice", node=repr(node.id))
            )
        graph.nodes[node.id] = node
    graph.edges = [_parse_edge(index, raw, graph) for index, raw in enumerate(edges)]
    return graph


def _parse_node(index: int, raw: Any) -> Node:
    if not isinstance(raw, dict):
        raise GraphFormatError(translatable("nodes[%(index)s] is not an object", index=index))
    node_id, component = raw.get("id"), raw.get("component")
    if not isinstance(node_id, str) or not NODE_ID.match(node_id):
        raise GraphFormatError(
            translatable(
                "nodes[%(index)s].id %(node)s is not a valid id", index=index, node=repr(node_id)
            )
        )
    if not isinstance(component, str) or not component:
        raise GraphFormatError(
            translatable("node %(node)s: 'component' must be a component key", node=repr(node_id))
        )
    version, params = raw.get("version"), raw.get("params", {})
    if version is not None and not isinstance(version, str):
        raise GraphFormatError(
            translatable("node %(node)s: 'version' must be text", node=repr(node_id))
        )
    if not isinstance(params, dict):
        raise GraphFormatError(
            translatable("node %(node)s: 'params' must be an object", node=repr(node_id))
        )
    position = raw.get("position") or {"x": 0, "y": 0}
    if not isinstance(position, dict) or not all(
        isinstance(position.get(axis), int | float) for axis in ("x", "y")
    ):
        raise GraphFormatError(
            translatable("node %(node)s: 'position' must be {'x': n, 'y': n}", node=repr(node_id))
        )
    position = {"x": position["x"], "y": position["y"]}
    return Node(node_id, component, version, params, position)


def _parse_edge(index: int, raw: Any, graph: Graph) -> Edge:
    ends = []
    for end in ("source", "target"):
        value = raw.get(end) if isinstance(raw, dict) else None
        if not isinstance(value, dict) or not all(
            isinstance(value.get(key), str) for key in ("node", "port")
        ):
            raise GraphFormatError(
                translatable(
                    "edges[%(index)s].%(end)s must be {'node': id, 'port': name}",
                    index=index,
                    end=end,
                )
            )
        if value["node"] not in graph.nodes:
            raise GraphFormatError(
                translatable(
                    "edges[%(index)s].%(end)s names unknown node %(node)s",
                    index=index,
                    end=end,
                    node=repr(value["node"]),
                )
            )
        ends.append(value)
    return Edge(ends[0]["node"], ends[0]["port"], ends[1]["node"], ends[1]["port"])
