"""A whole pipeline at scale: read x2 -> PSI -> split -> scaler x2 -> SS-LR -> predict -> eval.

Two parties (alice: id, 10 features and the 0/1 label; bob: id and 10 features; 20 features
in all, on very different scales so that scaling matters), 90% of ids in common. Each size runs
in a fresh process with a throwaway console (SQLite, node storage in a temporary directory):

1. the datasets are uploaded through the dataset service, as a user's upload is (profile, and
   the conversion to a typed Arrow table: `upload_s`, not part of the pipeline);
2. the pipeline runs through the executor, exactly as `Run all` in the console runs it; a
   sampler thread records the process's resident memory every 20 ms;
3. scikit-learn fits LogisticRegression on the same train rows (the split's outputs, scaled
   the same way) and scores the same test rows, for the AUC next to the pipeline's.

Per node: wall seconds (the executor's start and finish), peak resident memory while it ran,
bytes sent per party, bytes written to disk per party. In the embedded deployment every party
runs in the one process, so "peak memory" is all parties together (each party's share is at
most that); bytes per party come from the engine's links.

`--processes` (network mode): after the same upload, alice and bob each run the graph in their
own `manage.py runpart` process over the engine's mutual-TLS links on loopback
(`party_processes.py`, the machinery of `network_pipeline.py`), reading the uploaded datasets
from their own storage; no executor or database is involved in the run. Each party process's
resident memory is sampled every 20 ms: `peak_rss_mib_per_party` overall and per node (the
node's window at that party), `..._with_workers` adding its descendants (PSI's worker pool);
per node also `wall_s_per_party`, bytes sent and written per party; `processes_wall_s` from
starting the processes to the last exit (Python and Django start-up included), `run_s_per_party`
the workers' own. The AUC is checked against scikit-learn on the split's rows read from each
party's storage.

Prints one JSON object: `{"benchmark": "pipeline_scale", "sizes": [...]}`. Sizes: `--rows`
(default 100000 and 1000000 per party); `--quick` runs 100000 only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTIES = ("alice", "bob")
FEATURES_PER_PARTY = 10
OVERLAP = 0.9
TRAINING = {"epochs": 3, "learning_rate": 0.3, "batch_size": 4096, "sig_type": "real"}
SAMPLE_SECONDS = 0.02
GENERATE_ROWS = 1_000_000  # customers generated and written at a time (bounded memory)


# --- Parent: one child process per size ------------------------------------------------------


def run_size(rows: int, processes: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PRIVPAD_BENCH_DATA_DIR"}
    command = [sys.executable, str(Path(__file__)), "--child", str(rows)]
    command += ["--processes"] if processes else []
    done = subprocess.run(
        command, env=env, stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{rows} rows failed (exit {done.returncode}; its errors above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="100,000 rows per party only")
    parser.add_argument(
        "--processes",
        action="store_true",
        help="alice and bob each in their own process over mutual-TLS links (network mode)",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.processes)))
        return
    sizes = [100_000] if args.quick else args.rows
    results = []
    for rows in sizes:
        load = os.getloadavg()
        result = run_size(rows, args.processes)
        results.append(result | {"load_average_before": [round(v, 2) for v in load]})
    print(
        json.dumps({"benchmark": "pipeline_scale", "cpu_count": os.cpu_count(), "sizes": results})
    )


# --- Child: one size -------------------------------------------------------------------------


def make_data(rows: int, directory: Path) -> dict[str, Path]:
    """alice's and bob's CSVs; features of very different scales, label from all 20.

    Written `GENERATE_ROWS` customers at a time, so that memory stays bounded at any size:
    customer k (0 <= k < 2 x rows) has a random 16-digit id and 20 values drawn in customer
    order; alice holds customers 0 .. rows-1, bob the first 90% of those and customers from
    `rows` on, each party's file in customer order (ids in random order).
    """
    import numpy as np

    rng = np.random.default_rng(2024)
    common = int(OVERLAP * rows)
    everyone = 2 * rows - common
    ids = rng.permutation(2 * rows)[:everyone] + 10**15  # kept exact as int64
    scales = np.geomspace(0.01, 1000, 2 * FEATURES_PER_PARTY)
    weights = rng.normal(size=2 * FEATURES_PER_PARTY)
    paths = {party: directory / f"{party}.csv" for party in ("alice", "bob")}
    for start in range(0, everyone, GENERATE_ROWS):
        stop = min(everyone, start + GENERATE_ROWS)
        z = rng.normal(size=(stop - start, 2 * FEATURES_PER_PARTY))
        logits = z @ weights / np.sqrt(len(weights)) * 2
        label = (rng.random(stop - start) < 1 / (1 + np.exp(-logits))).astype(np.int64)
        values = z * scales + 5 * scales
        customers = np.arange(start, stop)
        at_alice, at_bob = customers < rows, (customers < common) | (customers >= rows)
        for party, held, offset in (("alice", at_alice, 0), ("bob", at_bob, FEATURES_PER_PARTY)):
            columns = {"id": ids[start:stop][held]}
            for j in range(FEATURES_PER_PARTY):
                columns[f"{party[0]}{j}"] = values[held, offset + j].round(4)
            if party == "alice":
                columns["y"] = label[held]
            _append_csv(paths[party], columns, header=start == 0)
    return paths


def _append_csv(path: Path, columns: dict, header: bool) -> None:
    import pandas as pd

    pd.DataFrame(columns).to_csv(path, index=False, header=header, mode="w" if header else "a")


def upload(user, path: Path, name: str):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from console.datasets import services
    from workflows.actors import Actor

    upload = TemporaryUploadedFile(path.name, "text/csv", path.stat().st_size, "utf-8")
    try:
        with path.open("rb") as source:
            while block := source.read(1 << 22):
                upload.file.write(block)
        upload.file.flush()
        upload.file.seek(0)
        return services.create_dataset(Actor.for_user(user), upload, name)
    finally:
        upload.close()


def authorise(user, dataset, project) -> None:
    from console.datasets import services
    from console.datasets.policies import set_policy
    from console.demo.pipeline import DEMO_POLICIES
    from workflows.actors import Actor

    roles = dict.fromkeys(dataset.column_names, "feature") | {"id": "id"}
    if "y" in roles:
        roles["y"] = "label"
    actor = Actor.for_user(user)
    authorization = services.authorize_dataset(actor, dataset, project, roles)
    # The demo's standing policies allow what this pipeline discloses (PSI membership, model
    # shares, bob's row-level contribution to alice's predictions), as a user would set them.
    set_policy(actor, authorization, DEMO_POLICIES[user.username])


def graph(datasets: dict[str, int]) -> dict:
    features = [f"{p}{j}" for p in "ab" for j in range(FEATURES_PER_PARTY)]

    def node(node_id: str, component: str, **params) -> dict:
        return {"id": node_id, "component": component, "params": params}

    def edge(source: str, port: str, target: str, target_port: str) -> dict:
        return {
            "source": {"node": source, "port": port},
            "target": {"node": target, "port": target_port},
        }

    return {
        "nodes": [
            node("read_alice", "read/dataset", dataset=datasets["alice"]),
            node("read_bob", "read/dataset", dataset=datasets["bob"]),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("split", "data_prep/train_test_split", train_size=0.75, test_size=0.25),
            node("scale_train", "preprocessing/scaler", features=features),
            node("scale_test", "preprocessing/scaler", features=features),
            node("train", "ml.train/ss_lr", features=features, label="y", **TRAINING),
            node("predict", "ml.predict/ss_lr", receiver="alice", save_label=True),
            node("evaluate", "ml.eval/binary_classification", label="y", prediction="pred"),
        ],
        "edges": [
            edge("read_alice", "output_ds", "psi", "input_ds1"),
            edge("read_bob", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "split", "input_ds"),
            edge("split", "train_ds", "scale_train", "input_ds"),
            edge("split", "test_ds", "scale_test", "input_ds"),
            edge("scale_train", "output_rule", "scale_test", "input_rule"),
            edge("scale_train", "output_ds", "train", "input_ds"),
            edge("train", "output_model", "predict", "input_model"),
            edge("scale_test", "output_ds", "predict", "input_ds"),
            edge("predict", "output_ds", "evaluate", "input_ds"),
        ],
    }


class MemorySampler:
    """Resident memory of this process every SAMPLE_SECONDS, with wall-clock times."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with open("/proc/self/statm", encoding="ascii") as statm:
            while not self._stop.is_set():
                statm.seek(0)
                self.samples.append((time.time(), int(statm.read().split()[1]) * self._page))
                time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        inside = [rss for at, rss in self.samples if start <= at <= end]
        return max(inside, default=0)


