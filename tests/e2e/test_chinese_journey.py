"""The demo walked in Simplified Chinese: switch the language on the login page, log in, the
dashboard, the project, the demo pipeline's canvas (palette with SecretPad's names), a run of
the whole pipeline over the websocket, and the evaluation's results, all in Chinese.

Screenshots of each step land in tests/e2e/artifacts/ (gitignored) to be looked at: Chinese
glyphs need a CJK font in the browser's machine (`make system-deps` installs one).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from console.accounts.models import User
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.pages_helpers import DEMO_PASSWORD, demo_world

VIEWPORT = {"width": 1600, "height": 1000}
RUN_TIMEOUT_MS = 240_000


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"zh-{name}.png"), full_page=False)


def test_the_demo_in_chinese(asgi_live_server, new_page, settings, tmp_path):
    world = demo_world(settings, tmp_path, run=False)
    base, page = asgi_live_server.url, new_page()
    page.set_viewport_size(VIEWPORT)

    # Before logging in: the switcher on the login page (a cookie for the anonymous browser).
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    shot(page, "1-login")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(DEMO_PASSWORD.format("alice"))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")

    # The dashboard; choosing Chinese in the sidebar saves the preference on the account.
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    page.get_by_label("语言").select_option("zh-hans")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    assert User.objects.get(username="alice").language == "zh-hans"
    expect(page.locator(".sidebar")).to_contain_text("当前节点")
    shot(page, "2-dashboard")

    # The project page.
    page.get_by_role("link", name=world["project"].name).first.click()
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    expect(page.get_by_role("heading", name="流水线", exact=True)).to_be_visible()
    expect(page.get_by_text("已授权数据集").first).to_be_visible()
    shot(page, "3-project")

    # The demo pipeline's canvas: palette categories and SecretPad's component names.
    page.get_by_role("link", name=world["pipeline"].name).first.click()
    page.wait_for_selector('body[data-canvas-ready="true"]')
    palette = page.locator("#palette")
    expect(palette).to_contain_text("数据准备")
    expect(palette).to_contain_text("隐私求交")
    expect(palette).to_contain_text("逻辑回归训练")
    expect(page.get_by_role("tab", name="配置")).to_be_visible()
    shot(page, "4-canvas")

    # Run it: the badge and the nodes follow the run live, in Chinese.
    page.get_by_role("button", name="全部运行").click()
    badge = page.locator("#run-controls .run-badge .badge")
    expect(badge).to_have_text("成功", timeout=RUN_TIMEOUT_MS)
    shot(page, "5-run")

    # The evaluation's results: its Chinese title and its ROC chart.
    page.locator('#canvas [data-node-id="evaluate"]').dblclick()
    results = page.locator("#panel-results")
    expect(results.get_by_role("heading", name="二分类评估").first).to_be_visible()
    expect(results.locator(".js-plotly-plot .main-svg").first).to_be_attached(timeout=20_000)
    shot(page, "6-results")

    # My account and its API tokens (people's pages), and the nodes page (node pairing's).
    page.goto(f"{base}/accounts/")
    expect(page.get_by_role("heading", name="我的账户", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="已登录的会话")).to_be_visible()
    shot(page, "7-account")
    page.get_by_role("link", name="API 令牌").first.click()
    page.get_by_label("名称").fill("夜间评分")
    page.get_by_role("button", name="创建令牌").click()
    expect(page.get_by_text("请立即复制此令牌。")).to_be_visible()
    expect(page.get_by_role("cell", name="夜间评分")).to_be_visible()
    shot(page, "8-tokens")
    page.goto(f"{base}/nodes/")
    expect(page.get_by_role("heading", name="全部节点")).to_be_visible()
    shot(page, "9-nodes")
