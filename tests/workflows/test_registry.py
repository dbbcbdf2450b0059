"""The component registry, discovery and the catalogue served at /api/v1/components/."""

from __future__ import annotations

import dataclasses

import pytest

from workflows.components import discover, registry
from workflows.components.spec import DuplicateComponent, Registry

LIBRARY = {
    "read/dataset",
    "data_prep/train_test_split",
    "data_filter/feature_filter",
    "preprocessing/fillna",
    "preprocessing/scaler",
    "preprocessing/vert_binning",
    "stats/table_statistics",
    "ml.eval/binary_classification",
    "ml.eval/regression",
    "data_prep/psi",
    "ml.train/ss_lr",
    "ml.predict/ss_lr",
    "stats/pearson",
}


def test_discovery_registers_every_library_module():
    assert {component.key for component in registry()} == LIBRARY


def test_the_registry_rejects_a_duplicate_key_and_version():
    component = registry().get("stats/table_statistics")
    with pytest.raises(DuplicateComponent, match="stats/table_statistics version 1.0.0"):
        Registry([component, component])


def test_the_registry_keeps_versions_apart_and_defaults_to_the_latest():
    old = registry().get("stats/table_statistics")
    new = dataclasses.replace(old, version="1.10.0")
    both = Registry([old, new])
    assert both.get("stats/table_statistics").version == "1.10.0"
    assert both.get("stats/table_statistics", "1.0.0") is old
    assert both.get("stats/table_statistics", "9.9.9") is None


def test_a_declaration_with_two_parameters_of_one_name_is_refused():
    old = registry().get("preprocessing/scaler")
    with pytest.raises(ValueError, match="duplicate parameter"):
        dataclasses.replace(old, params=old.params + old.params[:1])


def test_discover_finds_only_modules_with_a_component():
    assert len(discover()) == len(LIBRARY)


@pytest.mark.django_db
def test_the_catalogue_describes_ports_parameters_and_defaults(api_bob):
    response = api_bob.get("/api/v1/components/")
    assert response.status_code == 200
    catalogue = {c["key"]: c for c in response.json()["components"]}
    assert set(catalogue) == LIBRARY
    split = catalogue["data_prep/train_test_split"]
    defaults = {p["name"]: p.get("default") for p in split["params"]}
    assert defaults == {
        "train_size": 0.75,
        "test_size": 0.25,
        "random_state": 1024,
        "shuffle": True,
    }
    assert split["inputs"][0]["types"] == ["table.individual", "table.vertical"]
    scaler = catalogue["preprocessing/scaler"]
    features = next(p for p in scaler["params"] if p["name"] == "features")
    assert (features["kind"], features["port"], features["roles"]) == (
        "columns",
        "input_ds",
        ["feature"],
    )
    assert scaler["outputs"][1]["types"] == ["rule"]


@pytest.mark.django_db
def test_the_catalogue_needs_login(api_anon):
    assert api_anon.get("/api/v1/components/").status_code == 401
