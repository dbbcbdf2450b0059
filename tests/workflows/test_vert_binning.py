"""preprocessing/vert_binning against numpy (no database): edges, bin indices, counts, rules,
bad inputs, and what another party receives (nothing of the owner's bins)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import PartyFailure
from tests.workflows.helpers import run_component, table
from tests.workflows.network.test_placement import OnlyHere
from workflows.components import registry
from workflows.components.library import vert_binning
from workflows.components.params import ParamEnv, ParamError
from workflows.components.schema import Column
from workflows.components.spec import InferContext
from workflows.graph import parse_graph
from workflows.ports import SourceTable
from workflows.reports.charts import views
from workflows.validation import validate

KEY = "preprocessing/vert_binning"
ROWS = 60


def reference_bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """numpy's histogram bins: [e_i, e_i+1), the last closed; outside values clipped to the
    outer bins; missing values -1."""
    found = np.clip(np.digitize(values, edges) - 1, 0, len(edges) - 2)
    return np.where(np.isnan(values), -1, found)


@pytest.fixture
def frames():
    rng = np.random.default_rng(7)
    income = rng.lognormal(8, 1, ROWS)
    income[[3, 17, 40]] = np.nan
    alice = pd.DataFrame(
        {
            "income": income,
            "age": rng.integers(18, 80, ROWS),
            "flat": np.full(ROWS, 2.5),
            "city": rng.choice(["x", "y"], ROWS),
        }
    )
    bob = pd.DataFrame({"spend": rng.normal(100, 30, ROWS), "visits": rng.integers(0, 3, ROWS)})
    return {"alice": alice, "bob": bob}


@pytest.fixture
def data(tmp_path, frames):
    return table(tmp_path / "in", frames, {})


def binned(tmp_path, data, params, inputs=None, **kwargs):
    return run_component(tmp_path, KEY, params, {"input_ds": data} | (inputs or {}), **kwargs)


def present(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=float)
    return values[~np.isnan(values)]


def test_equal_range_edges_bins_and_counts_are_numpys(tmp_path, frames, data):
    params = {"features": ["income", "age", "spend"], "binning_method": "eq_range", "bin_num": 7}
    out = binned(tmp_path, data, params)
    for party, names in {"alice": ["income", "age"], "bob": ["spend"]}.items():
        rule = out["output_rule"].read_json(party)
        assert (rule["kind"], rule["method"]) == ("binning", "eq_range")
        got = out["output_ds"].read_table(party)
        report = {row["column"]: row for row in out["report"].read_json(party)["columns"]}
        for name in names:
            values = frames[party][name].to_numpy(dtype=float)
            edges = np.histogram_bin_edges(present(frames[party][name]), bins=7)
            assert rule["columns"][name]["edges"] == edges.tolist()
            np.testing.assert_array_equal(got[name], reference_bins(values, edges))
            counts, _ = np.histogram(present(frames[party][name]), bins=edges)
            assert [b["count"] for b in report[name]["rule"]] == counts.tolist()
            assert [b["low"] for b in report[name]["rule"]] == edges[:-1].tolist()
            assert report[name]["missing"] == int(np.isnan(values).sum())
    # Columns not chosen pass through unchanged.
    alice = out["output_ds"].read_table("alice")
    assert alice["city"].tolist() == frames["alice"]["city"].tolist()
    np.testing.assert_array_equal(alice["flat"], frames["alice"]["flat"])


def test_quantile_edges_are_numpys_with_equal_edges_collapsed(tmp_path, frames, data):
    params = {"features": ["income", "visits"], "binning_method": "quantile", "bin_num": 5}
    out = binned(tmp_path, data, params)
    for party, name in (("alice", "income"), ("bob", "visits")):
        values = frames[party][name].to_numpy(dtype=float)
        edges = np.unique(np.quantile(present(frames[party][name]), np.linspace(0, 1, 6)))
        assert out["output_rule"].read_json(party)["columns"][name]["edges"] == edges.tolist()
        got = out["output_ds"].read_table(party)[name]
        np.testing.assert_array_equal(got, reference_bins(values, edges))
    # visits takes 3 values: 6 quantiles collapse to at most 3 distinct edges.
    visits = out["report"].read_json("bob")["columns"][0]
    assert visits["bins"] < 5
    assert sum(b["count"] for b in visits["rule"]) == ROWS


def test_missing_values_get_their_own_bin_and_the_column_its_type(tmp_path, frames, data):
    out = binned(tmp_path, data, {"features": ["income"]})
    got = out["output_ds"].read_table("alice")["income"]
    assert str(got.dtype) == "int64"
    assert got[[3, 17, 40]].tolist() == [-1, -1, -1]
    assert (got.drop([3, 17, 40]) >= 0).all()
    column = next(c for c in out["output_ds"].info.columns if c.name == "income")
    assert (column.type, column.missing) == ("int", False)


@pytest.mark.parametrize("method", ["eq_range", "quantile"])
def test_a_constant_column_is_one_bin(tmp_path, data, method):
    out = binned(tmp_path, data, {"features": ["flat"], "binning_method": method})
    assert out["output_rule"].read_json("alice")["columns"]["flat"]["edges"] == [2.5, 2.5]
    assert set(out["output_ds"].read_table("alice")["flat"]) == {0}
    (row,) = out["report"].read_json("alice")["columns"]
    assert row["rule"] == [{"bin": 0, "low": 2.5, "high": 2.5, "count": ROWS}]


def test_a_column_with_no_value_fails_at_its_owner(tmp_path):
    data = table(tmp_path / "in", {"bob": pd.DataFrame({"f": [np.nan, np.nan]})}, {})
    with pytest.raises(PartyFailure, match="'f' has no value to bin") as failure:
        binned(tmp_path, data, {"features": ["f"]})
    assert failure.value.party == "bob"


@pytest.mark.parametrize("method", ["eq_range", "quantile"])
def test_a_rule_bins_another_table_with_the_fitted_edges(tmp_path, frames, data, method):
    params = {"features": ["income", "spend"], "binning_method": method, "bin_num": 4}
    fitted = binned(tmp_path / "fit", data, params)
    # The test split: other rows, some beyond the fitted range on both sides.
    test = {
        "alice": frames["alice"].assign(income=frames["alice"]["income"] * 1.7 - 900),
        "bob": frames["bob"].assign(spend=frames["bob"]["spend"][::-1].to_numpy() + 40),
    }
    other = table(tmp_path / "in2", test, {})
    # Parameters of the applying node do not matter: the rule's edges are used.
    applying = {"features": ["income", "spend"], "binning_method": "eq_range", "bin_num": 9}
    out = binned(tmp_path / "apply", other, applying, {"input_rule": fitted["output_rule"]})
    for party, name in (("alice", "income"), ("bob", "spend")):
        rule = fitted["output_rule"].read_json(party)
        edges = np.array(rule["columns"][name]["edges"])
        expected = reference_bins(test[party][name].to_numpy(dtype=float), edges)
        np.testing.assert_array_equal(out["output_ds"].read_table(party)[name], expected)
        assert out["output_rule"].read_json(party) == rule
        assert out["report"].read_json(party)["method"] == method


def test_a_rule_of_another_kind_is_refused(tmp_path, data):
    scaler = run_component(
        tmp_path / "s", "preprocessing/scaler", {"features": ["income"]}, {"input_ds": data}
    )
    with pytest.raises(PartyFailure, match="'scaler' rule, not a binning rule") as failure:
        binned(
            tmp_path / "b", data, {"features": ["income"]}, {"input_rule": scaler["output_rule"]}
        )
    assert failure.value.party == "alice"


def clean(data, params: dict) -> dict:
    component = registry().get(KEY)
    env = ParamEnv(parties=("alice", "bob"), inputs={"input_ds": data.info})
    return {p.name: p.clean(params[p.name], env) for p in component.params if p.name in params}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"bin_num": 1}, "'bin_num': 1 is below the minimum 2"),
        ({"bin_num": 1001}, "'bin_num': 1001 is above the maximum 1000"),
        ({"bin_num": 2.5}, "'bin_num': 2.5 is not a whole number"),
        ({"binning_method": "kmeans"}, "'binning_method'"),
        ({"features": ["city"]}, "column 'city' has type 'str'; expected int or float"),
        ({"features": ["nowhere"]}, "column 'nowhere' does not exist"),
        ({"features": []}, "pick at least 1 column"),
    ],
)
def test_bad_parameters_are_refused_naming_the_problem(data, params, problem):
    with pytest.raises(ParamError, match=problem):
        clean(data, params)


def test_a_rule_that_misses_a_column_is_refused_naming_it(tmp_path, data):
    fitted = binned(tmp_path, data, {"features": ["income"]})
    component = registry().get(KEY)
    inputs = {"input_ds": data.info, "input_rule": fitted["output_rule"].info}
    params = {"features": ["income", "age", "spend"]}
    problems = component.check(InferContext(params, inputs, ParamEnv(("alice", "bob"))))
    assert [str(problem) for problem in problems] == [
        "the input rule does not cover age, spend: bin them with the rule's node"
    ]
    # Run anyway (a stale rule file): refused at the party, naming the columns.
    with pytest.raises(PartyFailure, match="does not cover age") as failure:
        binned(tmp_path / "run", data, params, {"input_rule": fitted["output_rule"]})
    assert failure.value.party == "alice"


def test_without_report_rules_the_report_holds_only_bin_counts(tmp_path, data):
    out = binned(tmp_path, data, {"features": ["income"], "report_rules": False})
    (row,) = out["report"].read_json("alice")["columns"]
    assert row == {"column": "income", "party": "alice", "bins": 10, "missing": 3}
    view = views(out["report"].read_json("alice"))
    assert view["charts"] == []
    assert [t["title"] for t in view["tables"]] == ["Binned columns"]


def test_bob_receives_nothing_of_alices_bins(tmp_path, frames, data):
    """bob, who started the run, owns spend; alice owns income and age."""
    params = {"features": ["income", "age", "spend"], "binning_method": "quantile"}
    out = binned(tmp_path, data, params, requested_by="bob")
    alice_rule = out["output_rule"].read_json("alice")
    secrets = {e for c in alice_rule["columns"].values() for e in c["edges"]}
    assert secrets & set(frames["alice"]["income"]) or secrets & set(frames["alice"]["age"])
    for port in ("output_ds", "output_rule", "report"):
        bob_file = out[port].files["bob"]
        text = Path(bob_file).read_text(encoding="utf-8", errors="replace")
        assert "income" not in text, port
        assert "age" not in text, port
        assert all(f"{edge!r}" not in text for edge in secrets if edge != int(edge)), port
        assert all(Path(f).parent.name == p for p, f in out[port].files.items())
    report = out["report"].read_json("bob")
    assert [row["column"] for row in report["columns"]] == ["spend"]
    assert set(out["output_rule"].read_json("bob")["columns"]) == {"spend"}


def test_the_disclosure_plan_sends_no_bins_to_another_party():
    columns = (Column("income", "float", "alice", "feature"),)
    source = SourceTable(1, "credit", "alice", Path("/nowhere"), "f1", columns)
    graph = {
        "nodes": [
            {"id": "read", "component": "read/dataset", "params": {"dataset": 1}},
            {"id": "bin", "component": KEY, "params": {"features": ["income"]}},
        ],
        "edges": [
            {
                "source": {"node": "read", "port": "output_ds"},
                "target": {"node": "bin", "port": "input_ds"},
            }
        ],
    }
    checked = validate(parse_graph(graph), registry(), ("alice", "bob"), {1: source})
    assert checked.ok, [p.to_dict() for p in checked.problems]
    assert [e for e in checked.plan.entries if e.node == "bin"] == []
    assert checked.infos["bin"]["report"].parties == ("alice",)


def test_the_owners_report_draws_rows_per_bin_and_lists_the_bins(tmp_path, frames, data):
    out = binned(tmp_path, data, {"features": ["income", "age"], "bin_num": 3})
    view = views(out["report"].read_json("alice"))
    income = view["charts"][0]
    assert income["title"] == "Rows per bin: income"
    bars = income["data"][0]
    assert bars["x"][-1] == "missing"
    assert bars["y"] == [*np.histogram(present(frames["alice"]["income"]), 3)[0].tolist(), 3]
    assert bars["x"][2].endswith("]")  # the last bin is closed
    summary, bins = view["tables"]
    assert summary["rows"][0] == ["income", "alice", "3", "3"]
    assert len(bins["rows"]) == 6


@pytest.mark.parametrize("bins", [3, 40, 1000])
def test_few_and_many_edges_give_numpys_bins(bins):
    """Both ways of finding bins (comparisons for few edges, a binary search for many)."""
    rng = np.random.default_rng(bins)
    values = np.concatenate([rng.normal(0, 1, 5000), [np.nan, -9.0, 9.0]])
    edges = np.histogram_bin_edges(values[:5000], bins=bins)
    values = np.concatenate([values, edges])  # every edge itself, on its bin's closed side
    found = vert_binning.bin_indices(values, edges.tolist())
    np.testing.assert_array_equal(found, reference_bins(values, edges))


def test_in_a_network_run_each_party_bins_and_writes_only_its_own_columns(tmp_path, data):
    """alice's process: bob's file is not on her machine, and nothing of bob's is written."""
    data.files["bob"].unlink()
    params = {"features": ["income", "spend"], "binning_method": "quantile"}
    out = binned(tmp_path, data, params, placement=OnlyHere("alice"))
    assert {port: set(artifact.files) for port, artifact in out.items()} == {
        "output_ds": {"alice"},
        "output_rule": {"alice"},
        "report": {"alice"},
    }
    assert not (tmp_path / "out" / "bob").exists()


@pytest.mark.parametrize("edges", [[1.0], [3.0, 1.0], ["a", "b"], None])
def test_a_rule_with_broken_edges_is_refused_naming_the_column(edges):
    rule = {"kind": "binning", "method": "quantile", "columns": {"income": {"edges": edges}}}
    with pytest.raises(ValueError, match="edges of 'income' are not ascending numbers"):
        vert_binning.rule_for(rule, ["income"])
