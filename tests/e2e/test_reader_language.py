"""A run started by an English-speaking user, read by a Chinese-speaking member in a real
browser: the failure, its log lines and the redacted warning are in Chinese on bob's run page
(`workflows.messages`: stored as msgid and params, worded for each reader), and still tell bob
nothing of alice's columns (`workflows.redaction`).

A screenshot is saved under tests/e2e/artifacts/ (gitignored) for review.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, log_in
from tests.e2e.test_canvas_runs import node_body, open_canvas
from tests.e2e.test_run_explanations import VIEWPORT, make_pipeline, unscaled  # noqa: F401
from tests.workflows.runs import run_now
from tests.workflows.unscaled_pipeline import credit_risk_graph
from workflows.models import Status


def test_a_chinese_member_reads_an_english_users_failed_run_in_chinese(
    asgi_live_server,
    unscaled,  # noqa: F811
    new_page,
):
    graph = credit_risk_graph(unscaled["loans"].pk, unscaled["spend"].pk, scaled=["spend"])
    pipeline = make_pipeline(unscaled, graph, "Credit risk, income unscaled")
    run = run_now(pipeline, user=unscaled["alice"])  # alice_admin reads English
    assert run.status == Status.FAILED
    bob = unscaled["bob"]
    bob.language = "zh-hans"
    bob.save(update_fields=["language"])

    base, page = asgi_live_server.url, new_page()
    page.set_viewport_size(VIEWPORT)
    log_in(page, base, "bob_admin")
    open_canvas(page, base, f"/pipelines/runs/{run.pk}/")
    page.locator(".log-toggle").click()
    error = page.locator('.log-lines li[data-node="train"][data-level="error"]')
    expect(error).to_contain_text("失败：训练发散：最后一轮的损失超过未训练模型的 2 倍")
    expect(error).to_contain_text("为 alice 的警告中列出的特征添加标准化节点")
    warning = page.locator('.log-lines li[data-node="train"][data-level="warning"]')
    expect(warning).to_contain_text("alice 处关于其自身数据的警告")
    node_body(page, "train").dblclick()
    results = page.locator("#panel-results")
    expect(results.locator(".result-error")).to_contain_text("训练发散")
    expect(results.locator(".result-warnings")).to_contain_text("alice 处关于其自身数据的警告")
    read = page.locator('.log-lines li[data-node="read_alice"]').first
    expect(read).to_contain_text("已在 alice 处读取")
    for where in (error, warning, results):
        text = where.inner_text()
        assert "income" not in text, text
        assert "training diverged" not in text, text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "run-read-in-chinese-1440.png"))
