"""/api/v1/datasets/<id>/preview/: rows for users of the owning node only, audited."""

from __future__ import annotations

from console.audit.models import AuditEvent
from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import dataset_url, grant, upload


def preview_url(dataset) -> str:
    return dataset_url(dataset.pk, "preview/")


def test_it_previews_rows_to_the_owner_and_audits_it(api_alice, alice, dataset):
    response = api_alice.get(preview_url(dataset))
    assert response.status_code == 200
    assert response.json() == {
        "columns": ["id", "age", "income", "member"],
        "rows": [
            ["1", "34", "5200.5", "true"],
            ["2", None, "4100", "false"],
            ["3", "51", None, "TRUE"],
        ],
        "row_count": 3,
        "truncated": False,
    }
    event = AuditEvent.objects.get(action="preview")
    assert (event.actor_node, event.node, event.target_id) == (alice, alice, str(dataset.pk))
    assert event.detail["rows"] == 3


def test_it_previews_to_plain_members_of_the_owning_node(api_alice_member, dataset):
    assert api_alice_member.get(preview_url(dataset)).status_code == 200


def test_it_shows_only_the_first_rows(api_alice, settings):
    settings.PRIVPAD_PREVIEW_ROWS = 2
    content = b"n,label\n" + b"".join(f"{i},x{i}\n".encode() for i in range(5))
    dataset_id = upload(api_alice, content).json()["id"]
    body = api_alice.get(dataset_url(dataset_id, "preview/")).json()
    assert body["rows"] == [["0", "x0"], ["1", "x1"]]
    assert body["truncated"] is True
    assert body["row_count"] == 5


def test_it_previews_gbk_datasets_as_text(api_alice):
    content = "姓名,城市\n张三,北京\n".encode("gbk")
    dataset_id = upload(api_alice, content).json()["id"]
    body = api_alice.get(dataset_url(dataset_id, "preview/")).json()
    assert body["columns"] == ["姓名", "城市"]
    assert body["rows"] == [["张三", "北京"]]


def test_it_answers_404_to_members_of_an_authorised_project(api_bob, bob, dataset, project):
    grant(dataset, project)
    body = assert_error(api_bob.get(preview_url(dataset)), 404, "not_found")
    assert "5200" not in str(body)
    assert not AuditEvent.objects.filter(action="preview").exists()
    denied = AuditEvent.objects.get(action="access_denied")
    assert (denied.actor_node, denied.outcome) == (bob, "denied")


def test_it_answers_404_to_outsiders(api_carol, dataset):
    assert_error(api_carol.get(preview_url(dataset)), 404, "not_found")
    assert AuditEvent.objects.filter(action="access_denied").count() == 1


def test_it_requires_login_to_preview(api_anon, dataset):
    assert_error(api_anon.get(preview_url(dataset)), 401, "not_authenticated")
