"""Failures and warnings that explain themselves, through real runs (database, executor).

- The credit-risk pipeline with alice's income (hundreds of thousands) and age left unscaled
  fails at SS-LR training naming the columns and the fix, never "succeeded" with nonsense;
  the same pipeline with every feature scaled succeeds with scikit-learn's AUC.
- A failed node's reason is an error line of its log (streamed as `node.log`), and the run's
  message names the node by its component and id with that reason.
- Warnings are recorded on the node, logged, published as `node.warning` and shown by the API;
  one about a party's data (alice's unscaled columns) is read in full by that party's users
  only: bob, an adversarial member, reads that alice has a warning and nothing of her columns
  (not their names, not that they go beyond ±10) in the API, the log, the events, the run page
  or the report.
- Validation catches gaps the upload profile counted, and a label lost by *Save label*.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.workflows.conftest import edge, node
from tests.workflows.runs import run_now, statuses
from tests.workflows.unscaled_pipeline import authorise_datasets, credit_risk_graph, reference_auc
from workflows import events, redaction, services, state
from workflows.messages import render
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def datasets(alice, bob, project):
    return authorise_datasets(alice, bob, project)


def test_unscaled_income_fails_at_training_naming_the_columns_never_succeeds(
    pipeline_factory, datasets
):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])  # alice's left as they are
    seen: list[dict] = []
    with events.listening(seen.append):
        run = run_now(pipeline_factory(graph))
    assert run.status == Status.FAILED
    assert statuses(run)["train"] == Status.FAILED
    assert {statuses(run)[n] for n in ("predict", "evaluate")} == {Status.SKIPPED}
    train = run.nodes.get(node_id="train")
    # Everyone reads the failure: it points at alice's warning, which alone names her columns.
    fix = "Fix: add a scaler (Scaler, before this node) for the features that alice's warning"
    assert fix in render(train.message), train.message
    assert "income" not in train.message
    assert "income" not in train.public_message
    assert not render(train.message).startswith("CheckFailed")
    # FM64 cannot hold products of incomes in the hundreds of thousands: the plan takes FM128
    # (logged), the numbers are computed right, and the unscaled features make training diverge
    assert render(run.message).startswith("failed at SS-LR training (train): training diverged")
    train_logs = [render(line["message"]) for line in train.logs]
    assert any("precision for SS-LR training: FM128 with 26" in m for m in train_logs)
    # The reason is the node's last log line, an error, streamed to the log drawer.
    assert train.logs[-1]["level"] == "error"
    # (at alice: the loss is hers alone, and so are the checks on it; its words are public)
    assert render(train.logs[-1]["message"]) == f"failed at alice: {render(train.message)}"
    assert (train.party, train.public_message) == ("alice", train.message)
    streamed = [e for e in seen if e["type"] == "node.log" and e["node"] == "train"]
    assert streamed[-1]["line"]["level"] == "error"
    # The warning came first: on the node with its party, in the log and as an event with
    # the text every party may read (alice's users get hers from `logs_for` / the consumer).
    assert len(train.warnings) == 1
    assert train.warnings[0]["party"] == "alice"
    warning = render(train.warnings[0]["message"])
    assert warning.startswith("features not scaled at alice: income, age")
    public = redaction.warning_public("alice").stored()  # stored and sent as msgid + params
    logged = [line for line in train.logs if line["level"] == "warning"]
    assert [(line["message"], line["party"], line["warning"]) for line in logged] == [
        (public, "alice", 0)
    ]
    published = [e["warning"] for e in seen if e["type"] == "node.warning"]
    assert [(w["message"], w["party"], w["redacted"]) for w in published] == [
        (public, "alice", True)
    ]
    assert not any("not scaled" in json.dumps(e) for e in seen), "an event carried the text"
    assert not Artifact.objects.filter(node_run__run=run, node_run__node_id="predict").exists()


def test_the_same_pipeline_scaled_succeeds_with_scikit_learns_auc(pipeline_factory, datasets):
    loans, spend, joined = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["income", "age", "spend"])
    run = run_now(pipeline_factory(graph))
    failed = {n.node_id: n.message for n in run.nodes.all() if n.status != Status.SUCCEEDED}
    assert run.status == Status.SUCCEEDED, (run.message, failed)
    assert run.nodes.get(node_id="train").warnings == []
    train_logs = [render(line["message"]) for line in run.nodes.get(node_id="train").logs]
    assert any("precision for SS-LR training: FM64 with 18 fraction bits" in m for m in train_logs)
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="evaluate", party="bob")
    auc = json.loads(report.path.read_text(encoding="utf-8"))["summary"]["auc"]
    assert abs(auc - reference_auc(joined)) < 0.01


# What reveals alice's columns: their names, that they go beyond ±10, the warning's text.
ALICES_DETAILS = ("income", "not scaled", "±10", "\\u00b110", "go beyond")


def revealed(text: str) -> list[str]:
    return [detail for detail in ALICES_DETAILS if detail in text]


def unscaled_run(pipeline_factory, datasets):
    loans, spend, _ = datasets
    return run_now(pipeline_factory(credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])))


def test_bob_reads_that_alice_has_a_warning_not_her_columns_in_the_api(
    pipeline_factory, datasets, api_bob
):
    run = unscaled_run(pipeline_factory, datasets)
    body = api_bob.get(f"/api/v1/runs/{run.pk}/").json()
    train = next(n for n in body["nodes"] if n["node"] == "train")
    assert train["label"] == "SS-LR training"
    assert [(w["message"], w["party"], w["redacted"]) for w in train["warnings"]] == [
        (str(redaction.warning_public("alice")), "alice", True)
    ]
    seen = json.dumps({"warnings": train["warnings"], "logs": train["logs"]}, ensure_ascii=False)
    assert revealed(seen) == [], seen
    assert revealed(train["message"] + body["message"]) == []
    result = api_bob.get(f"/api/v1/runs/{run.pk}/nodes/train/").json()
    assert result["warnings"] == train["warnings"]
    assert result["logs"] == train["logs"]
    assert result["status"] == "failed"


def test_alice_reads_her_warning_in_full_with_the_fix_in_the_api(
    pipeline_factory, datasets, api_alice
):
    run = unscaled_run(pipeline_factory, datasets)
    body = api_alice.get(f"/api/v1/runs/{run.pk}/").json()
    train = next(n for n in body["nodes"] if n["node"] == "train")
    [warning] = train["warnings"]
    assert warning["message"].startswith("features not scaled at alice: income, age go beyond")
    assert (
        "Fix: add a scaler (Scaler, before this node) for alice's income, age"
        in (warning["message"])
    )
    assert (warning["party"], warning["redacted"]) == ("alice", False)
    logged = [line for line in train["logs"] if line["level"] == "warning"]
    assert [line["message"] for line in logged] == [warning["message"]]


def test_bob_reads_nothing_of_alices_columns_on_the_run_page(
    pipeline_factory, datasets, bob_client, alice_client
):
    run = unscaled_run(pipeline_factory, datasets)
    url = reverse("pipelines:run", args=[run.pk])
    data = json.loads(_run_data(bob_client.get(url).content.decode()))
    train = next(n for n in data["run"]["nodes"] if n["node"] == "train")
    seen = json.dumps({"warnings": train["warnings"], "logs": train["logs"]}, ensure_ascii=False)
    assert revealed(seen) == [], seen
    assert str(redaction.warning_public("alice")) in seen
    theirs = json.loads(_run_data(alice_client.get(url).content.decode()))
    train = next(n for n in theirs["run"]["nodes"] if n["node"] == "train")
    assert train["warnings"][0]["message"].startswith("features not scaled at alice: income")


def _run_data(page: str) -> str:
    """The canvas's starting state (`json_script`) on a run page."""
    start = page.index(">", page.index('id="canvas-data"')) + 1
    return page[start : page.index("</script>", start)]


