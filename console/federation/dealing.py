"""A dealer node: this installation serves SEMI2K's Beaver triples to other nodes' runs.

Scheme (`core.mpc.correlated.remote`, `core.device.dealer_node`): the dealer joins the run's
engine cluster as a node with `"role": "dealer"`; at each SPU's setup every party asks it for
its PRG seed, and during the computation the SPU's first party sends it each correlation
request (a kind and shapes, never a value); it answers with that party's corrections. It
receives no data, no pipeline graph, no share and no revealed value: the parties' engines
send a dealer node nothing else (`core.device.deployment`), and this node is sent no job.

Trust: the dealer learns every party's correlated randomness, so the parties trust it to be
semi-honest and to collude with none of them (that is why it must be no party of the run:
`console.federation.dealers` and the members' `RunStart` checks). This node, in turn, trusts
no one: the initiating node is a paired peer, not trusted to behave (threat model of
`console.federation.handlers`). So `DealerStart` is accepted only when

1. this node's operator enabled serving as a dealer (`PRIVPAD_SERVES_DEALER`, off by default)
   and it has an engine address the parties can dial (`PRIVPAD_ENGINE_ADDRESS`);
2. the initiator is one of the run's parties, and this node is none of them;
3. this node is paired with every party (its engine pins each party's certificate from its
   own pairing: a party it never paired with cannot reach it) and each route is enabled;
4. each party's engine address is host:port.

Its reply gives this node's engine address; its service then starts in the background, on the
node's task back-end as a member's part does (`console.federation.member_runs`): it opens the
run's links (bound to its own thread, `core.device.runtime.using`, so several runs and this
node's own work share the process), answers until every party shut its links down, and
records the service (`DealerService`: the project's owner node, run id, parties, start, end,
how each party's service ended), which this node's operator sees on its dealer page. A run
that will not start after all (a party could not be launched) is stopped by its initiator
(`DealerStop`): the service stops waiting for the parties' links at once.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from console.audit.log import Action, record
from console.federation import projects, wire
from console.federation.engine import ADDRESS, engine_network, engines_field
from console.federation.handlers import PeerActor, handles, refuse
from console.federation.models import DealerService
from console.nodes.link.envelope import EnvelopeError, text_field
from console.nodes.models import PeerRoute
from core.comm.causes import LinkCause
from core.comm.network import PeerFailures
from core.device import runtime
from core.device.dealer_node import serve_peers
from core.errors import ConfigError, LinkError
from workflows.messages import Storable, parse, said_by, stored_within, translatable

NORMAL_END = "peer_closed"  # a party shut its links down at the end of its program


@handles("DealerStart")
def dealer_start(peer: PeerActor, body: dict) -> dict:
    """A run's initiator asks this node to serve the run's triples (module docstring)."""
    me = projects.self_node()
    _serves_dealer(me.name)
    remote_run = wire.int_field(body, "run", 1)
    known = DealerService.objects.filter(origin=peer.node, remote_run=remote_run).first()
    if known is not None:
        return _accepted()
    parties = _parties(body, peer.name, me.name)
    engines = engines_field(body, parties)
    _paired_with_every(parties)
    service = DealerService.objects.create(
        origin=peer.node,
        remote_run=remote_run,
        project_uid=wire.uid_field(body, "project"),
        project_name=text_field(body, "project_name", 120),
        parties=parties,
        engines=engines,
    )
    record(
        peer.actor,
        Action.RUN_START,
        target=service,
        node=me,
        served_as="dealer node",
        remote_run=remote_run,
        parties=parties,
    )
    transaction.on_commit(lambda: start_service(service.pk))
    return _accepted()


def _accepted() -> dict:
    return {"accepted": True, "engine": settings.PRIVPAD_ENGINE_ADDRESS}


def _serves_dealer(me: str) -> None:
    if not settings.PRIVPAD_SERVES_DEALER:
        raise refuse(
            translatable(
                "%(node)s does not serve as a dealer node: its operator has not enabled "
                "PRIVPAD_SERVES_DEALER",
                node=me,
            )
        )
    if not ADDRESS.match(settings.PRIVPAD_ENGINE_ADDRESS):
        raise refuse(
            translatable(
                "%(node)s has no engine address (PRIVPAD_ENGINE_ADDRESS) for runs", node=me
            )
        )


def _parties(body: dict, sender: str, me: str) -> list[str]:
    listed = body.get("parties")
    if not isinstance(listed, list) or not 2 <= len(listed) <= wire.MAX_MEMBERS:
        raise EnvelopeError(translatable("a run lists 2 to %(max)s parties", max=wire.MAX_MEMBERS))
    parties = [wire.node_name(party) for party in listed]
    if len(set(parties)) != len(parties):
        raise EnvelopeError(translatable("the run names a party twice"))
    if me in parties:
        raise refuse(
            translatable(
                "%(node)s is one of the run's parties: a dealer node serves only runs it "
                "computes nothing in",
                node=me,
            )
        )
    if sender not in parties:
        raise refuse(
            translatable(
                "%(peer)s is not a party of the run it asks this node to serve", peer=sender
            )
        )
    return parties


def _paired_with_every(parties: list[str]) -> None:
    routes = PeerRoute.objects.filter(node__name__in=parties, enabled=True)
    unpaired = sorted(set(parties) - set(routes.values_list("node__name", flat=True)))
    if unpaired:
        raise refuse(
            translatable(
                "this dealer node is not paired with %(parties)s (or its route is disabled): "
                "pair with every party first",
                parties=unpaired,
            )
        )


# --- Serving ----------------------------------------------------------------------------------


@task()
def serve_task(service_id: int) -> str:
    return serve(service_id)


def start_service(service_id: int):
    """Queue the service of a run on this node's task back-end."""
    return serve_task.enqueue(service_id)


