"""Production mode: django-tasks-db's queue drained by `db_worker`, events on Redis.

Starts Debian's `redis-server` on a free loopback port (skipped when it is not installed;
`make test` installs it). The worker runs in this process (`call_command("db_worker",
"--batch")`) so that it shares the test database, which an in-memory SQLite test database
requires; it is the same command a separate worker process runs.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from console.env import redis_channel_layer
from tests.workflows.conftest import edge, node
from tests.workflows.runs import new_run
from workflows import events, services
from workflows.models import Run, Status

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make test installs Debian's package)")
    port, workdir = _free_port(), tempfile.mkdtemp(prefix="privpad-redis-")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer on port {port}")


@pytest.fixture
def worker_mode(settings, redis_url):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(redis_url, settings.CHANNEL_CAPACITY)}


def _run_worker() -> None:
    # db_worker installs signal handlers; put pytest's back afterwards.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_a_worker_runs_a_queued_pipeline_and_publishes_on_redis(
    worker_mode, pipeline_factory, credit
):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    run = new_run(pipeline_factory(graph))
    layer = get_channel_layer()

    async def subscribe() -> str:
        channel = await layer.new_channel()
        await layer.group_add(events.group_name(run.pk), channel)
        return channel

    channel = async_to_sync(subscribe)()
    services.enqueue(run)
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert Run.objects.get(pk=run.pk).executor == ""  # queued: no process owns it yet

    _run_worker()

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.message
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"

    async def drain() -> list[dict]:
        received = []
        while (
            not received
            or received[-1]["type"] != "run.status"
            or received[-1]["status"] != "succeeded"
        ):
            received.append(await asyncio.wait_for(layer.receive(channel), timeout=10))
        return received

    received = async_to_sync(drain)()
    kinds = [event["type"] for event in received]
    assert kinds[0] == "run.status"
    assert {"node.status", "node.progress", "node.log"} <= set(kinds)


def test_a_consumer_waiting_longer_than_a_blocking_pop_keeps_its_connection(worker_mode):
    """An idle websocket consumer (its run still queued) waits in channels_redis' blocking pop.
    redis-py 8 ends any read after 5 s by default; the pop is made to outlast that here, and the
    wait must end by our own timeout, not with redis' "Timeout reading from" (which closed the
    socket with 1011 and lost every later event: the websocket load benchmark found it)."""
    layer = get_channel_layer()
    layer.brpop_timeout = 6  # redis-py 8's default read timeout is 5 s

    async def wait_idle() -> None:
        channel = await layer.new_channel()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(channel), timeout=layer.brpop_timeout + 1)
        await layer.flush()

    async_to_sync(wait_idle)()