def test_a_runtime_refusal_is_logged_as_an_error_and_named_in_the_run_message(
    pipeline_factory, datasets, bob_user
):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["income", "age", "spend"])
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["report_weights"] = True
    run = run_now(pipeline_factory(graph), user=bob_user)  # bob does not own the model
    train = run.nodes.get(node_id="train")
    message = render(train.message)
    assert message.startswith("PermissionError: report_weights reveals")
    assert message.endswith("(this run was started by bob)")
    assert train.logs[-1] == train.logs[-1] | {"level": "error"}
    assert render(train.logs[-1]["message"]) == f"failed: {message}"
    assert render(run.message) == f"failed at SS-LR training (train): {message}"
    assert render(run.message, "zh-hans").startswith(
        "在 逻辑回归训练（train）失败：PermissionError：report_weights 会向所有参与方公开"
    )


# --- validation -----------------------------------------------------------------------------


def problems(pipeline) -> list[dict]:
    return [p.to_dict() for p in services.validate_pipeline(pipeline).problems]


def test_gaps_the_profile_counted_are_refused_before_training(pipeline_factory, credit, shop):
    """alice's credit table has gaps in income (the upload profile counted 6)."""
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("train", "ml.train/ss_lr", features=["age", "income"], label="y"),
        ],
        "edges": [edge("read", "output_ds", "train", "input_ds")],
    }
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["code"], p["field"]) for p in found] == [
        ("train", "missing_values", "features")
    ]
    message = found[0]["message"]
    assert message.startswith("alice's income may have missing values")
    assert (
        "Fix: add a Fill missing values node (preprocessing/fillna) for alice's income" in message
    )


