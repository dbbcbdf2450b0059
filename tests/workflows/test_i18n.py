"""Chinese users: the canvas page, the run report and their CSV downloads (BOM or GBK)."""

from __future__ import annotations

import codecs
import io

import pandas as pd
import pytest
from django.utils import translation
from rest_framework.test import APIClient

from tests.workflows.runs import run_now
from workflows.models import Artifact, Status
from workflows.reports.render import render_run_report
from workflows.tabular.files import TableColumn, write_table

ZH = "zh-hans"
CHINESE_ROWS = "id,city,note\nc001,北京,优质客户\nc002,上海,\n"


@pytest.fixture
def succeeded(credit_pipeline):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    return run


@pytest.fixture
def chinese_table(succeeded):
    """Alice's own output table (an Arrow file), its text made Chinese."""
    table = Artifact.objects.get(
        node_run__run=succeeded, node_run__node_id="fill", port="output_ds"
    )
    store_rows(table, CHINESE_ROWS)
    return table


def store_rows(table, rows: str) -> None:
    frame = pd.read_csv(io.StringIO(rows), dtype=str, keep_default_na=False)
    write_table(table.path, frame, [TableColumn(name, "str") for name in frame.columns])


@pytest.fixture
def alice_browser(alice_user):
    """Alice signed in with a session, as the console's pages download (her language applies)."""
    client = APIClient()
    client.force_login(alice_user)
    return client


def prefer(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def download(client, table, query: str = ""):
    response = client.get(f"/api/v1/artifacts/{table.pk}/download/{query}")
    body = b"".join(response.streaming_content) if response.status_code == 200 else None
    return response, body


def test_the_canvas_page_is_chinese_for_a_chinese_user(credit_pipeline, alice_client, alice_user):
    prefer(alice_user, ZH)
    html = alice_client.get(f"/pipelines/{credit_pipeline.pk}/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert ">配置</button>" in html
    assert ">结果</button>" in html
    assert 'aria-label="流水线图"' in html
    assert '<script src="/jsi18n/"></script>' in html


def test_the_javascript_catalogue_is_served_locally_in_the_users_language(alice_client, alice_user):
    prefer(alice_user, ZH)
    script = alice_client.get("/jsi18n/").content.decode()
    assert '"Run all": "\\u5168\\u90e8\\u8fd0\\u884c"' in script  # 全部运行
    prefer(alice_user, "en")
    assert "Run all" not in alice_client.get("/jsi18n/").content.decode()


def test_the_run_report_follows_the_active_language(succeeded, alice):
    with translation.override(ZH):
        html = render_run_report(succeeded, alice.pk)
    assert '<html lang="zh-hans">' in html
    assert "隐私台账" in html
    assert "参数与结果" in html
    assert "全表统计" in html  # the component's Chinese label in the node table
    assert "列统计" in html  # a report table's title, translated when shown
    assert "等频分箱" in html
    with translation.override("en"):
        assert "Privacy ledger" in render_run_report(succeeded, alice.pk)


def test_an_english_user_gets_the_stored_bytes(chinese_table, api_alice):
    response, body = download(api_alice, chinese_table)
    assert response.status_code == 200
    assert body == CHINESE_ROWS.encode("utf-8")


def test_a_chinese_user_gets_utf8_with_a_bom_by_default(chinese_table, alice_browser, alice_user):
    prefer(alice_user, ZH)
    response, body = download(alice_browser, chinese_table)
    assert response.status_code == 200
    assert body == codecs.BOM_UTF8 + CHINESE_ROWS.encode("utf-8")
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_gbk_on_request(chinese_table, api_alice):
    response, body = download(api_alice, chinese_table, "?encoding=gbk")
    assert response.status_code == 200
    assert body == CHINESE_ROWS.encode("gbk")
    assert response["Content-Type"] == "text/csv; charset=gbk"


def test_a_chinese_user_may_still_ask_for_plain_utf8(chinese_table, alice_browser, alice_user):
    prefer(alice_user, ZH)
    _, body = download(alice_browser, chinese_table, "?encoding=utf-8")
    assert body == CHINESE_ROWS.encode("utf-8")


def test_gbk_refuses_a_character_it_cannot_write_naming_the_line(chinese_table, api_alice):
    store_rows(chinese_table, CHINESE_ROWS + "c003,深圳,😀\n")
    response, _ = download(api_alice, chinese_table, "?encoding=gbk")
    assert response.status_code == 400
    message = response.json()["errors"]["encoding"][0]
    assert "Line 4" in message
    assert "😀" in message
    assert "UTF-8" in message


def test_an_unknown_encoding_is_refused_with_the_choices(chinese_table, api_alice):
    response, _ = download(api_alice, chinese_table, "?encoding=latin-9")
    assert response.status_code == 400
    message = response.json()["errors"]["encoding"][0]
    assert "latin-9" in message
    assert "utf-8, utf-8-sig, gbk" in message


def test_a_multibyte_character_split_between_pieces_survives():
    from workflows.downloads import encoded

    utf8 = CHINESE_ROWS.encode("utf-8")
    pieces = [utf8[i : i + 7] for i in range(0, len(utf8), 7)]  # splits 北京 mid-character
    assert b"".join(encoded(iter(pieces), "gbk")).decode("gbk") == CHINESE_ROWS


def test_gbk_names_the_line_across_pieces():
    from workflows.downloads import UnencodableCSV, check_encodable

    utf8 = (CHINESE_ROWS + "c003,深圳,😀\n").encode("utf-8")
    with pytest.raises(UnencodableCSV, match="Line 4"):
        check_encodable([utf8[i : i + 5] for i in range(0, len(utf8), 5)], "gbk")


def test_the_results_panel_shows_report_titles_in_chinese(succeeded, alice_browser, alice_user):
    prefer(alice_user, ZH)
    response = alice_browser.get(f"/api/v1/runs/{succeeded.pk}/nodes/eval/")
    assert response.status_code == 200
    (report,) = [output for output in response.json()["outputs"] if output["kind"] == "report"]
    assert report["title"] == "二分类评估"
    assert [chart["title"] for chart in report["charts"]][:2] == ["ROC 曲线", "精确率-召回率曲线"]
    assert report["tables"][0]["title"] == "概要"
