"""Plaintext components on one party's table: seconds per component at 1M rows x 20 columns.

A table of `--rows` rows (an int64 id, 19 float features with 1% missing values, and a text
column) is written as the Arrow artifact a `read/dataset` node produces; then each plaintext
component runs on it through its own `run`, exactly as the executor calls it (no database):
train/test split, fill missing values, scaler (fit), scaler (apply a rule), binning (equal-range
and quantile fits, applying a rule), feature filter, table statistics, and `read/dataset`
itself from a converted dataset. Each is timed, wall and CPU seconds of the process (best of
`--repeat`; CPU time is far less disturbed by other programs on a shared machine), with the
peak resident memory of the process.

Prints one JSON object. `--quick` uses 100,000 rows.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Components carry lazy translations (labels, messages): Django's settings must be loaded to
# import them. No database is used; the settings' data directory is a throwaway one.
SETTINGS_SCRATCH = tempfile.mkdtemp(prefix="privpad-plain-settings-")
atexit.register(shutil.rmtree, SETTINGS_SCRATCH, ignore_errors=True)
os.environ["PRIVPAD_DATA_DIR"] = SETTINGS_SCRATCH
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from workflows.components import registry  # noqa: E402
from workflows.components.context import ArtifactData, RunContext  # noqa: E402
from workflows.components.params import ParamEnv  # noqa: E402
from workflows.components.schema import ArtifactInfo, Column  # noqa: E402
from workflows.components.spec import InferContext  # noqa: E402
from workflows.ports import SourceTable  # noqa: E402
from workflows.tabular.convert import table_path  # noqa: E402
from workflows.tabular.files import TableColumn, write_table  # noqa: E402

FEATURES = [f"f{j}" for j in range(19)]


def make_table(rows: int, directory: Path) -> tuple[ArtifactData, SourceTable]:
    rng = np.random.default_rng(1)
    data = {"id": np.arange(rows, dtype=np.int64) + 10**15}
    for name in FEATURES:
        values = rng.normal(50, 10, rows)
        values[rng.random(rows) < 0.01] = np.nan
        data[name] = values
    data["segment"] = pd.array(rng.choice(["a", "b", "c", "n/a"], rows), dtype="string")
    frame = pd.DataFrame(data)
    roles = {"id": "id", "segment": "feature"}
    columns = [
        Column(
            n,
            "int" if n == "id" else "str" if n == "segment" else "float",
            "alice",
            roles.get(n, "feature"),
        )
        for n in frame.columns
    ]
    stored = [TableColumn(c.name, c.type, c.party, c.role) for c in columns]
    artifact = directory / "input.arrow"
    write_table(artifact, frame, stored)
    # The same table as an uploaded dataset (its CSV is never read: the table is current).
    csv = directory / "dataset.csv"
    csv.write_text("unused\n")
    write_table(table_path(csv), frame, [TableColumn(c.name, c.type) for c in columns])
    source = SourceTable(1, "bench", "alice", csv, "print", tuple(columns), "utf-8")
    return ArtifactData(ArtifactInfo.table(columns), {"alice": artifact}), source


def run_component(
    key: str, params: dict, inputs: dict, source: SourceTable, out: Path
) -> tuple[float, float]:
    """Run one component; return (wall seconds, CPU seconds of this process)."""
    component = registry().get(key)
    infos = {port: data.info for port, data in inputs.items()}
    env = ParamEnv(parties=("alice",), inputs=infos, sources={1: source})
    cleaned = {
        p.name: p.clean(params[p.name], env) if p.name in params else p.default
        for p in component.params
    }
    outputs = component.infer(InferContext(cleaned, infos, env))
    context = RunContext(
        params=cleaned,
        parties=("alice",),
        inputs=inputs,
        infos=outputs,
        output_dir=lambda party: out / key.replace("/", "_") / party,
        sources={1: source},
    )
    start, cpu = time.perf_counter(), time.process_time()
    component.run(context)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    inputs["last"] = {
        port: ArtifactData(outputs[port], files) for port, files in context.written.items()
    }
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="privpad-plain-") as scratch:
        directory = Path(scratch)
        table, source = make_table(rows, directory)
        rule_inputs: dict = {"input_ds": table}
        run_component(
            "preprocessing/scaler", {"features": FEATURES}, rule_inputs, source, directory / "rule"
        )
        rule = rule_inputs["last"]["output_rule"]
        binning = {"features": FEATURES, "binning_method": "quantile"}
        bin_inputs: dict = {"input_ds": table}
        run_component("preprocessing/vert_binning", binning, bin_inputs, source, directory / "b")
        bins = bin_inputs["last"]["output_rule"]
        cases = {
            "read/dataset": ("read/dataset", {"dataset": 1}, {}),
            "data_prep/train_test_split": ("data_prep/train_test_split", {}, {"input_ds": table}),
            "preprocessing/fillna": (
                "preprocessing/fillna",
                {"features": FEATURES},
                {"input_ds": table},
            ),
            "preprocessing/scaler (fit)": (
                "preprocessing/scaler",
                {"features": FEATURES},
                {"input_ds": table},
            ),
            "preprocessing/scaler (apply rule)": (
                "preprocessing/scaler",
                {"features": FEATURES},
                {"input_ds": table, "input_rule": rule},
            ),
            "preprocessing/vert_binning (eq_range fit)": (
                "preprocessing/vert_binning",
                {"features": FEATURES},
                {"input_ds": table},
            ),
            "preprocessing/vert_binning (quantile fit)": (
                "preprocessing/vert_binning",
                binning,
                {"input_ds": table},
            ),
            "preprocessing/vert_binning (apply rule)": (
                "preprocessing/vert_binning",
                binning,
                {"input_ds": table, "input_rule": bins},
            ),
            "data_filter/feature_filter": (
                "data_filter/feature_filter",
                {"drop_features": FEATURES[:5]},
                {"input_ds": table},
            ),
            "stats/table_statistics": ("stats/table_statistics", {}, {"input_ds": table}),
        }
        seconds, cpu_seconds = {}, {}
        for name, (key, params, inputs) in cases.items():
            times = [
                run_component(key, params, dict(inputs), source, directory / f"r{i}")
                for i in range(args.repeat)
            ]
            seconds[name] = round(min(wall for wall, _ in times), 3)
            cpu_seconds[name] = round(min(cpu for _, cpu in times), 3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "plaintext_components",
                "rows": rows,
                "columns": 2 + len(FEATURES),
                "cpu_count": os.cpu_count(),
                "load_average_before": [round(v, 2) for v in load],
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "peak_rss_mib": round(peak, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
