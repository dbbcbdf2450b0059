"""Model zips, CSV downloads and the report of a joint run: PSI -> fillna -> scaler -> SS-LR,
and Pearson.

The engine components run their parties in threads, which SQLite's in-memory test database
only tolerates with real transactions (hence `transaction=True`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from tests.workflows.conftest import edge, node
from tests.workflows.runs import run_now
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db(transaction=True)

FEATURES = ["age", "income", "spend"]


@pytest.fixture
def joint_run(pipeline_factory, credit, shop, alice_user):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("shop", "read/dataset", dataset=shop.pk),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("fill", "preprocessing/fillna", features=["income"]),
            # Unscaled, SS-LR diverges (age up to 69) and fails its loss check.
            node("scale", "preprocessing/scaler", features=FEATURES),
            node("corr", "stats/pearson", features=FEATURES),
            node(
                "train",
                "ml.train/ss_lr",
                features=FEATURES,
                label="y",
                epochs=4,
                report_weights=True,
            ),
        ],
        "edges": [
            edge("read", "output_ds", "psi", "input_ds1"),
            edge("shop", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "fill", "input_ds"),
            edge("fill", "output_ds", "corr", "input_ds"),
            edge("fill", "output_ds", "scale", "input_ds"),
            edge("scale", "output_ds", "train", "input_ds"),
        ],
    }
    # Started by alice, the label holder: only she may reveal the weights.
    run = run_now(pipeline_factory(graph, name="Joint model"), user=alice_user)
    assert run.status == Status.SUCCEEDED, [(n.node_id, n.message) for n in run.nodes.all()]
    return run


def model_of(run, party: str) -> Artifact:
    return Artifact.objects.get(
        node_run__run=run, node_run__node_id="train", kind="model", party=party
    )


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_it_zips_the_manifest_and_only_the_requesters_part(joint_run, api_alice):
    model = model_of(joint_run, "alice")
    response = api_alice.get(f"/api/v1/artifacts/{model.pk}/model.zip")
    expected = f'filename="privpad-run-{joint_run.pk}-train-alice-model.zip"'
    assert expected in response["Content-Disposition"]
    files = unzip(response)
    assert set(files) == {"manifest.json", "parts/alice.json"}
    assert files["parts/alice.json"] == model.path.read_bytes()
    manifest = json.loads(files["manifest.json"])
    assert manifest["component"] == "ml.train/ss_lr"
    assert manifest["version"] == joint_run.nodes.get(node_id="train").version
    assert manifest["parameters"]["epochs"] == 4
    assert manifest["feature_columns"] == {"alice": ["age", "income"], "bob": ["spend"]}
    assert manifest["label"] == {"name": "y", "party": "alice"}
    assert len(manifest["metrics"]["loss"]) == manifest["metrics"]["epochs_run"] >= 1
    assert manifest["part"] == {"party": "alice", "file": "parts/alice.json"}


def test_each_party_downloads_its_own_part_and_no_other(joint_run, api_bob, api_carol, api_anon):
    alice_model, bob_model = model_of(joint_run, "alice"), model_of(joint_run, "bob")
    assert api_bob.get(f"/api/v1/artifacts/{alice_model.pk}/model.zip").status_code == 404
    assert api_carol.get(f"/api/v1/artifacts/{bob_model.pk}/model.zip").status_code == 404
    assert api_anon.get(f"/api/v1/artifacts/{bob_model.pk}/model.zip").status_code == 401
    files = unzip(api_bob.get(f"/api/v1/artifacts/{bob_model.pk}/model.zip"))
    assert set(files) == {"manifest.json", "parts/bob.json"}
    assert files["parts/bob.json"] != alice_model.path.read_bytes()


def test_only_models_download_as_a_model_zip(joint_run, api_alice):
    table = Artifact.objects.get(
        node_run__run=joint_run, node_run__node_id="psi", port="output_ds", party="alice"
    )
    assert api_alice.get(f"/api/v1/artifacts/{table.pk}/model.zip").status_code == 404


def test_a_joint_table_downloads_as_csv_by_each_owner_only(joint_run, api_alice, api_bob):
    parts = Artifact.objects.filter(
        node_run__run=joint_run, node_run__node_id="psi", port="output_ds"
    )
    bob_part = parts.get(party="bob")
    response = api_bob.get(f"/api/v1/artifacts/{bob_part.pk}/download/")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "id,spend"
    assert len(lines) == 61
    assert api_alice.get(f"/api/v1/artifacts/{bob_part.pk}/download/").status_code == 404


def chart_specs(html: str) -> dict:
    blocks = re.findall(
        r'<script id="chart-\d+" type="application/json">(.*?)</script>', html, re.S
    )
    return {spec["title"]: spec for spec in map(json.loads, blocks)}


def test_the_report_has_loss_weights_and_the_correlation_heatmap(joint_run, api_bob, api_alice):
    # The loss per epoch is drawn in the label holder's (alice's) report only.
    alices = api_alice.get(f"/api/v1/runs/{joint_run.pk}/report/").content.decode()
    assert len(chart_specs(alices)["Loss per epoch"]["data"][0]["y"]) >= 1
    html = api_bob.get(f"/api/v1/runs/{joint_run.pk}/report/").content.decode()
    specs = chart_specs(html)
    assert "Loss per epoch" not in specs
    assert set(specs["Feature weights"]["data"][0]["y"]) == {
        "alice.age",
        "alice.income",
        "bob.spend",
    }
    heatmap = specs["Correlation matrix (Pearson)"]["data"][0]
    assert heatmap["x"] == ["age (alice)", "income (alice)", "spend (bob)"]
    assert [row[i] for i, row in enumerate(heatmap["z"])] == pytest.approx([1, 1, 1], abs=1e-2)
    assert "Your part (bob)" in html
    assert "Your part (alice)" not in html
