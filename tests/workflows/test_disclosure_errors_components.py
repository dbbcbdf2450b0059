"""Every component that reads data fails *at the party* whose data is bad, so the error's text
(which may quote a cell) stays that party's: others get `redaction.describe(...).public`.

For each component, alice's input is corrupted two ways: a parse error (a row with too many
fields, carrying a secret cell) and a type error (a secret text cell in a numeric column).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import PartyFailure
from tests.workflows.helpers import run_component, table
from workflows.components import registry
from workflows.components.context import ArtifactData
from workflows.components.params import DatasetParam
from workflows.redaction import describe

SECRET = "zz-secret-cell-4711"


def frames(rows: int = 40) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    alice = pd.DataFrame(
        {
            "id": [f"k{i:03d}" for i in range(rows)],
            "a1": rng.normal(0, 1, rows).round(3),
            "a2": rng.normal(5, 2, rows).round(3),
            "y": (np.arange(rows) % 2).astype(int),
        }
    )
    bob = pd.DataFrame(
        {"id": [f"k{i:03d}" for i in range(rows)], "b1": rng.normal(0, 1, rows).round(3)}
    )
    return {"alice": alice, "bob": bob}


def vertical(tmp_path: Path) -> ArtifactData:
    return table(tmp_path / "in", frames(), {"y": "label", "id": "id"})


def corrupt(data: ArtifactData, how: str) -> None:
    """Spoil alice's file: a type error in numeric column a1, or a row that cannot parse."""
    path = data.path("alice")
    frame = pd.read_csv(path, dtype=str)
    if how == "type":
        frame.loc[7, "a1"] = SECRET
        frame.loc[7, "y"] = SECRET
        frame.to_csv(path, index=False)
    else:
        # An unbalanced quote: no reader gets past it (not even one reading a single column).
        path.write_text(path.read_text() + f'"{SECRET},1,2\n')


def psi_inputs(tmp_path: Path) -> dict:
    parts = frames()
    return {
        f"input_ds{i + 1}": table(tmp_path / "in" / party, {party: frame}, {"id": "id"})
        for i, (party, frame) in enumerate(parts.items())
    }


CASES = {
    "data_prep/train_test_split": {},
    "data_filter/feature_filter": {"drop_features": ["a2"]},
    "preprocessing/fillna": {"features": ["a1", "a2"]},
    "preprocessing/scaler": {"features": ["a1", "a2"]},
    "preprocessing/vert_binning": {"features": ["a1", "a2"]},
    "stats/table_statistics": {},
    "stats/pearson": {"features": ["a1", "a2", "b1"]},
    "ml.train/ss_lr": {"features": ["a1", "b1"], "label": "y", "epochs": 1},
    "ml.eval/binary_classification": {"label": "y", "prediction": "a1"},
    "ml.eval/regression": {"label": "y", "prediction": "a1"},
}
# Components that only move rows do not convert cells: no type error can arise in them.
MOVES_ROWS = {"data_prep/train_test_split", "data_filter/feature_filter"}


def failure(tmp_path: Path, key: str, params: dict, inputs: dict) -> PartyFailure:
    with pytest.raises(PartyFailure) as raised:
        run_component(tmp_path, key, params, inputs)
    return raised.value


def assert_redacted(error: PartyFailure, node: str, secret_expected: bool) -> None:
    assert error.party == "alice"
    view = describe(error.error, node, error.party)
    view = view.__class__(view.error_class, view.party, str(view.full), str(view.public))
    assert SECRET not in view.public
    assert type(error.error).__name__ in view.public
    assert "alice" in view.public
    assert node in view.public
    if secret_expected:
        assert SECRET in view.full


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_parse_error_fails_at_the_party_and_reaches_others_redacted(tmp_path, key):
    data = vertical(tmp_path)
    corrupt(data, "parse")
    error = failure(tmp_path, key, CASES[key], {"input_ds": data})
    assert_redacted(error, "n1", secret_expected=False)


@pytest.mark.parametrize("key", sorted(set(CASES) - MOVES_ROWS))
def test_a_type_error_fails_at_the_party_and_reaches_others_redacted(tmp_path, key):
    data = vertical(tmp_path)
    corrupt(data, "type")
    error = failure(tmp_path, key, CASES[key], {"input_ds": data})
    assert_redacted(error, "n1", secret_expected=True)


@pytest.mark.parametrize("how", ["parse", "type"])
def test_psi_input_errors_fail_at_the_party(tmp_path, how):
    inputs = psi_inputs(tmp_path)
    path = inputs["input_ds1"].path("alice")
    if how == "parse":
        path.write_text(path.read_text() + f'"{SECRET},1\n')
    else:  # PSI compares key text: a key of any type is valid, a row of the wrong width is not
        path.write_text(path.read_text() + f"{SECRET},1,2,3,4\n")
    error = failure(tmp_path, "data_prep/psi", {"keys1": ["id"], "keys2": ["id"]}, inputs)
    assert_redacted(error, "psi", secret_expected=False)


def test_a_duplicate_psi_key_is_alices_alone(tmp_path):
    inputs = psi_inputs(tmp_path)
    path = inputs["input_ds1"].path("alice")
    frame = pd.read_csv(path, dtype=str)
    frame.loc[[3, 4], "id"] = SECRET
    frame.to_csv(path, index=False)
    error = failure(tmp_path, "data_prep/psi", {"keys1": ["id"], "keys2": ["id"]}, inputs)
    assert type(error.error).__name__ == "DuplicateKeyError"
    assert_redacted(error, "psi", secret_expected=True)


def test_ss_lr_prediction_input_errors_fail_at_the_party(tmp_path):
    data = vertical(tmp_path)
    params = {"features": ["a1", "b1"], "label": "y", "epochs": 1}
    model = run_component(tmp_path / "train", "ml.train/ss_lr", params, {"input_ds": data})
    scored = vertical(tmp_path / "score")
    corrupt(scored, "type")
    inputs = {"input_model": model["output_model"], "input_ds": scored}
    error = failure(tmp_path / "predict", "ml.predict/ss_lr", {"receiver": "alice"}, inputs)
    assert_redacted(error, "predict", secret_expected=True)


# Readers tried by the tests above outside CASES, and where read/dataset is tried.
TRIED_APART = {
    "data_prep/psi": "test_psi_input_errors_fail_at_the_party",
    "ml.predict/ss_lr": "test_ss_lr_prediction_input_errors_fail_at_the_party",
    "read/dataset": "test_disclosure_errors_api.test_a_broken_dataset_file_fails_reading_at_alice",
}


def test_every_component_that_reads_data_is_tried():
    """A new component that reads a table (or a dataset) joins CASES or TRIED_APART."""
    readers = {
        component.key
        for component in registry()
        if any(kind.is_table for port in component.inputs for kind in port.types)
        or any(isinstance(param, DatasetParam) for param in component.params)
    }
    assert readers == set(CASES) | set(TRIED_APART)