_WAITING: dict[int, PeerFailures] = {}  # services of this process, by id: `dealer_stop`
_WAITING_LOCK = threading.Lock()


def serve(service_id: int) -> str:
    """Serve one accepted run until every party shut its links down; returns the final state.
    A service that started already (or was stopped) is not started again."""
    claimed = DealerService.objects.filter(pk=service_id, state=DealerService.State.PENDING)
    if not claimed.update(state=DealerService.State.SERVING, started_at=timezone.now()):
        return "not pending"
    service = DealerService.objects.get(pk=service_id)
    me = projects.self_node().name
    with _WAITING_LOCK:
        failures = _WAITING[service_id] = PeerFailures()
    try:
        addresses = {**service.engines, me: settings.PRIVPAD_ENGINE_ADDRESS}
        network = engine_network(service.parties, me, addresses, dealer=me)
        deployment = replace(network, peer_failures=failures).connect()
    except (ConfigError, LinkError) as error:  # EngineSetupError is a ConfigError
        return _finish(service, {}, said_by(error))
    finally:
        with _WAITING_LOCK:
            _WAITING.pop(service_id, None)
    with runtime.using(deployment):
        endings = serve_peers()
    failed = sorted(party for party, error in endings.items() if not ended_normally(error))
    problem = None
    if failed or not endings:
        problem = translatable(
            "the service of %(parties)s did not end normally", parties=failed or service.parties
        )
    words = {party: str(peer_cause(error)) for party, error in endings.items()}
    return _finish(service, words, problem)


def peer_cause(error: LinkError):
    """The peer's own cause of `error` (a cause "at <this party>" wraps it:
    `core.comm.causes`), or the error's text when the engine gave no cause."""
    cause = error.cause
    while getattr(cause, "code", None) == "at_party":
        cause = cause.params.get("reason")
    return cause if cause is not None else str(error)


def ended_normally(error: LinkError) -> bool:
    """The peer shut its links down at the end of its program."""
    return getattr(peer_cause(error), "code", None) == NORMAL_END


def _finish(service: DealerService, endings: dict, problem: Storable) -> str:
    """Record how the service ended: normally (no `problem`) when every party shut its links
    down at the end of its program; stopped when its initiator said the run would not start
    (`dealer_stop` wrote why while it was serving)."""
    service.refresh_from_db(fields=["message"])
    if service.message:
        service.state = DealerService.State.STOPPED
    elif problem is not None:
        service.state = DealerService.State.FAILED
        service.message = stored_within(problem, 500)
    else:
        service.state = DealerService.State.ENDED
    service.endings, service.ended_at = endings, timezone.now()
    service.save(update_fields=["state", "endings", "message", "ended_at"])
    return service.state


@handles("DealerStop")
def dealer_stop(peer: PeerActor, body: dict) -> dict:
    """The initiator of a run this node accepted to serve says the run will not start (a
    party could not be launched): the service stops waiting for the parties' links at once
    rather than at the links' connect timeout, and is recorded as stopped, with why."""
    remote_run = wire.int_field(body, "run", 1)
    service = DealerService.objects.filter(origin=peer.node, remote_run=remote_run).first()
    if service is None:
        raise refuse(translatable("%(peer)s started no such run on this node", peer=peer.name))
    reason = parse(wire.optional_text(body, "reason", 500))
    stopped = translatable(
        "stopped by %(node)s: the run did not start (%(reason)s)", node=peer.name, reason=reason
    )
    if service.state == DealerService.State.PENDING:
        service.state, service.ended_at = DealerService.State.STOPPED, timezone.now()
    elif service.state != DealerService.State.SERVING:
        return {"stopped": False, "state": service.state}
    service.message = stored_within(stopped, 500)
    service.save(update_fields=["state", "message", "ended_at"])
    transaction.on_commit(lambda: _fail_waiting(service, peer.name))
    return {"stopped": True, "state": service.state}


def _fail_waiting(service: DealerService, initiator: str) -> None:
    """End the service's wait for the parties' links, if it waits in this process."""
    with _WAITING_LOCK:
        failures = _WAITING.get(service.pk)
    if failures is not None:
        cause = LinkCause("aborted", peer=initiator, reason="the run did not start")
        for party in service.parties:
            failures.report(party, cause)