def sklearn_auc(run) -> float:
    """scikit-learn on the split's own rows: fit on train, score test (same scaling rule)."""
    from workflows.models import Artifact
    from workflows.tabular.files import read_frame

    def frames(port: str) -> dict:
        parts = Artifact.objects.filter(node_run__run=run, node_run__node_id="split", port=port)
        return {
            a.party: read_frame(
                a.path, [c["name"] for c in a.info["columns"] if c["party"] == a.party]
            )
            for a in parts
        }

    return sklearn_auc_of(frames("train_ds"), frames("test_ds"))


def sklearn_auc_of(train: dict, test: dict) -> float:
    """Fit LogisticRegression on the train rows (alice's and bob's frames side by side,
    standardised) and score the test rows."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    def joined(frames: dict):
        alice, bob = frames["alice"], frames["bob"]
        x = np.hstack(
            [
                alice.drop(columns=["id", "y"]).to_numpy(float),
                bob.drop(columns=["id"]).to_numpy(float),
            ]
        )
        return x, alice["y"].to_numpy(int)

    x_train, y_train = joined(train)
    x_test, y_test = joined(test)
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(x_train), y_train)
    return float(roc_auc_score(y_test, model.predict_proba(scaler.transform(x_test))[:, 1]))


def _say(message: str) -> None:
    """Progress on stderr (a long size shows where it is; stdout carries the JSON)."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def child(rows: int, processes: bool) -> dict:
    sys.path.insert(0, str(HERE))
    from demo_console import cleanup  # sets up a throwaway console on import

    try:
        return measure(rows, processes)
    finally:
        cleanup()


