"""Pipeline orchestration overhead: a run's wall time minus the components' own time.

Sets up a throwaway console (SQLite in a temporary data directory, `bootstrap_demo`'s three
parties and datasets), builds a preparation pipeline per party (read -> split -> fillna ->
scaler -> table statistics: 15 nodes) and runs it in this process. Each component's `run` is
timed; the rest of the run's wall time is orchestration: validation, fingerprints, run state
written to the database and published as events, artifact rows.

Prints one JSON object. `--quick` runs once instead of three times.
"""

from __future__ import annotations

import argparse
import json
import time

from demo_console import cleanup, load_demo, time_components

STAGES = [
    ("r", "read/dataset"),
    ("split", "data_prep/train_test_split"),
    ("fill", "preprocessing/fillna"),
    ("scale", "preprocessing/scaler"),
    ("stats", "stats/table_statistics"),
]


def prep_graph(project) -> dict:
    from console.datasets.models import Authorization

    nodes, edges = [], []
    for authorization in Authorization.objects.filter(project=project, revoked_at__isnull=True):
        dataset, party = authorization.dataset, authorization.dataset.node.name
        roles = authorization.column_roles
        features = [
            c["name"]
            for c in dataset.columns
            if roles.get(c["name"]) == "feature" and c["type"] in ("int", "float")
        ]
        params = [{"dataset": dataset.pk}, {}, {"features": features}, {"features": features}, {}]
        for (stage, key), values in zip(STAGES, params, strict=True):
            nodes.append({"id": f"{stage}_{party}", "component": key, "params": values})
        for (before, _), (after, _) in zip(STAGES, STAGES[1:], strict=False):
            port = "train_ds" if before == "split" else "output_ds"
            edges.append(
                {
                    "source": {"node": f"{before}_{party}", "port": port},
                    "target": {"node": f"{after}_{party}", "port": "input_ds"},
                }
            )
    return {"nodes": nodes, "edges": edges}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run instead of three")
    args = parser.parse_args()

    load_demo()

    from console.projects.models import Project
    from workflows import executor, services
    from workflows.models import Pipeline, Status

    spent: dict[str, float] = {}
    time_components(spent)
    project = Project.objects.first()
    pipeline = Pipeline.objects.create(project=project, name="bench", graph=prep_graph(project))
    graph = services.checked_graph(pipeline.graph)
    rows = {a.dataset.node.name: a.dataset.row_count for a in project.authorizations.all()}

    walls, computes = [], []
    for _ in range(1 if args.quick else 3):
        spent.clear()
        checked = services.validate_pipeline(pipeline, graph)
        run = services.create_run(pipeline, graph, checked, "all", None, False, None)
        start = time.perf_counter()
        status = executor.execute_run(run.pk)
        walls.append(time.perf_counter() - start)
        computes.append(sum(spent.values()))
        assert status == Status.SUCCEEDED, status
    wall, compute = min(walls), computes[walls.index(min(walls))]
    print(
        json.dumps(
            {
                "benchmark": "pipeline_overhead",
                "nodes": len(graph.nodes),
                "rows_per_party": rows,
                "database": "sqlite",
                "runs": len(walls),
                "wall_s": round(wall, 3),
                "components_s": round(compute, 3),
                "orchestration_s": round(wall - compute, 3),
                "orchestration_per_node_ms": round(1000 * (wall - compute) / len(graph.nodes), 1),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
