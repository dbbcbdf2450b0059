"""A range failure caused by bob's data, as an adversarial member (alice) and bob read it.

alice builds SS-LR on her feature and bob's, scales nothing of bob's, and runs it: no
fixed-point precision holds bob's basket totals (around 10^15), so training fails, and the
failure is bob's own (`workflows.components.secure.range_failure`). alice must read that a
value of bob's data is out of range and nothing more: not his columns' names, not his values,
not their order of magnitude; in the run and node API, the runs lists, the run page's canvas
data, the websocket snapshot, the events, the log, the warnings, the HTML report and the
ledger. bob's users read which column, the bound and the fix in the same places.
"""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from console.asgi import application
from console.datasets.models import Authorization
from console.demo.pipeline import DEMO_POLICIES as POLICIES
from tests.workflows.conftest import make_dataset
from tests.workflows.overflow_pipeline import (
    BOBS_FEATURES,
    BOBS_LARGE,
    baskets_frame,
    bobs_values,
    loans_frame,
    overflow_graph,
)
from tests.workflows.runs import run_now
from workflows import events, redaction
from workflows.messages import render
from workflows.models import Status

pytestmark = pytest.mark.django_db
WHAT = "SS-LR training"


@pytest.fixture
def overflow(alice, bob, project, pipeline_factory, alice_user):
    """alice's run of the overflowing pipeline, and the events it published."""
    loans = make_dataset(alice, "loans", loans_frame())
    roles = {"id": "id", "tenure_years": "feature", "y": "label"}
    Authorization.objects.create(
        dataset=loans, project=project, column_roles=roles, disclosure_policy=POLICIES["alice"]
    )
    baskets = make_dataset(bob, "baskets", baskets_frame())
    roles = {"id": "id", BOBS_LARGE: "feature", "visits_90d": "feature"}
    Authorization.objects.create(
        dataset=baskets, project=project, column_roles=roles, disclosure_policy=POLICIES["bob"]
    )
    seen: list[dict] = []
    with events.listening(seen.append):
        run = run_now(pipeline_factory(overflow_graph(loans.pk, baskets.pk)), user=alice_user)
    return run, seen


def leaked(payload, *, names: bool = True) -> list[str]:
    """bob's values and magnitude found in `payload`, and (`names`) his column names.

    Run payloads also carry the project's schema (an output's columns, the disclosure plan's
    entries: what every member knows of bob's authorised dataset): their texts (messages,
    logs, warnings: `texts`) are checked for bob's column names, all of them for his values."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    secrets = [*bob_values_shown(), *(BOBS_FEATURES if names else [])]
    return [secret for secret in secrets if secret in text]


def bob_values_shown() -> list[str]:
    return bobs_values(baskets_frame())


def texts(run_state: dict) -> list:
    """The run's texts: its message and, per node, message, log lines and warnings."""
    nodes = [(n["message"], n["logs"], n["warnings"]) for n in run_state["nodes"]]
    return [run_state["message"], nodes]


def views_of(client, run) -> dict[str, object]:
    """Everything a member's API client reads of the run."""
    pipeline = run.pipeline_id
    return {
        "run": client.get(f"/api/v1/runs/{run.pk}/").json(),
        "node": client.get(f"/api/v1/runs/{run.pk}/nodes/train/").json(),
        "runs": client.get("/api/v1/runs/").json(),
        "pipeline runs": client.get(f"/api/v1/pipelines/{pipeline}/runs/").json(),
        "ledger": client.get(f"/api/v1/runs/{run.pk}/ledger/").json(),
        "report": client.get(f"/api/v1/runs/{run.pk}/report/").content.decode(),
    }


def report_texts(html: str) -> list[str]:
    """The HTML report's texts: each node's message, warnings and log (its schema tables and
    parameters are the project's, see `canvas_run`)."""
    patterns = (
        r"</h3>\s*<p>(.*?)</p>",
        r'<ul class="warnings">(.*?)</ul>',
        r'<pre class="log">(.*?)</pre>',
    )
    found = [text for pattern in patterns for text in re.findall(pattern, html, re.S)]
    assert found, "the report has no node texts"
    return found


def canvas_run(client, run) -> dict:
    """The run page's canvas data for the run (`json_script`): its state, as the page shows
    it. (The canvas's pipeline graph names the features alice chose herself, and the
    project's datasets list the columns bob authorised: the schema, which every member
    knows; which column overflowed and how large it is is bob's.)"""
    page = client.get(reverse("pipelines:run", args=[run.pk])).content.decode()
    start = page.index(">", page.index('id="canvas-data"')) + 1
    return json.loads(page[start : page.index("</script>", start)])["run"]