def measure(rows: int, processes: bool = False) -> dict:
    from demo_console import load_demo

    load_demo()
    from django.conf import settings

    from console.accounts.models import User
    from console.projects.models import Project
    from workflows import executor, services
    from workflows.messages import render
    from workflows.models import Artifact, Pipeline, Status

    settings.PRIVPAD_UPLOAD_MAX_BYTES = 1 << 40
    users = {name: User.objects.get(username=name) for name in ("alice", "bob")}
    project = Project.objects.first()
    with tempfile.TemporaryDirectory(prefix="privpad-scale-") as scratch:
        paths = make_data(rows, Path(scratch))
        _say(f"{rows} rows per party generated")
        datasets, upload_s = {}, {}
        for party, path in paths.items():
            start = time.perf_counter()
            datasets[party] = upload(users[party], path, f"scale_{party}")
            upload_s[party] = round(time.perf_counter() - start, 2)
            authorise(users[party], datasets[party], project)
    if processes:
        _say(f"uploaded in {upload_s} s; running the pipeline, one process per party")
        return measure_processes(rows, project, {p: d.pk for p, d in datasets.items()}, upload_s)
    pipeline = Pipeline.objects.create(
        project=project, name="scale", graph=graph({p: d.pk for p, d in datasets.items()})
    )
    checked_graph = services.checked_graph(pipeline.graph)
    checked = services.validate_pipeline(pipeline, checked_graph)
    run = services.create_run(pipeline, checked_graph, checked, "all", None, False, users["alice"])
    _say(f"uploaded in {upload_s} s; running the pipeline")
    with MemorySampler() as memory:
        start = time.time()
        status = executor.execute_run(run.pk)
        wall = time.time() - start
    run.refresh_from_db()
    if status != Status.SUCCEEDED:
        failed = {n.node_id: n.message for n in run.nodes.all() if n.message}
        raise SystemExit(f"the run ended {status}: {run.message} {failed}")
    nodes = {}
    sent: dict[str, int] = {}
    for node in run.nodes.order_by("position"):
        begin, end = node.started_at.timestamp(), node.finished_at.timestamp()
        disk: dict[str, int] = {}
        for artifact in Artifact.objects.filter(node_run=node):
            disk[artifact.party] = disk.get(artifact.party, 0) + artifact.size_bytes
        nodes[node.node_id] = {
            "wall_s": round(end - begin, 3),
            "peak_rss_mib": round(memory.peak(begin, end) / 2**20, 1),
            "sent_bytes": node.comm_bytes,
            "disk_bytes": disk,
            "log": [render(line["message"], "en") for line in node.logs][:3],
        }
        for party, count in node.comm_bytes.items():
            sent[party] = sent.get(party, 0) + int(count)
    evaluation = Artifact.objects.get(
        node_run__run=run, node_run__node_id="evaluate", party="alice"
    )
    auc = json.loads(evaluation.path.read_text(encoding="utf-8"))["summary"]["auc"]
    return {
        "rows_per_party": rows,
        "features": 2 * FEATURES_PER_PARTY,
        "training": TRAINING,
        "upload_s": upload_s,
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(max(rss for _, rss in memory.samples) / 2**20, 1),
        "sent_bytes_per_party": sent,
        "nodes": nodes,
        "auc": round(auc, 4),
        "auc_sklearn": round(sklearn_auc(run), 4),
    }


