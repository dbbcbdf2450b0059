"""Websocket load on a live console (`LiveStack`): many clients on run streams, nothing lost.

Two phases, each on runs of a short pipeline (read alice's dataset -> table statistics):

- one run, `clients` websocket clients on `/ws/runs/<id>/` (users alice, bob and carol in turn:
  each party's view goes through its own redaction path);
- `runs` runs started at once (concurrent POSTs), one client each; they queue behind the
  `db_worker` processes (one run at a time per worker: the concurrency cap of worker mode).
  On SQLite the POSTs go one after another: concurrent run starts there fail with "database is
  locked" (500), a known problem of the embedded database (issue 15), not of the streams.

The workers start only once every client holds its snapshot, so each client can and must see
every transition: its `run.status` and `node.status` sequence (snapshot first, repeats
collapsed) has to equal the one the run's final state implies (pending, running if it started,
then its final status), and all clients of a run must receive the same events in the same
order. Log lines are checked the same way against the run's final logs.

Latencies: connection (start of the TCP connect to the snapshot), delivery (receipt against the
server's own timestamps on the same clock: a node's `started_at` / `finished_at`, the run's
`finished_at`, a log line's `time`; they are taken just before the row is saved and the event
published, so they include that write), and fan-out spread (first to last client receiving the
same event). Clients are autobahn's asyncio websocket clients (autobahn comes with daphne).
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from console.testing.livestack import LiveStack, rss_kib

USERS = ("alice", "bob", "carol")
UNFINISHED = ("pending", "running")
NORMAL_CLOSE = 1000
CONNECT_TIMEOUT_SECONDS = 60
# autobahn gives the server 1 s to answer a close frame; a loaded 2-core machine can take longer
# (measured: `close_handshake_ms`), which is no lost event.
CLOSE_HANDSHAKE_TIMEOUT_SECONDS = 15


@dataclass
class Watch:
    """One websocket client's record of one run's stream."""

    run_id: int
    user: str
    connect_started: float = 0.0
    opened_at: float | None = None
    snapshot_at: float | None = None
    snapshot: dict | None = None
    events: list[tuple[float, dict]] = field(default_factory=list)
    close_sent_at: float | None = None
    closed_at: float | None = None
    close_code: int | None = None
    close_reason: str = ""


def _client_class():
    """autobahn's asyncio flavour, imported on first use: a process that has loaded daphne
    (Django with `daphne` installed: a test process) has bound txaio to Twisted for good, so
    the clients run in a process of their own (`benchmarks/ws_load.py`)."""
    from autobahn.asyncio.websocket import WebSocketClientProtocol

    class Client(_ClientCallbacks, WebSocketClientProtocol):
        pass

    return Client


class _ClientCallbacks:
    def onOpen(self) -> None:  # noqa: N802 - autobahn's callback names
        self.factory.watch.opened_at = time.time()

    def onMessage(self, payload: bytes, is_binary: bool) -> None:  # noqa: N802
        watch, now = self.factory.watch, time.time()
        message = json.loads(payload)
        if message["type"] == "run.snapshot":
            watch.snapshot_at, watch.snapshot = now, message["run"]
            _settle(self.factory.snapshot_received, True)
            return
        watch.events.append((now, message))
        if message["type"] == "run.status" and message["status"] not in UNFINISHED:
            watch.close_sent_at = now
            self.sendClose(NORMAL_CLOSE)

    def onClose(self, was_clean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802
        watch = self.factory.watch
        watch.closed_at, watch.close_code, watch.close_reason = time.time(), code, reason or ""
        _settle(self.factory.snapshot_received, False)
        _settle(self.factory.closed, code)


def _settle(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


async def _connect(base_url: str, watch: Watch, cookie: str) -> asyncio.Future:
    """Open the client; return the future its close settles (connected once it has a snapshot)."""
    loop = asyncio.get_running_loop()
    url = base_url.replace("http://", "ws://") + f"/ws/runs/{watch.run_id}/"
    from autobahn.asyncio.websocket import WebSocketClientFactory

    factory = WebSocketClientFactory(url, origin=base_url, headers={"Cookie": cookie})
    factory.setProtocolOptions(closeHandshakeTimeout=CLOSE_HANDSHAKE_TIMEOUT_SECONDS)
    factory.protocol = _client_class()
    factory.watch = watch
    factory.snapshot_received, factory.closed = loop.create_future(), loop.create_future()
    address = urlsplit(base_url)
    watch.connect_started = time.time()
    await loop.create_connection(factory, address.hostname, address.port)
    if not await asyncio.wait_for(factory.snapshot_received, CONNECT_TIMEOUT_SECONDS):
        raise RuntimeError(
            f"run {watch.run_id}: {watch.user}'s socket closed before its snapshot "
            f"(code {watch.close_code}: {watch.close_reason})"
        )
    return factory.closed


async def _watch_all(stack: LiveStack, watches: list[Watch], cookies: dict, timeout: float):
    """Connect every client, then start the workers, then wait until every run has finished."""
    connected = await asyncio.gather(
        *(_connect(stack.base_url, watch, cookies[watch.user]) for watch in watches)
    )
    started = time.time()
    stack.start_workers()
    try:
        await asyncio.wait_for(asyncio.gather(*connected), timeout)
    except TimeoutError:
        waiting = zip(watches, connected, strict=True)
        unfinished = sorted({watch.run_id for watch, done in waiting if not done.done()})
        raise RuntimeError(f"runs {unfinished} did not finish within {timeout} s") from None
    finally:
        stack.stop_workers()
    return started, time.time()


def run_phase(
    stack: LiveStack, sessions: dict, pipeline: int, runs: int, clients_per_run: int, timeout: float
) -> dict:
    """Start `runs` runs at once, watch each with `clients_per_run` clients; figures and
    problems (an empty `problems` list: nothing lost or reordered)."""
    starter = sessions["alice"]
    at_once = runs if stack.database == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=min(at_once, 20)) as pool:
        created = list(
            pool.map(lambda _: starter.api("POST", f"pipelines/{pipeline}/runs/", {}), range(runs))
        )
    run_ids = [run["id"] for run in created]
    watches = [
        Watch(run_id, USERS[index % len(USERS)])
        for run_id in run_ids
        for index in range(clients_per_run)
    ]
    cookies = {user: session.cookie_header() for user, session in sessions.items()}
    load_before, memory_before = _load(), _memory(stack)
    workers_started, finished = asyncio.run(_watch_all(stack, watches, cookies, timeout))
    finals = {
        (run_id, user): sessions[user].api("GET", f"runs/{run_id}/")
        for run_id in run_ids
        for user in {w.user for w in watches if w.run_id == run_id}
    }
    problems = [problem for watch in watches for problem in check_watch(watch, finals)]
    problems += check_same_stream(watches)
    by_run = {run_id: final for (run_id, _), final in finals.items()}
    overlap = most_at_once(by_run.values())
    if overlap > stack.worker_count:
        problems.append(f"{overlap} runs executed at once with {stack.worker_count} workers")
    diagnosis = {"daphne_log_tail": stack.log_tail("daphne")} if problems else {}
    return diagnosis | {
        "database": stack.database,
        "runs_started_concurrently": at_once > 1,
        "runs": runs,
        "clients_per_run": clients_per_run,
        "clients": len(watches),
        "run_statuses": _count(final["status"] for final in by_run.values()),
        "most_runs_executing_at_once": overlap,
        "wall_s": round(finished - workers_started, 3),
        "problems": problems,
        **figures(watches, finals),
        "memory_kib": {"before": memory_before, "after": _memory(stack)},
        "load_average": {"before": load_before, "after": _load()},
    }


# -- checks -----------------------------------------------------------------------------------
def transitions(final: dict) -> list[str]:
    """The statuses a run or node went through, as its final state implies."""
    path = ["pending"]
    if final.get("started_at") or final["status"] == "running":
        path.append("running")
    if final["status"] not in UNFINISHED:
        path.append(final["status"])
    return path


def _collapse(statuses: list[str]) -> list[str]:
    # A status published between joining the group and reading the snapshot arrives twice.
    return [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]


def check_watch(watch: Watch, finals: dict) -> list[str]:
    """Problems with one client's record: every status transition and log line, in order."""
    final, who = finals[(watch.run_id, watch.user)], f"run {watch.run_id} ({watch.user})"
    if watch.snapshot is None:
        return [f"{who}: no snapshot"]
    problems = []
    if watch.close_code != NORMAL_CLOSE:
        problems.append(f"{who}: closed with {watch.close_code} {watch.close_reason!r}")
    seen = [watch.snapshot["status"]] + [e["status"] for _, e in watch.events if _is(e, "run")]
    if _collapse(seen) != transitions(final):
        problems.append(f"{who}: run statuses {seen}, expected {transitions(final)}")
    snapshot_nodes = {node["node"]: node for node in watch.snapshot["nodes"]}
    for node in final["nodes"]:
        name = node["node"]
        mine = [e for _, e in watch.events if e.get("node") == name]
        seen = [snapshot_nodes[name]["status"]] + [e["status"] for e in mine if _is(e, "node")]
        if _collapse(seen) != transitions(node):
            problems.append(f"{who}: node {name} statuses {seen}, expected {transitions(node)}")
        logs = [e["line"]["time"] for e in mine if e["type"] == "node.log"]
        expected = [line["time"] for line in node["logs"]]
        if logs != expected:
            problems.append(f"{who}: node {name} got {len(logs)} log lines of {len(expected)}")
    return problems


