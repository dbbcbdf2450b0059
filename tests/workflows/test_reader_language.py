"""A run's messages are read in the reader's language, not the starter's (`workflows.messages`).

alice's users read the console in Simplified Chinese, bob's in English (or the other way
round); one run started by one of them is read by both: through the API, on the run page, on
the canvas websocket (each connection in its own user's language) and in the downloaded
report. Rows stored as plain text before messages had msgids read as they always did.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from console.asgi import application
from core.errors import RangeError
from core.mpc.bounds import Interval, check_declared
from core.mpc.precision import plan_precision
from tests.workflows.runs import new_run, run_now
from tests.workflows.test_websocket import _headers
from workflows import redaction, services, state
from workflows.actors import Actor
from workflows.components import secure
from workflows.components.context import RunContext
from workflows.executor import execute_run
from workflows.messages import render, translatable
from workflows.models import Status

ZH, EN = "zh-hans", "en"
READ_ZH = "已在 alice 处读取 credit 的 60 行、6 列"
READ_EN = "read 60 rows and 6 columns of credit at alice"


def speaks(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def node_of(body: dict, node_id: str) -> dict:
    return next(node for node in body["nodes"] if node["node"] == node_id)


@pytest.fixture
def reused(credit_pipeline, alice_user):
    """Two runs started by alice's user: the second reuses the first's outputs."""
    first = run_now(credit_pipeline, user=alice_user)
    return first, run_now(credit_pipeline, reuse=True, user=alice_user)


@pytest.mark.django_db
@pytest.mark.parametrize(("starter", "reader"), [(ZH, EN), (EN, ZH)])
def test_the_api_speaks_the_readers_language_not_the_starters(
    credit_pipeline, alice_user, bob_user, bob_client, starter, reader
):
    speaks(alice_user, starter)
    speaks(bob_user, reader)
    first = run_now(credit_pipeline, user=alice_user)
    again = run_now(credit_pipeline, reuse=True, user=alice_user)
    body = bob_client.get(f"/api/v1/runs/{first.pk}/").json()
    [line] = node_of(body, "read")["logs"]
    assert line["message"] == (READ_ZH if reader == ZH else READ_EN)
    body = bob_client.get(f"/api/v1/runs/{again.pk}/").json()
    expected = {ZH: f"复用了运行 {first.pk} 的输出", EN: f"reused the output of run {first.pk}"}
    assert node_of(body, "read")["message"] == expected[reader]
    detail = bob_client.get(f"/api/v1/runs/{again.pk}/nodes/read/").json()
    assert detail["message"] == expected[reader]


@pytest.mark.django_db
def test_two_readers_of_one_run_each_read_their_own_language(
    reused, alice_user, bob_user, alice_client, bob_client
):
    speaks(alice_user, ZH)
    speaks(bob_user, EN)
    first, _ = reused
    mine = alice_client.get(f"/api/v1/runs/{first.pk}/").json()
    theirs = bob_client.get(f"/api/v1/runs/{first.pk}/").json()
    assert node_of(mine, "read")["logs"][0]["message"] == READ_ZH
    assert node_of(theirs, "read")["logs"][0]["message"] == READ_EN


@pytest.mark.django_db
def test_a_run_cancelled_by_an_english_user_reads_in_chinese(
    credit_pipeline, alice_user, bob_user, bob_client
):
    speaks(alice_user, EN)
    speaks(bob_user, ZH)
    run = new_run(credit_pipeline, user=alice_user)
    services.cancel_run(Actor.for_user(alice_user), run)
    body = bob_client.get(f"/api/v1/runs/{run.pk}/").json()
    assert body["status"] == Status.CANCELLED
    assert body["message"] == "在开始前已取消"
    assert {node["message"] for node in body["nodes"]} == {"运行在开始前已取消"}
    listed = bob_client.get(f"/api/v1/runs/?pipeline={credit_pipeline.pk}").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert next(row for row in rows if row["id"] == run.pk)["message"] == "在开始前已取消"


@pytest.mark.django_db
def test_the_run_page_speaks_the_readers_language(reused, alice_user, bob_user, bob_client):
    speaks(alice_user, ZH)
    speaks(bob_user, EN)
    first, again = reused
    page = bob_client.get(reverse("pipelines:run", args=[again.pk])).content.decode()
    start = page.index(">", page.index('id="canvas-data"')) + 1
    data = json.loads(page[start : page.index("</script>", start)])
    read = node_of(data["run"], "read")
    assert read["message"] == f"reused the output of run {first.pk}"
    assert "复用" not in page


@pytest.mark.django_db
def test_the_report_speaks_the_downloaders_language(reused, alice_user, bob_user, bob_client):
    speaks(alice_user, EN)
    speaks(bob_user, ZH)
    first, again = reused
    html = bob_client.get(f"/api/v1/runs/{first.pk}/report/").content.decode()
    assert READ_ZH in html
    assert READ_EN not in html
    html = bob_client.get(f"/api/v1/runs/{again.pk}/report/").content.decode()
    assert f"复用了运行 {first.pk} 的输出" in html


@pytest.mark.django_db
def test_rows_stored_as_text_before_msgids_read_as_they_are(credit_pipeline, bob_user, bob_client):
    speaks(bob_user, ZH)
    run = new_run(credit_pipeline)
    state.stop_pending_run(run.pk, Status.CANCELLED, "stopped by hand", "old node text")
    node = run.nodes.get(node_id="read")
    node.logs = [{"time": "t", "message": "an old line", "level": "info"}]
    node.warnings = [{"time": "t", "message": "an old warning"}]
    node.save(update_fields=["logs", "warnings"])
    body = bob_client.get(f"/api/v1/runs/{run.pk}/").json()
    read = node_of(body, "read")
    assert (body["message"], read["message"]) == ("stopped by hand", "old node text")
    assert read["logs"][0]["message"] == "an old line"
    assert read["warnings"][0]["message"] == "an old warning"


@pytest.mark.django_db
def test_another_partys_warning_stays_redacted_in_every_language(
    credit_pipeline, bob_user, bob_client
):
    speaks(bob_user, ZH)
    run = new_run(credit_pipeline)
    node = run.nodes.get(node_id="read")
    warning = translatable(
        "features not scaled at %(party)s: %(columns)s go beyond ±%(limit)s; gradient descent "
        "converges poorly on them and fixed-point products can overflow. Fix: %(fix)s.",
        party="alice",
        columns=["income"],
        limit="10",
        fix="",
    )
    state.add_node_warning(node, warning, "alice")
    read = node_of(bob_client.get(f"/api/v1/runs/{run.pk}/").json(), "read")
    seen = json.dumps({"w": read["warnings"], "l": read["logs"]}, ensure_ascii=False)
    assert "income" not in seen
    assert read["warnings"][0]["message"] == render(redaction.warning_public("alice"), ZH)
    assert "alice" in read["warnings"][0]["message"]


SS_LR = gettext_lazy("SS-LR training")
BOBS = secure.PartyBounds("bob", ("basket_total",), 2.0**50, 300, True, ("basket_total",))
ALICES = secure.PartyBounds("alice", ("income",), 4.0, 300, False, ())


def fail_as_the_executor_does(node, failure) -> None:
    """Record a component's failure on `node` as `RunExecution._run_node` does."""
    error = redaction.describe(failure.error, node.node_id, failure.party)
    state.set_node_status(node, Status.FAILED, error.full, error.party, error.public)


