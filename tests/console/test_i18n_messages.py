"""Service, API, node-pairing and sign-in messages in the reader's language (Simplified
Chinese here; English unchanged elsewhere in the suite)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from console.accounts.lockout import describe_wait, locked_out_message
from console.nodes.invitations import InvitationError, parse
from console.nodes.link.transport import NodeCallError
from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ZH = "zh-hans"


def chinese_session(user) -> APIClient:
    user.language = ZH
    user.save(update_fields=["language"])
    client = APIClient()
    client.force_login(user)
    return client


def test_the_lockout_message_states_the_wait_in_chinese():
    with translation.override(ZH):
        assert describe_wait(1) == "1 秒"
        assert describe_wait(15 * 60) == "15 分钟"
        assert locked_out_message(15 * 60) == (
            "来自您地址的登录失败次数过多：登录已被锁定。请在 15 分钟后重试。"
        )
        assert locked_out_message(30, tokens=True).startswith("来自您地址的无效 API 令牌过多")
    with translation.override("en"):
        assert describe_wait(1) == "1 second"
        assert locked_out_message(120).endswith("Try again in 2 minutes.")


def test_a_chinese_browser_locked_out_reads_the_wait_in_chinese(alice_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    for _ in range(2):
        client.post("/accounts/login/", {"username": alice_user.username, "password": "no"})
    response = client.post(
        "/accounts/login/", {"username": alice_user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "登录已被锁定。请在 15 分钟后重试。" in response.content.decode()


def test_dataset_upload_errors_in_the_users_language(alice_user):
    response = chinese_session(alice_user).post("/api/v1/datasets/", {"name": ""})
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["请选择要上传的 CSV 文件。"]}


def test_api_not_found_in_the_users_language(alice_user):
    response = chinese_session(alice_user).get("/api/v1/runs/999999/")
    assert response.status_code == 404
    assert response.json()["detail"] == "没有这次运行。"


def test_project_membership_errors_in_chinese(alice_user, project):
    client = chinese_session(alice_user)
    response = client.post(f"/api/v1/projects/{project.pk}/members/", {"node": "nowhere"})
    assert response.status_code == 400
    assert "未知节点“nowhere”。" in str(response.json())


def test_invitation_errors_in_chinese():
    with translation.override(ZH), pytest.raises(InvitationError) as empty:
        parse("   ")
    assert str(empty.value) == "邀请为空：请粘贴收到的整行邀请。"
    with translation.override(ZH), pytest.raises(InvitationError) as foreign:
        parse("hello")
    assert str(foreign.value).startswith("这不是 PrivPad 邀请")


def test_a_failed_node_call_names_the_peer_in_chinese():
    error = NodeCallError("bob", "10.0.0.2:7443", "未及时响应", "timeout")
    with translation.override(ZH):  # worded when read, in the reader's language
        assert str(error) == "节点 bob（10.0.0.2:7443）：未及时响应"
