"""English and Simplified Chinese: saved preference, switcher, pages and the component catalogue."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.accounts.services import create_token
from tests.console.pages.conftest import authorize
from workflows.actors import Actor

OPERATOR = Actor.system("tests")  # an operator on the server, like the command

pytestmark = pytest.mark.django_db

ZH = "zh-hans"


@pytest.fixture
def alice_zh(alice_client, alice_user):
    alice_user.language = ZH
    alice_user.save(update_fields=["language"])
    return alice_client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_english_is_the_default(alice_client):
    html = page(alice_client, "/")
    assert '<html lang="en">' in html
    assert "<h1>Dashboard</h1>" in html
    assert "工作台" not in html


def test_the_dashboard_follows_the_saved_preference(alice_zh):
    html = page(alice_zh, "/")
    assert '<html lang="zh-hans">' in html
    assert "<h1>工作台</h1>" in html
    assert "我的数据集" in html
    assert "退出登录" in html
    # The switcher shows the current language as chosen.
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in html


def test_dataset_and_project_pages_in_chinese(alice_zh, dataset, project):
    authorize(dataset, project)
    detail = page(alice_zh, f"/datasets/{dataset.pk}/")
    assert "预览数据行" in detail
    assert "结构" in detail
    assert "常设披露策略" in detail
    assert "上传数据集" in page(alice_zh, "/datasets/")
    project_page = page(alice_zh, f"/projects/{project.pk}/")
    assert "已授权数据集" in project_page
    assert "创建流水线" in project_page


def test_the_preference_wins_over_the_browser(alice_zh, alice_client):
    html = alice_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert "<h1>工作台</h1>" in html


def test_an_anonymous_browser_asking_for_chinese_gets_chinese(anon_client):
    html = anon_client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content
    assert "<h1>登录</h1>" in html.decode()


def test_the_switcher_saves_the_preference_and_redirects(alice_client, alice_user):
    response = alice_client.post("/accounts/language/", {"language": ZH, "next": "/datasets/"})
    assert response.status_code == 302
    assert response["Location"] == "/datasets/"
    alice_user.refresh_from_db()
    assert alice_user.language == ZH
    assert "<h1>数据集</h1>" in page(alice_client, "/datasets/")
    alice_client.post("/accounts/language/", {"language": "en", "next": "/"})
    alice_user.refresh_from_db()
    assert alice_user.language == "en"
    assert "<h1>Datasets</h1>" in page(alice_client, "/datasets/")


def test_the_switcher_ignores_an_unknown_language(alice_client, alice_user):
    alice_client.post("/accounts/language/", {"language": "xx-evil", "next": "/"})
    alice_user.refresh_from_db()
    assert alice_user.language == ""
    assert "<h1>Dashboard</h1>" in page(alice_client, "/")


def test_the_switcher_never_redirects_off_site(alice_client):
    response = alice_client.post(
        "/accounts/language/", {"language": ZH, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_the_switcher_works_before_login(anon_client):
    response = anon_client.post("/accounts/language/", {"language": ZH, "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "<h1>登录</h1>" in page(anon_client, "/accounts/login/")


def test_flash_messages_are_translated(alice_zh):
    response = alice_zh.post("/projects/new/", {"name": "联合风控", "description": ""}, follow=True)
    assert "项目“联合风控”已创建。" in response.content.decode()


def test_form_errors_and_labels_are_translated(alice_zh):
    html = alice_zh.post("/datasets/upload/", {"name": "x"}).content.decode()
    assert "CSV 文件" in html  # the field's label
    assert "该字段是必填项。" in html  # Django's own catalogue for the required field


def catalogue(client) -> dict:
    response = client.get("/api/v1/components/")
    assert response.status_code == 200
    return {entry["key"]: entry for entry in response.json()["components"]}


@pytest.mark.parametrize("authenticated_by", ["session", "token"])
def test_the_component_catalogue_answers_in_the_users_language(alice_user, authenticated_by):
    client = APIClient()
    if authenticated_by == "session":
        client.force_login(alice_user)
    else:
        _token, key = create_token(OPERATOR, alice_user, name="catalogue")  # a hashed, scoped token
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    english = catalogue(client)
    assert english["data_prep/psi"]["label"] == "Private set intersection"
    alice_user.language = ZH
    alice_user.save(update_fields=["language"])
    chinese = catalogue(client)
    # SecretPad's Chinese names (shared/COMPONENTS.md).
    assert chinese["data_prep/psi"]["label"] == "隐私求交"
    assert chinese["data_prep/train_test_split"]["label"] == "随机分割"
    assert chinese["stats/table_statistics"]["label"] == "全表统计"
    assert chinese["ml.eval/binary_classification"]["label"] == "二分类评估"
    assert chinese["ml.train/ss_lr"]["label"] == "逻辑回归训练"
    psi = chinese["data_prep/psi"]
    assert psi["category_label"] == "数据准备"
    params = {p["name"]: p for p in psi["params"]}
    assert params["protocol"]["label"] == "协议"
    assert params["sort_result"]["help"] == "在每个参与方按主键对求交结果排序。"
    assert params["keys1"]["label"] == "输入 1 的主键"
    assert psi["inputs"][0]["label"] == "表 1"
    assert psi["outputs"][-1]["type_labels"] == ["报告"]


def test_account_people_token_and_node_pages_in_chinese(alice_zh):
    assert "添加用户" in page(alice_zh, "/accounts/people/")
    assert "<h1>人员</h1>" in page(alice_zh, "/accounts/people/")
    assert "已登录的会话" in page(alice_zh, "/accounts/")
    assert "我的令牌" in page(alice_zh, "/accounts/tokens/")
    assert "设置身份验证器应用" in page(alice_zh, "/accounts/two-factor/")
    assert "全部节点" in page(alice_zh, "/nodes/")


def test_the_second_factor_requirement_is_explained_in_chinese(alice_client, alice_member_user):
    alice_client.post("/accounts/people/two-factor/", {"require_two_factor": "on"})
    alice_member_user.language = ZH
    alice_member_user.save(update_fields=["language"])
    member = APIClient()
    member.force_login(alice_member_user)
    html = member.get("/datasets/", follow=True).content.decode()
    assert "您的节点要求第二因素认证：请先设置身份验证器应用。" in html
    response = member.get("/api/v1/datasets/")
    assert response.status_code == 403
    assert response.json()["detail"] == "您的节点要求第二因素认证：请先设置身份验证器应用。"


def token_client(user, scope: str = "admin") -> tuple[APIClient, object]:
    token, key = create_token(OPERATOR, user, name="script", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, token


def test_a_token_users_api_errors_follow_their_language(alice_user):
    client, _token = token_client(alice_user)
    alice_user.language = ZH
    alice_user.save(update_fields=["language"])
    body = {"name": "nightly", "scope": "everything", "expires_in_days": 30}
    response = client.post("/api/v1/tokens/", body, format="json")
    assert response.status_code == 400
    assert "未知的权限范围 'everything'" in str(response.json())


def test_the_language_aware_authentication_still_refuses_revoked_and_read_only_tokens(
    alice_user,
):
    alice_user.language = ZH
    alice_user.save(update_fields=["language"])
    reader, _token = token_client(alice_user, scope="read")
    assert reader.get("/api/v1/components/").status_code == 200
    assert reader.post("/api/v1/tokens/", {"name": "x"}, format="json").status_code == 403
    client, token = token_client(alice_user)
    token.revoked_at = token.created_at
    token.save(update_fields=["revoked_at"])
    assert client.get("/api/v1/components/").status_code == 401
