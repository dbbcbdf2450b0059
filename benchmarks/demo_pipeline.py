"""The demo pipeline end to end: wall time and orchestration overhead.

Sets up a throwaway console (SQLite in a temporary data directory) with `bootstrap_demo`, which
adds the demo pipeline of "Joint credit risk" (3-party PSI on 6,000 rows per party -> split ->
fillna -> scaler -> SS-LR training -> prediction -> evaluation, plus table statistics), and runs
it in this process through the executor. Each component's `run` is timed; the rest of the wall
time is orchestration (validation, fingerprints, run state in the database, events, artifact
rows). Also reported: seconds per component, bytes sent per party, the test AUC.

Prints one JSON object. `--quick` runs once instead of twice (the best run is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from demo_console import cleanup, load_demo, time_components


def run_once(pipeline, graph, spent: dict[str, float]) -> dict:
    from workflows import executor, services
    from workflows.models import Artifact, Status

    spent.clear()
    start = time.perf_counter()
    checked = services.validate_pipeline(pipeline, graph)
    run = services.create_run(pipeline, graph, checked, "all", None, False, None)
    status = executor.execute_run(run.pk)
    wall = time.perf_counter() - start
    if status != Status.SUCCEEDED:
        raise SystemExit(f"the demo run ended {status}: {run.message}")
    sent: dict[str, int] = {}
    for node in run.nodes.all():
        for party, count in node.comm_bytes.items():
            sent[party] = sent.get(party, 0) + count
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="evaluate", party="alice")
    auc = json.loads(report.path.read_text(encoding="utf-8"))["summary"]["auc"]
    return {"wall": wall, "spent": dict(spent), "sent": sent, "auc": auc}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run instead of two")
    args = parser.parse_args()

    load_demo()

    from console.demo.pipeline import PIPELINE_NAME
    from workflows import services
    from workflows.models import Pipeline

    spent: dict[str, float] = {}
    time_components(spent)
    pipeline = Pipeline.objects.get(name=PIPELINE_NAME)
    graph = services.checked_graph(pipeline.graph)
    runs = [run_once(pipeline, graph, spent) for _ in range(1 if args.quick else 2)]
    best = min(runs, key=lambda r: r["wall"])
    components = sum(best["spent"].values())
    print(
        json.dumps(
            {
                "benchmark": "demo_pipeline",
                "nodes": len(graph.nodes),
                "rows_per_party": 6000,
                "database": "sqlite",
                "cpu_count": os.cpu_count(),
                "runs": len(runs),
                "wall_s": round(best["wall"], 3),
                "components_s": round(components, 3),
                "orchestration_s": round(best["wall"] - components, 3),
                "component_s": {key: round(v, 3) for key, v in sorted(best["spent"].items())},
                "sent_bytes": best["sent"],
                "test_auc": round(best["auc"], 4),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
