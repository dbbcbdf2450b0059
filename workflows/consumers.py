"""Websocket `/ws/runs/<id>/`: a snapshot of the run on connect, then its live events.

Session-authenticated (AuthMiddlewareStack); only users whose node is a member of the run's
project may connect (others are refused with close code 4403, anonymous users with 4401).
Events arrive from the run's channel group (see `workflows.events`) and are forwarded as JSON
with their dotted type: `run.status`, `node.status`, `node.progress`, `node.log`.
"""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from workflows import events, state
from workflows.api.fields import MAX_ID
from workflows.models import Run
from workflows.ports import console_port

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _may_watch(user, run_id: int) -> bool:
    run = Run.objects.select_related("pipeline").filter(pk=run_id).first()
    return run is not None and console_port().is_member(user, run.pipeline.project_id)


@database_sync_to_async
def _snapshot(run_id: int) -> dict | None:
    run = Run.objects.filter(pk=run_id).first()  # None if deleted since the check
    return state.run_state(run) if run is not None else None


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        # An id no database row can have is an unknown run (and would overflow the query).
        if self.run_id > MAX_ID or not await _may_watch(user, self.run_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Run threads publish to the in-memory layer on this loop (it is not thread-safe).
        events.bind_loop(asyncio.get_running_loop())
        # Join the group before reading the snapshot: an event published in between is then
        # delivered after the snapshot (and is at worst a repeat of what it already shows),
        # instead of being lost.
        self.group = events.group_name(self.run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        snapshot = await _snapshot(self.run_id)
        if snapshot is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.send_json({"type": "run.snapshot", "run": snapshot})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def forward(self, event: dict) -> None:
        await self.send_json(event)

    run_status = node_status = node_progress = node_log = forward