def logging_context(node) -> RunContext:
    """A component's context whose log lines go to `node`, as the executor's does."""
    return RunContext(
        params={},
        parties=("alice", "bob"),
        inputs={},
        infos={},
        output_dir=lambda party: None,
        on_log=lambda message: state.add_node_log(node, message),
    )


@pytest.mark.django_db
def test_a_range_failure_reads_in_each_readers_language_and_stays_redacted(
    credit_pipeline, alice_user, bob_user, alice_client, bob_client
):
    """bob's data overflows a run alice's English-speaking user started: bob's Chinese user
    reads his column, the bound and the fix in Chinese; alice reads the public text in her
    language, and nothing of bob's column or bound in either."""
    speaks(alice_user, EN)
    speaks(bob_user, ZH)
    run = new_run(credit_pipeline, user=alice_user)
    error = RangeError("plan_precision", 2.0**27, "values up to 1.1e+15 need 51 integer bits")
    with translation.override(EN):  # the starter's language while the run executes
        failure = secure.range_failure(error, [ALICES, BOBS], SS_LR)
    fail_as_the_executor_does(run.nodes.get(node_id="stats"), failure)
    bobs = node_of(bob_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["message"]
    assert bobs.startswith("bob 的 basket_total 的取值超出了逻辑回归训练在定点数下能计算的范围")
    assert "安全上界 2^27" in bobs
    assert bobs.endswith("修复：为 bob 的 basket_total 添加标准化节点（Scaler，放在此节点之前）。")
    alices = node_of(alice_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["message"]
    assert alices == (
        "SS-LR training: a value of bob's data is outside the range the fixed-point encoding "
        "can hold; only bob's users see which column and how to fix it."
    )
    speaks(alice_user, ZH)
    alices = node_of(alice_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["message"]
    assert alices.startswith("逻辑回归训练：bob 的数据中有值超出了定点编码能容纳的范围")
    for text in (alices, render(run.nodes.get(node_id="stats").public_message, EN)):
        for detail in ("basket_total", "2^27", "2^50", "1.1e+15"):
            assert detail not in text, (detail, text)


@pytest.mark.django_db
def test_the_engines_problem_reads_in_the_failing_partys_language_and_never_reaches_others(
    credit_pipeline, alice_user, bob_user, alice_client, bob_client
):
    """The engine's own refusal (bob's values outside the interval he declared): bob reads
    the engine's problem, with its figures, in Chinese and in English; alice reads only the
    public text, in her language, with none of the figures."""
    speaks(alice_user, ZH)
    speaks(bob_user, ZH)
    run = new_run(credit_pipeline, user=alice_user)
    values = np.array([1.0, 300.0, 900.0])
    with pytest.raises(RangeError) as refused:
        check_declared(values, Interval(-8.0, 8.0), BOBS.label)
    with translation.override(EN):
        failure = secure.range_failure(refused.value, [ALICES, BOBS], SS_LR)
    fail_as_the_executor_does(run.nodes.get(node_id="stats"), failure)
    bobs = node_of(bob_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["message"]
    assert "3 个元素中有 2 个落在声明的区间 [-8, 8] 之外" in bobs, bobs
    assert "lie outside" not in bobs
    english = render(run.nodes.get(node_id="stats").message, EN)
    assert f": {refused.value.problem}. Fix: " in english
    assert (
        str(refused.value.problem) == "2 of 3 element(s) lie outside the declared interval [-8, 8]"
    )
    alices = node_of(alice_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["message"]
    with translation.override(ZH):
        assert alices == str(redaction.range_public("bob", SS_LR))
    assert alices.startswith("逻辑回归训练：bob 的数据中有值超出了定点编码能容纳的范围")
    for text in (alices, render(run.nodes.get(node_id="stats").public_message, ZH)):
        for detail in ("basket_total", "[-8, 8]", "元素", "2 of 3"):
            assert detail not in text, (detail, text)


@pytest.mark.django_db
def test_a_range_failure_of_several_parties_names_them_in_the_readers_words(
    credit_pipeline, alice_user, alice_client
):
    speaks(alice_user, ZH)
    run = new_run(credit_pipeline, user=alice_user)
    label = "alice's income, bob's basket_total"
    error = RangeError("SS-LR weights", 64.0, "a weight left [-64, 64]", label=label, fix="lower")
    with translation.override(EN):
        failure = secure.range_failure(error, [ALICES, BOBS], SS_LR)
    state.set_node_status(run.nodes.get(node_id="stats"), Status.FAILED, failure.message)
    message = node_of(alice_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["message"]
    assert message.startswith("逻辑回归训练在对由 alice和bob 的数据计算出的值做范围检查时停止")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("max_abs", "english", "chinese"),
    [
        (  # one integer bit
            0.5,
            "inputs up to 0.5 need 1 integer bit; 1 chained product reaches at most 1",
            "最大为 0.5 的输入需要 1 位整数位；1 次连乘最大达到 1",
        ),
        (  # several
            3.0,
            "inputs up to 3 need 3 integer bits; 1 chained product reaches at most 9",
            "最大为 3 的输入需要 3 位整数位；1 次连乘最大达到 9",
        ),
    ],
)
def test_the_precision_plan_log_line_reads_in_each_readers_language(
    credit_pipeline, alice_user, bob_user, alice_client, bob_client, max_abs, english, chinese
):
    speaks(alice_user, ZH)
    speaks(bob_user, EN)
    run = new_run(credit_pipeline, user=alice_user)
    plan = plan_precision(max_abs, products=1)  # as `plan_spu` plans one product
    with translation.override(ZH):  # the starter's language while the run executes
        secure.plan_spu(logging_context(run.nodes.get(node_id="stats")), [ALICES], max_abs, SS_LR)
    [line] = node_of(bob_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["logs"]
    assert line["message"] == f"precision for SS-LR training: {plan.reason}"
    assert english in line["message"]
    [line] = node_of(alice_client.get(f"/api/v1/runs/{run.pk}/").json(), "stats")["logs"]
    assert line["message"].startswith(f"逻辑回归训练的精度：FM64，{plan.fxp_fraction_bits} 位小数")
    assert chinese in line["message"]
    for word in ("integer", "chained", "product", "fraction", "bits"):
        assert word not in line["message"], line["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        (ZH, "流水线已不再有效：fill：参数“features”：请至少选择 1 列"),
        (
            EN,
            "the pipeline is not valid any more: fill: parameter 'features': pick at least 1 "
            "column",
        ),
    ],
)
def test_a_validation_problem_inside_not_valid_any_more_reads_in_the_readers_language(
    credit_pipeline, alice_user, bob_user, bob_client, reader, expected
):
    """The pipeline changed under a pending run (here its snapshot: no feature left to fill);
    the run fails naming the problem, read in each reader's language, not the starter's."""
    speaks(alice_user, EN if reader == ZH else ZH)
    speaks(bob_user, reader)
    run = new_run(credit_pipeline, user=alice_user)
    fill = next(node for node in run.snapshot["nodes"] if node["id"] == "fill")
    fill["params"]["features"] = []
    run.save(update_fields=["snapshot"])
    execute_run(run.pk)
    body = bob_client.get(f"/api/v1/runs/{run.pk}/").json()
    assert (body["status"], body["message"]) == (Status.FAILED, expected)


def _watch(run, users, act) -> dict[str, list[dict]]:
    """What each user's socket receives, keyed by username: the snapshot, then the events
    `act()` publishes, up to the run's status."""

    headers = {user.username: _headers(user) for user in users}

    async def watch():
        sockets = {}
        for user in users:
            path = f"/ws/runs/{run.pk}/"
            socket = WebsocketCommunicator(application, path, headers[user.username])
            connected, _ = await socket.connect()
            assert connected
            sockets[user.username] = (socket, [await socket.receive_json_from(timeout=10)])
        await sync_to_async(act)()
        for socket, received in sockets.values():
            while received[-1]["type"] != "run.status":
                received.append(await socket.receive_json_from(timeout=10))
            await socket.disconnect()
        return {name: received for name, (_, received) in sockets.items()}

    return async_to_sync(watch)()


@pytest.mark.django_db(transaction=True)
def test_each_socket_receives_the_run_in_its_users_language(credit_pipeline, alice_user, bob_user):
    speaks(alice_user, ZH)
    speaks(bob_user, EN)
    run = new_run(credit_pipeline, user=bob_user)
    read = run.nodes.get(node_id="read")

    def act():
        state.add_node_log(read, translatable("cancelled before it started"))
        state.stop_pending_run(
            run.pk,
            Status.CANCELLED,
            translatable("cancelled before it started"),
            translatable("the run was cancelled before it started"),
        )

    seen = _watch(run, [alice_user, bob_user], act)
    alice_events, bob_events = seen[alice_user.username], seen[bob_user.username]
    assert [e["type"] for e in alice_events] == [e["type"] for e in bob_events]
    assert alice_events[1]["line"]["message"] == "在开始前已取消"
    assert bob_events[1]["line"]["message"] == "cancelled before it started"
    statuses = [
        (a, b) for a, b in zip(alice_events, bob_events, strict=True) if a["type"] == "node.status"
    ]
    assert statuses
    for chinese, english in statuses:
        assert chinese["message"] == "运行在开始前已取消"
        assert english["message"] == "the run was cancelled before it started"
    assert (alice_events[-1]["message"], bob_events[-1]["message"]) == (
        "在开始前已取消",
        "cancelled before it started",
    )


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_and_run_status_follow_the_sockets_language(
    credit_pipeline, alice_user, bob_user
):
    speaks(alice_user, EN)
    speaks(bob_user, ZH)
    run = new_run(credit_pipeline, user=alice_user)
    state.stop_pending_run(
        run.pk,
        Status.CANCELLED,
        translatable("cancelled before it started"),
        translatable("the run was cancelled before it started"),
    )

    async def snapshot(headers):
        socket = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        assert (await socket.connect())[0]
        received = await socket.receive_json_from(timeout=10)
        await socket.disconnect()
        return received["run"]

    chinese = async_to_sync(snapshot)(_headers(bob_user))
    english = async_to_sync(snapshot)(_headers(alice_user))
    assert (chinese["message"], english["message"]) == (
        "在开始前已取消",
        "cancelled before it started",
    )
    assert node_of(chinese, "read")["message"] == "运行在开始前已取消"


@pytest.mark.parametrize(
    ("saved", "cookie", "accepted", "expected"),
    [
        ("zh-hans", "en", "en", ZH),  # the saved preference wins
        ("", "zh-hans", "en", ZH),  # then the language switcher's cookie
        ("", "", "zh-CN,zh;q=0.9,en;q=0.5", ZH),  # then the browser's
        ("", "", "fr-FR,de;q=0.5", EN),  # nothing supported: the default
        ("", "xx", "", EN),  # an unknown cookie value is ignored
    ],
)
def test_a_socket_reads_in_the_language_its_page_would(saved, cookie, accepted, expected):
    from types import SimpleNamespace

    from workflows.consumers import reader_language

    scope = {
        "user": SimpleNamespace(language=saved),
        "cookies": {"django_language": cookie} if cookie else {},
        "headers": [(b"accept-language", accepted.encode())] if accepted else [],
    }
    assert reader_language(scope) == expected