def test_the_overflow_fails_training_as_bobs_own_failure(overflow):
    run, _ = overflow
    assert run.status == Status.FAILED
    train = run.nodes.get(node_id="train")
    assert (train.status, train.party) == (Status.FAILED, "bob")
    message, public = render(train.message), render(train.public_message)
    assert message.startswith(
        f"the values of bob's {BOBS_LARGE} are out of the range SS-LR training can compute on"
    ), message
    assert f"Fix: add a scaler (Scaler, before this node) for bob's {BOBS_LARGE}" in message
    assert "safe bound 2^" in message
    assert public == str(redaction.range_public("bob", WHAT))
    assert render(run.message) == f"failed at SS-LR training (train): {public}"
    assert leaked(run.message) == []
    # alice's feature is small, bob's is not: only bob's warning, attributed to bob.
    assert [(w["party"], render(w["message"]).split(":")[0]) for w in train.warnings] == [
        ("bob", "features not scaled at bob")
    ]


def test_alice_reads_that_bobs_data_is_out_of_range_and_nothing_of_it(overflow, api_alice):
    run, _ = overflow
    seen = views_of(api_alice, run)
    for name, payload in seen.items():
        assert leaked(payload, names=False) == [], name
    assert leaked(texts(seen["run"])) == []
    assert leaked(seen["node"]["message"]) == []
    assert leaked([seen["node"]["logs"], seen["node"]["warnings"]]) == []
    assert leaked([seen["runs"], seen["pipeline runs"], seen["ledger"]]) == []
    assert leaked(report_texts(seen["report"])) == []
    train = next(n for n in seen["run"]["nodes"] if n["node"] == "train")
    public = str(redaction.range_public("bob", WHAT))
    assert (train["message"], train["party"]) == (public, "bob")
    assert seen["run"]["message"] == f"failed at SS-LR training (train): {public}"
    assert seen["node"]["message"] == public
    assert train["logs"][-1]["message"] == f"failed at bob: {public}"
    assert [w["message"] for w in train["warnings"]] == [str(redaction.warning_public("bob"))]
    assert "a value of bob&#x27;s data is outside the range" in seen["report"]


def test_alice_reads_nothing_of_bobs_data_on_the_run_page_or_the_events(overflow, alice_client):
    run, published = overflow
    state = canvas_run(alice_client, run)
    assert leaked(state, names=False) == []
    assert leaked(texts(state)) == []
    assert leaked(published) == []  # events carry texts and statuses, no schema
    statuses = [e for e in published if e["type"] == "node.status" and e["node"] == "train"]
    assert render(statuses[-1]["message"]) == str(redaction.range_public("bob", WHAT))


def test_bob_reads_his_column_the_bound_and_the_fix(overflow, api_bob, bob_client):
    run, _ = overflow
    seen = views_of(api_bob, run)
    train = next(n for n in seen["run"]["nodes"] if n["node"] == "train")
    own = render(run.nodes.get(node_id="train").message)
    assert train["message"] == own
    assert seen["node"]["message"] == own
    assert seen["run"]["message"] == f"failed at SS-LR training (train): {own}"
    assert train["logs"][-1]["message"] == f"failed at bob: {own}"
    assert train["warnings"][0]["message"].startswith(f"features not scaled at bob: {BOBS_LARGE}")
    assert f"bob&#x27;s {BOBS_LARGE}" in seen["report"]
    page = canvas_run(bob_client, run)
    assert next(n for n in page["nodes"] if n["node"] == "train")["message"] == own


@pytest.mark.django_db(transaction=True)
def test_the_run_socket_gives_alice_the_public_text_and_bob_his_own(overflow, alice_user, bob_user):
    run, _ = overflow
    alices, bobs = snapshot(run, alice_user), snapshot(run, bob_user)
    assert leaked(alices, names=False) == []
    assert leaked(texts(alices)) == []
    public = str(redaction.range_public("bob", WHAT))
    assert next(n for n in alices["nodes"] if n["node"] == "train")["message"] == public
    own = render(run.nodes.get(node_id="train").message)
    assert next(n for n in bobs["nodes"] if n["node"] == "train")["message"] == own
    assert BOBS_LARGE in bobs["message"]


def snapshot(run, user) -> dict:
    """The `run.snapshot` `user`'s run page receives on /ws/runs/<id>/."""
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]

    async def receive() -> dict:
        communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        connected, _ = await communicator.connect()
        assert connected
        first = await communicator.receive_json_from(timeout=10)
        await communicator.disconnect()
        return first

    received = async_to_sync(receive)()
    assert received["type"] == "run.snapshot"
    return received["run"]