def measure_processes(rows: int, project, datasets: dict[str, int], upload_s: dict) -> dict:
    """The same graph with alice and bob each in a `manage.py runpart` process over mutual-TLS
    links on loopback (`party_processes`), reading the datasets uploaded above from their own
    storage; memory per party process, per node while that party ran it."""
    from party_processes import run_in_processes

    from workflows.outputs import storage_root
    from workflows.party_jobs import PartyJob
    from workflows.ports import console_port

    sources = {
        pk: s for pk, s in console_port().sources(project.id).items() if pk in datasets.values()
    }
    storage = {party: storage_root(party) for party in PARTIES}

    def make_job(run_id: str, own: dict, party: str) -> PartyJob:
        return PartyJob(
            run_id=run_id,
            snapshot=graph(datasets),
            parties=PARTIES,
            sources=sources,
            storage=own,
            party=party,
            requested_by="alice",
        )

    with tempfile.TemporaryDirectory(prefix="privpad-scale-net-") as scratch:
        # A hang is ended after an hour, or a second per thousand rows at 10M and beyond.
        wall = max(3600.0, rows / 1000)
        ran = run_in_processes(make_job, PARTIES, storage, Path(scratch), "scale", wall)
    results = ran.results
    nodes = {node_id: _node_figures(ran, node_id) for node_id in results["alice"]["nodes"]}
    report = storage["alice"] / "runs" / "scale" / "evaluate" / "report.json"
    auc = json.loads(report.read_text(encoding="utf-8"))["summary"]["auc"]
    whole = {party: ran.memory.peak(party) for party in PARTIES}
    train, test = _split_frames(results, "train_ds"), _split_frames(results, "test_ds")
    return {
        "rows_per_party": rows,
        "features": 2 * FEATURES_PER_PARTY,
        "deployment": "processes",
        "training": TRAINING,
        "upload_s": upload_s,
        "processes_wall_s": round(ran.wall_s, 2),
        "run_s_per_party": {p: round(r["seconds"], 2) for p, r in results.items()},
        "setup_s_per_party": {p: round(r["setup_seconds"], 2) for p, r in results.items()},
        "peak_rss_mib_per_party": {p: _mib(peak["process"]) for p, peak in whole.items()},
        "peak_rss_mib_per_party_with_workers": {
            p: _mib(peak["with_workers"]) for p, peak in whole.items()
        },
        "sent_bytes_per_party": {
            p: sum(node["sent_bytes"][p] for node in nodes.values()) for p in PARTIES
        },
        "nodes": nodes,
        "auc": round(auc, 4),
        "auc_sklearn": round(sklearn_auc_of(train, test), 4),
    }


def _node_figures(ran, node_id: str) -> dict:
    """One node at every party: its wall time there, the party process's peak memory while
    it ran, the bytes the party sent and the files it wrote."""
    outcomes = {party: ran.results[party]["nodes"][node_id] for party in PARTIES}
    peaks = {party: ran.node_peak(node_id, party) for party in PARTIES}
    return {
        "wall_s": round(max(o["seconds"] for o in outcomes.values()), 3),
        "wall_s_per_party": {p: round(o["seconds"], 3) for p, o in outcomes.items()},
        "peak_rss_mib_per_party": {p: _mib(peak["process"]) for p, peak in peaks.items()},
        "peak_rss_mib_per_party_with_workers": {
            p: _mib(peak["with_workers"]) for p, peak in peaks.items()
        },
        "sent_bytes": {p: sum(o["bytes_sent"].values()) for p, o in outcomes.items()},
        "disk_bytes": {
            p: sum(
                Path(f).stat().st_size for files in o["outputs"].values() for f in files.values()
            )
            for p, o in outcomes.items()
        },
    }


def _split_frames(results: dict, port: str) -> dict:
    """The split's `port` output as each party wrote it in its own storage."""
    from workflows.tabular.files import open_table, to_pandas

    return {
        party: to_pandas(open_table(results[party]["nodes"]["split"]["outputs"][port][party]))
        for party in PARTIES
    }


def _mib(size: int) -> float:
    return round(size / 2**20, 1)


if __name__ == "__main__":
    main()
