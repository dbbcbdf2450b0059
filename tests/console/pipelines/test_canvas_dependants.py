"""Column choices on the canvas follow upstream changes (static/console/js/canvas/
dependants.js through model.js), run by Node on the real component catalogue and the credit-risk
template built over the demo parties' schemas.

The starting point is the situation of issue 10: the template was made while alice had no
dataset, so her read node, PSI keys and label were empty and the feature lists held only bob's
and carol's columns. Choosing alice's dataset must bring her features into the fill, scale and
training steps, her ID column into PSI and her label into training. The cases live in
canvas_dependants_cases.mjs; each reports null (passed) or its failure message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from console.demo.data import demo_tables
from workflows import starters
from workflows.components import registry
from workflows.components.schema import Column
from workflows.ports import SourceTable

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "static/console/js/canvas/model.js"
CASES = Path(__file__).with_name("canvas_dependants_cases.mjs")
NODE = shutil.which("node")
TYPES = {"i": "int", "f": "float", "b": "bool"}


def source(dataset_id: int, party: str, name: str, frame, roles: dict) -> SourceTable:
    columns = tuple(
        Column(c, TYPES.get(frame[c].dtype.kind, "str"), party, roles.get(c, "feature"))
        for c in frame.columns
    )
    return SourceTable(dataset_id, name, party, Path("unused"), "", columns)


def demo_sources() -> list[SourceTable]:
    """The demo's three datasets (ids 1-3), an unlabelled second table of alice's without
    `age` (4), a table of bob's with two ID columns (5), one of carol's with an `income`
    column, as alice has (6), and one of carol's keyed by `policy_id` (7)."""
    tables = {table.party: table for table in demo_tables()}
    alice, bob, carol = tables["alice"], tables["bob"], tables["carol"]
    extra = alice.frame.drop(columns=["default_flag", "age"]).assign(savings=1.5)
    two_keys = bob.frame.assign(order_id="x")
    return [
        source(1, "alice", alice.name, alice.frame, {"customer_id": "id", alice.label: "label"}),
        source(2, "bob", bob.name, bob.frame, {"customer_id": "id"}),
        source(3, "carol", carol.name, carol.frame, {"customer_id": "id", "地区": "protected"}),
        source(4, "alice", "alice_extra", extra, {"customer_id": "id"}),
        source(5, "bob", "two_keys", two_keys, {"customer_id": "id", "order_id": "id"}),
        source(6, "carol", "with_income", carol.frame.assign(income=2.5), {"customer_id": "id"}),
        source(
            7,
            "carol",
            "by_policy",
            carol.frame.rename(columns={"customer_id": "policy_id"}),
            {"policy_id": "id", "地区": "protected"},
        ),
    ]


def page_dataset(table: SourceTable) -> dict:
    """As console/pipelines/page_data.py gives datasets to the page."""
    columns = [{"name": c.name, "type": c.type, "role": c.role} for c in table.columns]
    return {"id": table.dataset_id, "name": table.name, "party": table.party, "columns": columns}


def as_left_without_alice(graph: dict) -> dict:
    """The template as it came out when alice's dataset could not be chosen: her read, her
    PSI keys, the label, the receiver and the evaluation's label empty, and the feature lists
    without her columns (the five empty settings and the unscaled features of issue 10)."""
    nodes = {node["id"]: node["params"] for node in graph["nodes"]}
    read = next(i for i, p in nodes.items() if p.get("dataset") == 1)
    del nodes[read]["dataset"]
    del nodes["psi"][f"keys{read.removeprefix('read_')}"]
    for node_id, key in (("train", "label"), ("predict", "receiver"), ("evaluate", "label")):
        del nodes[node_id][key]
    alice = {"age", "income", "debt_ratio", "credit_lines", "late_payments_12m"}
    for params in nodes.values():
        if "features" in params:
            params["features"] = [name for name in params["features"] if name not in alice]
    return graph


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    if NODE is None:
        pytest.skip("node is not installed: the canvas cases need Node.js")
    sources = demo_sources()
    demo = {s.dataset_id: s for s in sources if s.dataset_id in (1, 2, 3)}
    graph = as_left_without_alice(starters.credit_risk(["alice", "bob", "carol"], demo).to_dict())
    fixture = {
        "components": registry().catalogue(),
        "datasets": [page_dataset(s) for s in sources],
        "template": graph,
    }
    path = tmp_path_factory.mktemp("canvas") / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    done = subprocess.run(
        [NODE, str(CASES), str(MODEL), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


CASE_NAMES = [
    "the template starts without alice",
    "choosing alice's dataset brings her features, keys and label downstream",
    "the whole change is one undo step",
    "all-features choices follow a dataset swap and a lost label is flagged",
    "a partial choice loses only the missing columns and is flagged stale",
    "editing a flagged setting clears its flag",
    "psi keys are pre-selected when each input has one id column",
    "psi keys are left to choose when an input has two id columns",
    "nothing past a model is guessed",
    "a name two parties hold is chosen once",
    "keys follow a renamed id column and stay when the old one remains",
]


def test_every_case_is_run(results):
    assert sorted(results) == sorted(CASE_NAMES)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_dependants_case(results, case):
    assert results[case] is None, f"{case}: {results[case]}"
