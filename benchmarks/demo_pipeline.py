"""The demo pipeline from the click: the API call that starts a run to the run's success.

Sets up a throwaway console (SQLite in a temporary data directory) with `bootstrap_demo`, which
adds the demo pipeline of "Joint credit risk" (3-party PSI on 6,000 rows per party -> split ->
fillna -> scaler -> SS-LR training -> prediction -> evaluation, plus table statistics). As a
user would, bob opens the pipeline's canvas (which starts the shared PSI workers in the
background, `workflows.services.warm_up_engines`) and clicks "Run all": the benchmark posts to
`/api/v1/pipelines/<id>/runs/` and waits for the run the embedded thread pool executes.

`wall_s` runs from that POST to the run's success. Per node (`node_s`): its wall seconds from
the run's rows (started_at to finished_at); `orchestration_s` is the wall time outside every
node (the request, validation, run state in the database, events, artifact rows). Each
component's `run` is timed as well (`component_s`). CPU seconds of the run (`cpu_s`) and of
each component (`component_cpu_s`) count this process's threads and the PSI worker processes:
on a machine shared with other jobs, wall times grow with the load while CPU seconds barely
move, and CPU seconds / `cpu_count` is the wall time an idle machine could reach if every core
were busy throughout. Also reported: bytes sent per party, the
test AUC and the load average before and after (the machine is shared: wall times grow with
the load, which `cpu_count` puts in scale).

Prints one JSON object. `--runs N` clicks N times (default 5) and reports the median and the
fastest run; the first click of a fresh server is reported apart (`first_click_s`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from demo_console import cleanup, cpu_seconds, load_demo, time_components


def open_canvas(client, pipeline) -> None:
    """Bob opens the canvas; he looks at it for a moment before clicking, by which time the
    PSI workers its page started are up (waited for here, so the figure does not depend on how
    long a person looks)."""
    from django.urls import reverse

    from core.psi.kernels import warm_shared_pool

    response = client.get(reverse("pipelines:canvas", args=[pipeline.pk]))
    if response.status_code != 200:
        raise SystemExit(f"the canvas answered {response.status_code}")
    warm_shared_pool()


def click_run(client, pipeline, spent: dict[str, float], cpu: dict[str, float]) -> dict:
    """POST "Run all" and wait for the run; its timings, traffic and test AUC."""
    from django_tasks import task_backends

    from workflows.models import Run, Status

    spent.clear()
    cpu.clear()
    used = cpu_seconds()
    start = time.perf_counter()
    response = client.post(f"/api/v1/pipelines/{pipeline.pk}/runs/", {}, "application/json")
    if response.status_code != 201:
        raise SystemExit(f"starting the run answered {response.status_code}: {response.content}")
    for future in list(task_backends["default"].futures.values()):
        future.result(timeout=600)
    wall = time.perf_counter() - start
    used = cpu_seconds() - used
    run = Run.objects.get(pk=response.json()["id"])
    if run.status != Status.SUCCEEDED:
        raise SystemExit(f"the demo run ended {run.status}: {run.message}")
    return {"wall": wall, "cpu": used, "spent": dict(spent), "cpu_spent": dict(cpu)} | run_figures(
        run
    )


def run_figures(run) -> dict:
    from workflows.models import Artifact

    nodes = sorted(run.nodes.all(), key=lambda node: node.started_at)
    node_s = {n.node_id: (n.finished_at - n.started_at).total_seconds() for n in nodes}
    sent: dict[str, int] = {}
    for node in nodes:
        for party, count in node.comm_bytes.items():
            sent[party] = sent.get(party, 0) + count
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="evaluate", party="alice")
    auc = json.loads(report.path.read_text(encoding="utf-8"))["summary"]["auc"]
    return {"node_s": node_s, "sent": sent, "auc": auc}


def summary(runs: list[dict], first: dict, graph, load_before: float) -> dict:
    best = min(runs, key=lambda r: r["wall"])
    walls = [r["wall"] for r in runs]
    return {
        "benchmark": "demo_pipeline",
        "measured": "from the API call that starts the run to the run's success",
        "nodes": len(graph.nodes),
        "rows_per_party": 6000,
        "database": "sqlite",
        "cpu_count": os.cpu_count(),
        "runs": len(runs),
        "first_click_s": round(first["wall"], 3),
        "wall_s": round(best["wall"], 3),
        "wall_median_s": round(statistics.median(walls), 3),
        "wall_runs_s": [round(w, 3) for w in walls],
        "orchestration_s": round(best["wall"] - sum(best["node_s"].values()), 3),
        "node_s": {key: round(v, 3) for key, v in best["node_s"].items()},
        "component_s": {key: round(v, 3) for key, v in sorted(best["spent"].items())},
        "cpu_s": round(best["cpu"], 3),
        "cpu_median_s": round(statistics.median(r["cpu"] for r in runs), 3),
        "component_cpu_s": {key: round(v, 3) for key, v in sorted(best["cpu_spent"].items())},
        "sent_bytes": best["sent"],
        "test_auc": round(best["auc"], 4),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="clicks after the first one")
    args = parser.parse_args()

    load_demo()

    from django.test import Client
    from django_tasks import task_backends

    from console.accounts.models import User
    from console.demo.pipeline import PIPELINE_NAME
    from workflows import services
    from workflows.models import Pipeline

    spent: dict[str, float] = {}
    cpu: dict[str, float] = {}
    time_components(spent, cpu)
    pipeline = Pipeline.objects.get(name=PIPELINE_NAME)
    graph = services.checked_graph(pipeline.graph)
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bob"))
    load_before = os.getloadavg()[0]
    open_canvas(client, pipeline)
    try:
        first = click_run(client, pipeline, spent, cpu)
        runs = [click_run(client, pipeline, spent, cpu) for _ in range(max(1, args.runs))]
    finally:
        task_backends["default"].shutdown()
    print(json.dumps(summary(runs, first, graph, load_before)))


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
