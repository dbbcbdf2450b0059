"""Websocket `/ws/runs/<id>/`: a snapshot of the run on connect, then its live events.

Session-authenticated (AuthMiddlewareStack); only users whose node is a member of the run's
project may connect (others are refused with close code 4403, anonymous users with 4401).
Events arrive from the run's channel group (see `workflows.events`) and are forwarded as JSON
with their dotted type: `run.status`, `node.status`, `node.progress`, `node.log`,
`node.warning`, `node.part` (a party's part of a node in a run across nodes: public texts only).

Each user sees messages as its party may (`workflows.redaction`): events carry a failure's or
a party's warning's public text, and the consumer swaps in the full text for users of the
failing party or of the party the warning is about. The consumer also listens on the
project's group: on `project.membership` it checks that its user still belongs (active, its
node not disabled, the node still a member) and closes the socket (4403) if not, so a removed
member's or a disabled node's open page stops receiving at once.

A run written by another process (a network run's other parties' reports, a member node's own
part, separate workers) while the channel layer is in-memory is followed from the database
instead (`workflows.relay`): its changes arrive as the same events, about a second late.

Messages are rendered for each connection in its user's language (`reader_language`: the
saved preference, else the language cookie or the browser's, as pages choose), so two users
watching one run read it each in their own (`workflows.messages`); events carry the stored
form.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from workflows import events, redaction, relay, state
from workflows.api.fields import MAX_ID
from workflows.messages import render
from workflows.models import FINISHED, NodeRun, Run
from workflows.ports import console_port
from workflows.redaction import viewer_party

logger = logging.getLogger(__name__)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
DISABLED = "disabled"  # a node status: its users take part in nothing


@database_sync_to_async
def _watchable(user, run_id: int) -> tuple[int, str | None] | None:
    """(project id, the user's party) if the user may watch the run, else None."""
    run = Run.objects.select_related("pipeline").filter(pk=run_id).first()
    if run is None or not console_port().is_member(user, run.pipeline.project_id):
        return None
    return run.pipeline.project_id, viewer_party(user)


@database_sync_to_async
def _still_member(user, project_id: int) -> bool:
    """The user, as the database has it now, is active, its node is not disabled, and the node
    is still a member of the project."""
    current = get_user_model().objects.select_related("node").filter(pk=user.pk).first()
    if current is None or not current.is_active:
        return False
    if getattr(getattr(current, "node", None), "status", "") == DISABLED:
        return False
    return console_port().is_member(current, project_id)


def reader_language(scope: dict) -> str:
    """The language a connection's user reads the console in: their saved preference, else
    the language cookie, else the browser's Accept-Language (as `LocaleMiddleware` picks for
    pages), else the default."""
    supported = {code for code, _name in settings.LANGUAGES}
    saved = getattr(scope.get("user"), "language", "") or ""
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    headers = dict(scope.get("headers") or ())
    accepted = headers.get(b"accept-language", b"").decode("latin-1")
    browser = [code for code, _quality in parse_accept_lang_header(accepted)]
    for candidate in (saved, cookie, *browser):
        try:
            code = translation.get_supported_language_variant(candidate) if candidate else ""
        except LookupError:
            continue
        if code in supported:
            return code
    return settings.LANGUAGE_CODE


@database_sync_to_async
def _snapshot(run_id: int, viewer: str | None, language: str) -> dict | None:
    run = Run.objects.filter(pk=run_id).first()  # None if deleted since the check
    if run is None:
        return None
    with translation.override(language):
        return state.run_state(run, viewer)


_written_elsewhere = database_sync_to_async(relay.written_elsewhere)


@database_sync_to_async
def _current(run_id: int, viewer: str | None, language: str) -> dict | None:
    """The run's state as `relay` compares it, worded in the connection's language (as the
    snapshot it is compared with)."""
    with translation.override(language):
        return relay.current(run_id, viewer)


@database_sync_to_async
def _full_message(run_id: int, node_id: str) -> str | None:
    node = NodeRun.objects.filter(run_id=run_id, node_id=node_id).only("message").first()
    return node.message if node is not None else None


@database_sync_to_async
def _own_line(run_id: int, node_id: str, line: dict, viewer: str, language: str) -> dict:
    """A redacted log line of `viewer`'s own failure or warning, with its full text."""
    fields = ("message", "party", "warnings")
    node = NodeRun.objects.filter(run_id=run_id, node_id=node_id).only(*fields).first()
    with translation.override(language):
        if node is None:
            return line | {"message": render(line.get("message"))}
        return state.line_for(node, line, viewer)


@database_sync_to_async
def _own_warning(run_id: int, node_id: str, warning: dict, viewer: str, language: str) -> dict:
    """A warning about `viewer`'s data, with its full text (events carry the public one)."""
    node = NodeRun.objects.filter(run_id=run_id, node_id=node_id).only("warnings").first()
    index = warning.get("index")
    with translation.override(language):
        if node is None or not isinstance(index, int) or not 0 <= index < len(node.warnings):
            return warning | {"message": render(warning.get("message"))}
        return redaction.warning_for(node.warnings[index], viewer) | {"index": index}


@database_sync_to_async
def _run_message(run_id: int, viewer: str, language: str) -> str | None:
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return None
    with translation.override(language):
        return state.run_message(run, viewer)


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        # An id no database row can have is an unknown run (and would overflow the query).
        watchable = await _watchable(user, self.run_id) if self.run_id <= MAX_ID else None
        if watchable is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.project_id, self.party = watchable
        self.language = reader_language(self.scope)
        # Run threads publish to the in-memory layer on this loop (it is not thread-safe).
        events.bind_loop(asyncio.get_running_loop())
        # Join the groups before reading the snapshot: an event published in between is then
        # delivered after the snapshot (and is at worst a repeat of what it already shows),
        # instead of being lost.
        self.groups_joined = [
            events.group_name(self.run_id),
            events.project_group_name(self.project_id),
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        snapshot = await _snapshot(self.run_id, self.party, self.language)
        if snapshot is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.send_json({"type": "run.snapshot", "run": snapshot})
        if await _written_elsewhere(self.run_id):
            self.poller = asyncio.create_task(self.follow_database(snapshot))

    async def follow_database(self, seen: dict) -> None:
        """Send what another process wrote to the run (`workflows.relay`) until it ends."""
        while seen["status"] not in FINISHED:
            await asyncio.sleep(relay.POLL_SECONDS)
            try:
                fresh = await _current(self.run_id, self.party, self.language)
            except DatabaseError:  # a busy database: the next read catches up
                logger.warning("Run %s: could not read its state", self.run_id, exc_info=True)
                continue
            if fresh is None:
                return
            for event in relay.changes(seen, fresh):
                await self.send_json(event)
            seen = fresh

    async def disconnect(self, code: int) -> None:
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.cancel()
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def forward(self, event: dict) -> None:
        await self.send_json(event)

    def _render(self, stored) -> str:
        """A stored message in this connection's user's language."""
        return render(stored, self.language)

    async def node_status(self, event: dict) -> None:
        message = event.get("message")
        if self.party and event.get("party") == self.party:
            # This party's own failure: its users read the full text.
            full = await _full_message(self.run_id, event["node"])
            message = full if full is not None else message
        await self.send_json(event | {"message": self._render(message)})

    async def project_membership(self, event: dict) -> None:
        if not await _still_member(self.scope["user"], self.project_id):
            await self.close(code=CLOSE_FORBIDDEN)

    async def node_log(self, event: dict) -> None:
        line = event.get("line") or {}
        if self.party and line.get("party") == self.party and line.get("redacted"):
            # This party's own failure or warning line: its users read the full text.
            line = await _own_line(self.run_id, event["node"], line, self.party, self.language)
        else:
            line = line | {"message": self._render(line.get("message"))}
        await self.send_json(event | {"line": line})

    async def node_warning(self, event: dict) -> None:
        warning = event.get("warning") or {}
        if self.party and warning.get("party") == self.party and warning.get("redacted"):
            # A warning about this party's data: its users read the full text.
            node = event["node"]
            warning = await _own_warning(self.run_id, node, warning, self.party, self.language)
        else:
            warning = warning | {"message": self._render(warning.get("message"))}
        await self.send_json(event | {"warning": warning})

    async def run_status(self, event: dict) -> None:
        message = self._render(event.get("message"))
        if self.party and event.get("status") == "failed":
            # The run's message names the first failure's reason as this party may read it.
            own = await _run_message(self.run_id, self.party, self.language)
            message = own if own is not None else message
        await self.send_json(event | {"message": message})

    async def node_part(self, event: dict) -> None:
        # A party's part of a run across nodes: its message is the public text.
        await self.send_json(event | {"message": self._render(event.get("message"))})

    node_progress = forward