def most_at_once(runs) -> int:
    """The most runs executing at the same moment, from their started and finished times."""
    edges = []
    for run in runs:
        if run.get("started_at") and run.get("finished_at"):
            edges += [(run["started_at"], 1), (run["finished_at"], -1)]
    # ISO timestamps of one zone sort as times; at a tie a run finishing frees its place first.
    running = most = 0
    for _, step in sorted(edges, key=lambda edge: (datetime.fromisoformat(edge[0]), edge[1])):
        running += step
        most = max(most, running)
    return most


def _is(event: dict, kind: str) -> bool:
    return event["type"] == f"{kind}.status"


def _signature(event: dict) -> tuple:
    detail = event.get("status", event.get("progress", (event.get("line") or {}).get("time")))
    return event["type"], event.get("node"), detail


def check_same_stream(watches: list[Watch]) -> list[str]:
    """Every client of a run received the same events in the same order."""
    streams: dict[int, list] = {}
    problems = []
    for watch in watches:
        stream = [_signature(event) for _, event in watch.events]
        reference = streams.setdefault(watch.run_id, stream)
        if stream != reference:
            problems.append(
                f"run {watch.run_id} ({watch.user}): {len(stream)} events differ from another "
                f"client's {len(reference)}"
            )
    return problems


# -- figures ----------------------------------------------------------------------------------
def figures(watches: list[Watch], finals: dict) -> dict:
    connect = [w.snapshot_at - w.connect_started for w in watches if w.snapshot_at]
    handshake = [w.opened_at - w.connect_started for w in watches if w.opened_at]
    closing = [w.closed_at - w.close_sent_at for w in watches if w.closed_at and w.close_sent_at]
    delivery = [lag for w in watches for lag in _delivery(w, finals[(w.run_id, w.user)])]
    received = [at for w in watches for at, _ in w.events]
    span = max(received) - min(received) if received else 0.0
    return {
        "events_received": len(received),
        "events_per_s": round(len(received) / span, 1) if span else None,
        "handshake_ms": _percentiles(handshake),
        "connect_to_snapshot_ms": _percentiles(connect),
        "delivery_ms": _percentiles(delivery),
        "fanout_spread_ms": _percentiles(_spreads(watches)),
        "close_handshake_ms": _percentiles(closing),
    }


