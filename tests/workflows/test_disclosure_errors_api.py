"""A duplicate PSI key of alice's, tried as bob would look for it: his run page, the node API,
the run API, the HTML report and the websocket never show it; alice's users see it in full."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django_tasks import task_backends

from console.asgi import application
from console.datasets.models import Authorization
from tests.workflows.conftest import (
    CREDIT_ROLES,
    credit_frame,
    edge,
    make_dataset,
    node,
)
from tests.workflows.runs import new_run, run_now
from tests.workflows.test_websocket import FINISHED, _headers
from workflows import services
from workflows.models import Status

SECRET_KEY = "zz-alice-customer-4711"


@pytest.fixture
def psi_pipeline(alice, project, shop, pipeline_factory):
    frame = credit_frame()
    frame.loc[[5, 9], "id"] = SECRET_KEY
    dataset = make_dataset(alice, "dup", frame)
    Authorization.objects.create(dataset=dataset, project=project, column_roles=CREDIT_ROLES)
    graph = {
        "nodes": [
            node("alice_in", "read/dataset", dataset=dataset.pk),
            node("bob_in", "read/dataset", dataset=shop.pk),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
        ],
        "edges": [
            edge("alice_in", "output_ds", "psi", "input_ds1"),
            edge("bob_in", "output_ds", "psi", "input_ds2"),
        ],
    }
    return pipeline_factory(graph, name="PSI with a duplicate")


@pytest.fixture
def failed_run(psi_pipeline, bob_user):
    run = run_now(psi_pipeline, user=bob_user)
    psi = run.nodes.get(node_id="psi")
    assert (run.status, psi.status, psi.party) == (Status.FAILED, Status.FAILED, "alice")
    assert SECRET_KEY in psi.message
    return run


def psi_message(body: dict) -> str:
    return next(n["message"] for n in body["nodes"] if n["node"] == "psi")


@pytest.mark.django_db
def test_bobs_run_api_names_the_class_node_and_party_but_not_the_key(failed_run, api_bob):
    message = psi_message(api_bob.get(f"/api/v1/runs/{failed_run.pk}/").json())
    assert SECRET_KEY not in message
    for word in ("DuplicateKeyError", "alice", "psi"):
        assert word in message


@pytest.mark.django_db
def test_alices_run_api_gives_her_the_full_message(failed_run, api_alice):
    assert SECRET_KEY in psi_message(api_alice.get(f"/api/v1/runs/{failed_run.pk}/").json())


@pytest.mark.django_db
def test_bobs_node_api_run_list_and_report_never_quote_the_key(failed_run, api_bob, api_alice):
    node_body = api_bob.get(f"/api/v1/runs/{failed_run.pk}/nodes/psi/").json()
    assert SECRET_KEY not in json.dumps(node_body)
    assert "DuplicateKeyError" in node_body["message"]
    runs = api_bob.get(f"/api/v1/pipelines/{failed_run.pipeline_id}/runs/").content.decode()
    assert SECRET_KEY not in runs
    report = api_bob.get(f"/api/v1/runs/{failed_run.pk}/report/").content.decode()
    assert SECRET_KEY not in report
    assert "DuplicateKeyError at party alice in node psi" in report
    assert SECRET_KEY in api_alice.get(f"/api/v1/runs/{failed_run.pk}/report/").content.decode()
    alice_node = api_alice.get(f"/api/v1/runs/{failed_run.pk}/nodes/psi/").json()
    assert SECRET_KEY in alice_node["message"]


@pytest.mark.django_db
def test_bobs_run_page_never_quotes_the_key(failed_run, bob_client, alice_client):
    page = bob_client.get(f"/pipelines/runs/{failed_run.pk}/")
    assert page.status_code == 200
    assert SECRET_KEY not in page.content.decode()
    assert SECRET_KEY in alice_client.get(f"/pipelines/runs/{failed_run.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_bobs_websocket_never_carries_the_key_and_alices_does(psi_pipeline, alice_user, bob_user):
    run = new_run(psi_pipeline, user=bob_user)
    headers = {"alice": _headers(alice_user), "bob": _headers(bob_user)}

    async def watch_both() -> tuple[list[dict], list[dict]]:
        sockets = {}
        for name in ("alice", "bob"):
            socket = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers[name])
            assert (await socket.connect())[0]
            sockets[name] = socket
        await sync_to_async(services.enqueue)(run)
        received = {}
        for name, socket in sockets.items():
            events = [await socket.receive_json_from(timeout=10)]
            while not (events[-1]["type"] == "run.status" and events[-1]["status"] in FINISHED):
                events.append(await socket.receive_json_from(timeout=30))
            await socket.disconnect()
            received[name] = events
        return received["alice"], received["bob"]

    alice_events, bob_events = async_to_sync(watch_both)()
    for future in list(task_backends["default"].futures.values()):
        future.result(timeout=30)
    assert SECRET_KEY not in json.dumps(bob_events)
    failed = [e for e in bob_events if e.get("node") == "psi" and e.get("status") == "failed"]
    assert failed
    assert "DuplicateKeyError" in failed[0]["message"]
    assert SECRET_KEY in json.dumps(alice_events)


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["parse", "type"])
def test_a_broken_dataset_file_fails_reading_at_alice_and_bob_sees_no_cell(
    how, alice, project, pipeline_factory, api_alice, api_bob
):
    dataset = make_dataset(alice, f"broken_{how}", credit_frame())
    Authorization.objects.create(dataset=dataset, project=project, column_roles=CREDIT_ROLES)
    path = dataset.path
    lines = path.read_text().splitlines()
    if how == "type":  # age is profiled as int: a text cell in it
        cells = lines[4].split(",")
        cells[1] = SECRET_KEY
        lines[4] = ",".join(cells)
    else:  # an unbalanced quote: the file cannot be read as CSV
        lines.append(f'"{SECRET_KEY},1,2')
    path.write_text("\n".join(lines) + "\n")
    graph = {"nodes": [node("read", "read/dataset", dataset=dataset.pk)], "edges": []}
    run = run_now(pipeline_factory(graph, name=f"broken {how}"))
    read = run.nodes.get(node_id="read")
    assert (read.status, read.party) == (Status.FAILED, "alice")
    bob_message = api_bob.get(f"/api/v1/runs/{run.pk}/nodes/read/").json()["message"]
    assert SECRET_KEY not in bob_message
    assert "at party alice in node read" in bob_message
    if how == "type":
        assert SECRET_KEY in api_alice.get(f"/api/v1/runs/{run.pk}/nodes/read/").json()["message"]
