"""Live run events on the channel layer: group `run-<id>`, dotted types.

Event types: `run.status`, `node.status`, `node.progress`, `node.log` (a line with its level),
`node.part` (a party's status and progress on its part of a node, in a run across nodes),
`node.warning` (consumers turn the dots into handler names and forward the JSON, with a
failure's or a party's warning's full text swapped in for that party's users). Group
`project-<id>` carries `project.membership` when the project's members change: every run
consumer of the project checks that its user still belongs, and closes the socket if not.

The in-memory channel layer (embedded default) is not thread-safe and belongs to the event loop
of the server: run threads must not call it directly. The websocket consumer binds that loop
here when a client connects (`bind_loop`), and events from run threads are scheduled onto it
with `asyncio.run_coroutine_threadsafe`. If no loop is bound, nobody in this process listens
and in-memory events are dropped. Other layers (Redis, used with separate workers) are safe to
call from any thread through `async_to_sync`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
_listeners: list[Callable[[dict], None]] = []


def group_name(run_id: int) -> str:
    return f"run-{run_id}"


def project_group_name(project_id: int) -> str:
    return f"project-{project_id}"


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the server's event loop (called from a consumer running on it)."""
    global _loop
    with _lock:
        _loop = loop


def _bound_loop() -> asyncio.AbstractEventLoop | None:
    with _lock:
        loop = _loop
    return loop if loop is not None and not loop.is_closed() and loop.is_running() else None


@contextmanager
def listening(callback: Callable[[dict], None]) -> Iterator[None]:
    """Also hand every event published by this process to `callback` (terminal progress)."""
    with _lock:
        _listeners.append(callback)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(callback)


def publish(run_id: int, event_type: str, **payload) -> None:
    """Send one event to the run's group; never raises (progress must not break a run)."""
    message = {"type": event_type, "run": run_id, **payload}
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(message)
    _group_send(group_name(run_id), message)


def membership_changed(project_id: int) -> None:
    """Tell the project's run consumers to check that their users still belong."""
    _group_send(
        project_group_name(project_id), {"type": "project.membership", "project": project_id}
    )


def _group_send(group: str, message: dict) -> None:
    event_type = message["type"]
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if isinstance(layer, InMemoryChannelLayer):
            loop = _bound_loop()
            if loop is not None:
                coroutine = layer.group_send(group, message)
                asyncio.run_coroutine_threadsafe(coroutine, loop)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a broken channel layer must not fail the run
        logger.warning("Could not publish %s to %s", event_type, group, exc_info=True)
