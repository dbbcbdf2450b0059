"""Messages users read, in Simplified Chinese: validation problems, checks, disclosure
sentences and reports (field names, axes, traces), with English unchanged."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy
from rest_framework.test import APIClient

from tests.workflows.test_validation import check, edge, node, read
from workflows.components.checks import CheckFailed, check_losses, gaps_message
from workflows.components.library.binary_classification import evaluate
from workflows.disclosure.words import sentence
from workflows.messages import render
from workflows.reports.charts import views

ZH = "zh-hans"
ENTRY = {
    "recipient": "bob",
    "what": "prediction scores",
    "rows": 4800,
    "form": "row_level",
    "node": "predict",
    "columns": [{"party": "alice", "name": "income", "role": "feature"}],
}


def messages(nodes, edges=()) -> list[str]:
    return [problem.message for problem in check(nodes, edges)[1].problems]


def test_validation_problems_follow_the_active_language():
    nodes = [read(), node("fill", "preprocessing/fillna"), node("x", "nope/nothing")]
    edges = [edge("read", "output_ds", "fill")]
    with translation.override(ZH):
        chinese = messages(nodes, edges)
    with translation.override("en"):
        english = messages(nodes, edges)
    assert "未知组件 nope/nothing" in chinese
    assert any(text.startswith("参数“") and text.endswith("”为必填项") for text in chinese)
    assert "unknown component nope/nothing" in english


def test_validation_in_chinese_through_the_api(pipeline_factory, bob_user):
    bob_user.language = ZH
    bob_user.save(update_fields=["language"])
    browser = APIClient()
    browser.force_login(bob_user)  # a session, as the canvas page validates
    pipeline = pipeline_factory({"nodes": [node("stats", "stats/table_statistics")], "edges": []})
    body = browser.post(f"/api/v1/pipelines/{pipeline.pk}/validate/").json()
    (problem,) = body["problems"]
    assert problem["code"] == "missing_input"  # codes stay fixed
    assert problem["message"] == "必需的输入“input_ds”未连接"


def test_check_failures_and_fixes_are_chinese():
    with translation.override(ZH), pytest.raises(CheckFailed) as failed:
        check_losses([0.6, float("nan")], "logistic", "")
    # Read in the reader's language, whichever was active when it was raised.
    assert render(failed.value.message, ZH) == (
        "训练损失不是数值：训练已崩溃。修复：对特征做标准化（在此节点前加 Scaler）或降低学习率。"
    )
    gaps = render(gaps_message(gettext_lazy("SS-LR training"), {"alice": ["age", "income"]}), ZH)
    assert gaps.startswith("alice 的 age、income 可能含有缺失值")  # the reader's list separator
    assert "逻辑回归训练 不接受缺失值" in gaps


def test_a_disclosure_sentence_in_chinese_keeps_names_and_numbers():
    with translation.override(ZH):
        text = sentence(ENTRY)
    assert text == "bob 收到：预测分数，最多 4,800 行［行级，节点 predict］，派生自您的列 income。"
    with translation.override("en"):
        assert sentence(ENTRY).startswith("bob receives: prediction scores over up to 4,800 rows")


def test_a_chinese_readers_report_names_fields_axes_and_traces_in_chinese():
    y = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    report = evaluate(y, np.linspace(0.9, 0.1, 8), 0.5, 4)
    with translation.override(ZH):
        view = views(report)
    roc = view["charts"][0]
    assert roc["layout"]["xaxis"]["title"]["text"] == "假正率"
    assert roc["layout"]["yaxis"]["title"]["text"] == "召回率"
    assert roc["data"][1]["name"] == "随机"
    summary, confusion, bins = view["tables"][:3]
    assert summary["columns"] == ["名称", "值"]
    assert [row[0] for row in summary["rows"]] == ["样本总数", "正样本数", "负样本数", "AUC", "KS"]
    assert "F1 分数" in [row[0] for row in confusion["rows"]]
    assert bins["columns"][:3] == ["分箱", "计数", "正样本数"]
    with translation.override("en"):
        assert [row[0] for row in views(report)["tables"][0]["rows"]][:2] == [
            "samples",
            "positives",
        ]


def test_feature_names_that_look_like_fields_stay_as_they_are():
    report = {
        "kind": "pearson",
        "features": ["mean", "count"],
        "parties": {"mean": "alice", "count": "bob"},
        "matrix": [[1.0, 0.5], [0.5, 1.0]],
    }
    with translation.override(ZH):
        (table,) = views(report)["tables"]
    assert table["columns"] == ["特征", "mean (alice)", "count (bob)"]


def test_the_html_report_of_a_chinese_reader_names_statuses_forms_and_fields(
    credit_pipeline, alice
):
    from tests.workflows.runs import run_now
    from workflows.reports.render import render_run_report

    run = run_now(credit_pipeline)
    with translation.override(ZH):
        html = render_run_report(run, alice.pk)
    assert '<span class="status status-succeeded">成功</span>' in html
    assert "<td>聚合" in html  # the ledger's form
    assert "<td>样本总数</td>" in html
    config = json.loads(html.split('id="plotly-config" type="application/json">')[1].split("<")[0])
    assert config["locale"] == "zh-hans"  # plotly's mode bar titles
    assert config["locales"]["zh-hans"]["dictionary"]["Download plot as a PNG"] == "下载图表为 PNG"
    assert ">succeeded<" not in html


def test_a_run_records_its_messages_for_each_readers_language(credit_pipeline, alice_user):
    from tests.workflows.runs import run_now
    from workflows.messages import render

    alice_user.language = ZH
    alice_user.save(update_fields=["language"])
    first = run_now(credit_pipeline, user=alice_user)
    read = first.nodes.get(node_id="read")
    (line,) = read.logs
    assert render(line["message"], ZH) == "已在 alice 处读取 credit 的 60 行、6 列"
    assert render(line["message"], "en") == "read 60 rows and 6 columns of credit at alice"
    again = run_now(credit_pipeline, reuse=True, user=alice_user)
    messages = {node.node_id: node.message for node in again.nodes.all()}
    assert render(messages["eval"], ZH) == f"复用了运行 {first.pk} 的输出"
    assert render(messages["eval"], "en") == f"reused the output of run {first.pk}"
    assert translation.get_language() == "en"  # the executor's language did not leak


def test_a_failure_at_a_party_is_described_to_the_others_in_chinese():
    from workflows.messages import render
    from workflows.redaction import describe

    error = describe(KeyError("income"), "train", "alice")
    assert render(error.public, ZH) == (
        "节点 train 中参与方 alice 处发生 KeyError：该参与方缺少此组件需要的列或键。"
        "详细信息仅向 alice 的用户显示。"
    )
    assert "income" not in render(error.public, ZH)
    assert "income" not in json.dumps(error.public.stored())


def test_a_disabled_partys_dataset_is_refused_in_chinese():
    from tests.workflows.test_validation import PARTIES, REGISTRY, SOURCES
    from workflows.graph import parse_graph
    from workflows.validation import validate

    graph = parse_graph({"nodes": [read()], "edges": []})
    with translation.override(ZH):
        result = validate(graph, REGISTRY, PARTIES, SOURCES, {"alice": "disabled"})
        (problem,) = [p for p in result.problems if p.code == "node_unavailable"]
        assert problem.message == "数据集 'credit' 属于 alice，其节点已禁用：不能使用其数据"


def test_a_malformed_graph_and_a_components_own_refusal_read_in_the_readers_language():
    """Errors with fixed wording are raised with a message (`workflows.messages.said_by`):
    stored, they read in each reader's language, not the language active when raised."""
    from workflows.graph import GraphFormatError, parse_graph
    from workflows.messages import said_by, stored_text, translatable
    from workflows.redaction import describe

    with translation.override("en"), pytest.raises(GraphFormatError) as malformed:
        parse_graph({"nodes": [{"id": "a b", "component": "x"}], "edges": []})
    refusal = stored_text(
        translatable("the pipeline is not valid: %(error)s", error=said_by(malformed.value))
    )
    assert render(refusal, "en") == "the pipeline is not valid: nodes[0].id 'a b' is not a valid id"
    assert render(refusal, ZH).endswith("nodes[0].id 'a b' 不是有效的 ID")
    with translation.override("en"):
        failed = describe(ValueError(translatable("the label must be 0 or 1")), "eval", "alice")
    assert render(stored_text(failed.full), ZH) == "ValueError：标签必须为 0 或 1"
    assert render(stored_text(failed.full), "en") == "ValueError: the label must be 0 or 1"
    assert "标签" not in render(stored_text(failed.public), ZH)  # the party's words stay hers
