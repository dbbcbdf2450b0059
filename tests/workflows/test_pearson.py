"""stats/pearson against numpy's corrcoef (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import PartyFailure
from tests.workflows.helpers import run_component, table
from workflows import redaction
from workflows.components import registry
from workflows.components.checks import CheckFailed
from workflows.components.params import ParamEnv, ParamError

PARTIES = ("alice", "bob", "carol")
TOLERANCE = 1e-3  # fixed point with 18 fraction bits, inverse square root on shares


def frames(rows: int = 500, seed: int = 12) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=rows)
    return {
        "alice": pd.DataFrame(
            {
                "income": 50_000 + 9_000 * base + rng.normal(0, 4_000, rows),
                "age": rng.integers(18, 80, rows),
            }
        ),
        "bob": pd.DataFrame({"spend": 0.002 * (base + rng.normal(0, 0.5, rows))}),
        "carol": pd.DataFrame(
            {"claims": -3 * base + rng.normal(0, 2, rows), "flag": rng.random(rows) < 0.3}
        ),
    }


def test_it_matches_numpy_corrcoef_across_three_parties(tmp_path):
    given = frames()
    data = table(tmp_path / "in", given, {})
    names = ["income", "age", "spend", "claims", "flag"]
    out = run_component(tmp_path, "stats/pearson", {"features": names}, {"input_ds": data}, PARTIES)
    report = out["report"].read_json("carol")
    joined = pd.concat(given.values(), axis=1)[report["features"]].astype(float)
    expected = np.corrcoef(joined.to_numpy(), rowvar=False)
    np.testing.assert_allclose(report["matrix"], expected, atol=TOLERANCE)
    assert report["parties"]["spend"] == "bob"
    assert set(out["report"].files) == set(PARTIES)


def test_it_refuses_a_constant_column_at_its_party(tmp_path):
    given = {"alice": pd.DataFrame({"a": [1.0, 2.0, 3.0]}), "bob": pd.DataFrame({"b": [4.0] * 3})}
    data = table(tmp_path / "in", given, {})
    with pytest.raises(PartyFailure, match="constant") as failure:
        run_component(tmp_path, "stats/pearson", {"features": ["a", "b"]}, {"input_ds": data})
    assert failure.value.party == "bob"


def test_it_needs_two_numeric_feature_columns(tmp_path):
    given = {"alice": pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]})}
    info = table(tmp_path / "in", given, {}).info
    features = registry().get("stats/pearson").param("features")
    env = ParamEnv(parties=PARTIES, inputs={"input_ds": info})
    with pytest.raises(ParamError, match="at least 2"):
        features.clean(["a"], env)
    with pytest.raises(ParamError, match="type 'str'"):
        features.clean(["a", "s"], env)


def test_many_rows_keep_full_precision_stated_in_the_log(tmp_path):
    """140,000 rows (beyond 2^16, where Z^T Z's sum would outgrow the truncation's range at 18
    fraction bits): the scaled product keeps 18 bits, stated in the log, and matches numpy."""
    rows = 140_000
    rng = np.random.default_rng(5)
    base = rng.normal(size=rows)
    given = {
        "alice": pd.DataFrame({"a": base + rng.normal(0, 1, rows)}),
        "bob": pd.DataFrame({"b": -base + rng.normal(0, 0.5, rows)}),
    }
    data = table(tmp_path / "in", given, {})
    logs: list[str] = []
    params = {"features": ["a", "b"]}
    out = run_component(tmp_path, "stats/pearson", params, {"input_ds": data}, logs=logs)
    assert any("Pearson correlation: FM64 with 18 fraction bits" in line for line in logs), logs
    expected = np.corrcoef(given["alice"]["a"], given["bob"]["b"])[0, 1]
    assert out["report"].read_json("bob")["matrix"][0][1] == pytest.approx(expected, abs=1e-3)


def test_an_extreme_outlier_in_many_rows_fails_naming_the_parties_not_the_columns(tmp_path):
    """One outlier among 100,000 equal values: the rescaled variance (64 / n) is below the
    inverse square root's domain; the node fails, no silent garbage. Which column is to blame
    is secret (one bit opened for every column), so the one text every party reads names the
    parties whose columns feed the correlation, and no column."""
    rows = 100_000
    spike = np.zeros(rows)
    spike[7] = 1.0
    given = {
        "alice": pd.DataFrame({"spike": spike}),
        "bob": pd.DataFrame({"b": np.random.default_rng(1).normal(size=rows)}),
    }
    data = table(tmp_path / "in", given, {})
    params = {"features": ["spike", "b"]}
    with pytest.raises(CheckFailed) as failure:
        run_component(tmp_path, "stats/pearson", params, {"input_ds": data})
    message = str(failure.value)
    assert message == str(failure.value.public)
    assert message.startswith(
        "Pearson correlation stopped at a range check (operation rsqrt) on values computed "
        "from the data of alice and bob"
    ), message
    assert "spike" not in message
    assert "bob's b" not in message


def test_an_outlier_in_one_partys_columns_alone_is_that_partys_failure(tmp_path):
    """Only alice's columns: the refused value derives from her data alone, so the failure is
    hers: her users read the operation and the column; bob reads that alice's data is out of
    range, not which column."""
    rows = 100_000
    spike = np.zeros(rows)
    spike[7] = 1.0
    given = {
        "alice": pd.DataFrame({"spike": spike, "a": np.random.default_rng(2).normal(size=rows)}),
        "bob": pd.DataFrame({"b": np.random.default_rng(1).normal(size=rows)}),
    }
    data = table(tmp_path / "in", given, {})
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path, "stats/pearson", {"features": ["spike", "a"]}, {"input_ds": data})
    assert failure.value.party == "alice"
    refusal = failure.value.error
    assert "alice's spike, a" in str(refusal)
    assert "operation rsqrt" in str(refusal)
    public = str(refusal.public)
    assert public == str(redaction.range_public("alice", "Pearson correlation", computed=True))
    assert "spike" not in public


def test_the_plan_is_stated_in_the_log_and_large_raw_columns_stay_on_fm64(tmp_path):
    """Columns in the billions need no 128-bit ring here: each party rescales its own columns
    before sharing, and the log says which precision the plan picked."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=2_000)
    given = {
        "alice": pd.DataFrame({"revenue": 3e9 + 8e8 * base + rng.normal(0, 2e8, 2_000)}),
        "bob": pd.DataFrame({"costs": 1e10 - 5e8 * base + rng.normal(0, 4e8, 2_000)}),
    }
    data = table(tmp_path / "in", given, {})
    logs: list[str] = []
    out = run_component(
        tmp_path,
        "stats/pearson",
        {"features": ["revenue", "costs"]},
        {"input_ds": data},
        ("alice", "bob"),
        "alice",
        logs,
    )
    planned = [line for line in logs if line.startswith("precision for Pearson correlation: ")]
    assert planned, logs
    assert "FM64 with 18 fraction bits" in planned[0], planned
    joined = pd.concat(given.values(), axis=1).to_numpy()
    expected = np.corrcoef(joined, rowvar=False)
    np.testing.assert_allclose(out["report"].read_json("bob")["matrix"], expected, atol=TOLERANCE)