def test_a_fill_step_clears_the_gaps(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("fill", "preprocessing/fillna", features=["income"]),
            node("scale", "preprocessing/scaler", features=["income", "age"]),
            node("train", "ml.train/ss_lr", features=["age", "income"], label="y"),
        ],
        "edges": [
            edge("read", "output_ds", "fill", "input_ds"),
            edge("fill", "output_ds", "scale", "input_ds"),
            edge("scale", "output_ds", "train", "input_ds"),
        ],
    }
    assert problems(pipeline_factory(graph)) == []


def test_a_scaler_keeps_the_gaps_it_does_not_fill(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("scale", "preprocessing/scaler", features=["income", "age"]),
            node("eval", "ml.eval/binary_classification", label="y", prediction="income"),
        ],
        "edges": [
            edge("read", "output_ds", "scale", "input_ds"),
            edge("scale", "output_ds", "eval", "input_ds"),
        ],
    }
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["code"], p["field"]) for p in found] == [
        ("eval", "missing_values", "prediction")
    ]


def test_save_label_off_is_named_with_the_setting_to_turn_on(pipeline_factory, datasets):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["spend"], save_label=False)
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["field"]) for p in found] == [("evaluate", "label")]
    assert found[0]["message"] == (
        "the label 'y' is not in the predictions of predict: its 'Save label' setting is off. "
        "Fix: turn on 'Save label' in predict."
    )


def test_a_receiver_without_the_label_is_named(pipeline_factory, datasets):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])
    next(n for n in graph["nodes"] if n["id"] == "predict")["params"]["receiver"] = "bob"
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["field"]) for p in found] == [("evaluate", "label")]
    assert "held by alice, not by bob, the receiver of predict's predictions" in found[0]["message"]
    assert found[0]["message"].endswith("Fix: choose alice as the receiver in predict.")


def test_the_run_report_lists_warnings_and_marks_error_lines(
    pipeline_factory, datasets, api_bob, api_alice
):
    run = unscaled_run(pipeline_factory, datasets)
    html = api_bob.get(f"/api/v1/runs/{run.pk}/report/").content.decode()
    warnings = html[html.index('<ul class="warnings">') :]
    assert "Warning: a warning at alice about its own data" in warnings
    assert "ERROR  failed at alice: training diverged" in html
    assert "for the features that alice&#x27;s warning names" in html
    assert "not scaled" not in html
    assert "±10" not in html
    assert "alice&#x27;s income" not in html
    theirs = api_alice.get(f"/api/v1/runs/{run.pk}/report/").content.decode()
    assert "Warning: features not scaled at alice: income, age go beyond ±10" in theirs
    assert "WARNING  features not scaled at alice: income, age" in theirs


def test_a_repeated_warning_is_recorded_once(pipeline_factory, datasets):
    loans, spend, _ = datasets
    run = run_now(pipeline_factory(credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])))
    train = run.nodes.get(node_id="train")
    lines = len(train.logs)
    state.add_node_warning(train, train.warnings[0]["message"], "alice")
    train.refresh_from_db()
    assert (len(train.warnings), len(train.logs)) == (1, lines)
    with pytest.raises(ValueError, match="log level 'loud'"):
        state.add_node_log(train, "x", "loud")


def test_a_reused_output_keeps_its_warnings(pipeline_factory, datasets):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["income", "age", "spend"])
    pipeline = pipeline_factory(graph)
    first = run_now(pipeline)
    state.add_node_warning(first.nodes.get(node_id="train"), "a warning about the model")
    again = run_now(pipeline, reuse=True)
    train = again.nodes.get(node_id="train")
    assert train.reused_from.run_id == first.pk
    assert [w["message"] for w in train.warnings] == ["a warning about the model"]
    assert train.logs[0] | {"time": None} == {
        "time": None,
        "message": "a warning about the model",
        "level": "warning",
    }


def test_a_table_to_score_with_gaps_is_refused_at_the_prediction(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("fill", "preprocessing/fillna", features=["income"]),
            node("train", "ml.train/ss_lr", features=["age", "income"], label="y"),
            node("predict", "ml.predict/ss_lr", receiver="alice"),
        ],
        "edges": [
            edge("read", "output_ds", "fill", "input_ds"),
            edge("fill", "output_ds", "train", "input_ds"),
            edge("train", "output_model", "predict", "input_model"),
            edge("read", "output_ds", "predict", "input_ds"),  # not filled
        ],
    }
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["code"]) for p in found] == [("predict", "invalid_params")]
    assert found[0]["message"].startswith("alice's income may have missing values")
    assert "SS-LR prediction refuses them" in found[0]["message"]