def _delivery(watch: Watch, final: dict) -> list[float]:
    """Receipt minus the server's timestamp of the change, for events that carry one."""
    nodes = {node["node"]: node for node in final["nodes"]}
    lags = []
    for at, event in watch.events:
        stamp = None
        if event["type"] == "node.log":
            stamp = event["line"]["time"]
        elif event["type"] == "node.status":
            node = nodes[event["node"]]
            stamp = node["started_at"] if event["status"] == "running" else node["finished_at"]
        elif event["type"] == "run.status" and event["status"] not in UNFINISHED:
            stamp = final["finished_at"]
        if stamp:
            lags.append(at - datetime.fromisoformat(stamp).timestamp())
    return lags


def _spreads(watches: list[Watch]) -> list[float]:
    """First to last receipt of each event of a run by its clients (runs with several)."""
    receipts: dict[tuple, list[float]] = {}
    for watch in watches:
        for index, (at, _) in enumerate(watch.events):
            receipts.setdefault((watch.run_id, index), []).append(at)
    return [max(times) - min(times) for times in receipts.values() if len(times) > 1]


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50": rank(0.5), "p95": rank(0.95), "max": rank(1.0)}


def _count(values) -> dict:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _memory(stack: LiveStack) -> dict:
    return {name: rss_kib(stack.pid(name)) for name in ("daphne", "redis")}


def _load() -> list[float]:
    import os

    return [round(value, 2) for value in os.getloadavg()]


# -- setup ------------------------------------------------------------------------------------
def sign_in_demo_users(stack: LiveStack) -> dict:
    return {user: stack.login(user, f"privpad-{user}") for user in USERS}


def short_pipeline(alice) -> int:
    """alice's dataset read and described: a run of two nodes, a few seconds long."""
    projects = _items(alice.api("GET", "projects/"))
    project = next(p for p in projects if p["name"] == "Joint credit risk")
    datasets = _items(alice.api("GET", "datasets/"))
    dataset = next(d for d in datasets if d["is_owner"] and d["node"]["name"] == "alice")
    graph = {
        "nodes": [
            _node("read", "read/dataset", dataset=dataset["id"]),
            _node("stats", "stats/table_statistics"),
        ],
        "edges": [
            {
                "source": {"node": "read", "port": "output_ds"},
                "target": {"node": "stats", "port": "input_ds"},
            }
        ],
    }
    body = {"project": project["id"], "name": "websocket load", "graph": graph}
    return alice.api("POST", "pipelines/", body)["id"]


def _items(page) -> list:
    return page["results"] if isinstance(page, dict) else page


def _node(node_id: str, component: str, **params) -> dict:
    return {"id": node_id, "component": component, "params": params, "position": {"x": 0, "y": 0}}
