"""What changed between two versions of a pipeline graph, for the audit log (pure)."""

from __future__ import annotations

from workflows.graph import Graph


def graph_changes(old: Graph, new: Graph) -> dict:
    """Nodes added, removed, and whose component or parameters changed; edges added/removed."""
    before, after = set(old.nodes), set(new.nodes)
    changed = sorted(
        node_id
        for node_id in before & after
        if (old.nodes[node_id].component, old.nodes[node_id].params)
        != (new.nodes[node_id].component, new.nodes[node_id].params)
    )
    old_edges, new_edges = set(old.edges), set(new.edges)
    changes = {
        "nodes_added": sorted(after - before),
        "nodes_removed": sorted(before - after),
        "nodes_changed": changed,
        "params": {
            node_id: _param_changes(old.nodes[node_id].params, new.nodes[node_id].params)
            for node_id in changed
        },
        "edges_added": len(new_edges - old_edges),
        "edges_removed": len(old_edges - new_edges),
    }
    return {key: value for key, value in changes.items() if value}


def _param_changes(old: dict, new: dict) -> dict:
    """{name: [old value, new value]} of parameters that differ (values are settings, not data)."""
    names = sorted(set(old) | set(new))
    return {
        name: [old.get(name), new.get(name)] for name in names if old.get(name) != new.get(name)
    }
