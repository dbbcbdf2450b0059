"""Runs across nodes: a member node's part of a run started at the project's owner node.

The initiating node (the project's owner: pipelines are edited and run there) asks every
participating member to take part with a `RunStart` message. It carries the initiator's run id,
the replicated pipeline's id and version, the disclosure plan's fingerprint, the member's party
job (`workflows.party_jobs.job_to_dict` for that party: the graph snapshot, the sources with no
other party's storage path) and, for each of the member's own sources, its identity at the
owner (`console.federation.sources.source_identity`).

The member decides alone, from its own copy of the project (threat model of
`console.federation.handlers`: the initiator is a paired peer, not trusted to behave):

1. the sender owns the project here, the project is active and this node is a member;
   the run's source of Beaver triples (`dealer`: a dealer node, or none for the trusted
   first party) is the one its own copy of the project names (`console.federation.dealers`),
   and a dealer node is no party of the run and is paired with this node (its certificate is
   pinned here, never taken from the initiator);
2. the run's pipeline is the replica this node holds, at the same version, and the snapshot
   is that replica's graph (a run cannot execute a graph the members never saw);
3. every party of the job is a member of the project here;
4. each of its own sources resolves to its own authorised file, under the same authorisation,
   columns and roles;
5. validating the snapshot here, with this node's own standing policies on its sources (never
   the initiator's copy of them), gives the plan the initiator names (same fingerprint) and
   no refusal of its policies (the refusal's reason is sent back), and its own owners
   approved that plan wherever their policy asks about it (`consent.asked`).

Any refusal names the reason, and nothing is recorded. Accepting records the run here (its own
`Run` row on the replica pipeline: the run page of this node, with this node's outputs and
report, started by the initiator's user as the initiator states it: `started_by`) and a
`RunReplica` holding the job with this node's storage root for the initiator's runs
(`member_part_root`: their directories carry the initiator's run ids); the reply gives this
node's engine address (`PRIVPAD_ENGINE_ADDRESS`) for the cluster the initiator launches.

`RunLaunch` follows once every party (and the dealer node, `console.federation.dealing`)
accepted: the engine address of each party and of the dealer; this node then starts its worker
(`console.federation.member_runs`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.db import transaction

from console.federation import dealers, projects, wire
from console.federation.engine import EngineSetupError, engines_field, pinned_dealer_certificate
from console.federation.handlers import PeerActor, _project_owned_by, handles, refuse
from console.federation.models import PipelineReplica, RunReplica, RunTripleSource
from console.federation.sources import UnresolvedSource, resolve_at_owner
from console.nodes.link.envelope import EnvelopeError, text_field
from console.projects.models import Project, ProjectMember
from core.errors import ConfigError
from workflows import timeline
from workflows.components import registry
from workflows.disclosure import consent
from workflows.graph import GraphFormatError, parse_graph
from workflows.messages import parse, said_by, translatable
from workflows.models import Approval, Run
from workflows.party_jobs import PartyJob, job_from_dict, job_to_dict
from workflows.ports import console_port
from workflows.services import create_run
from workflows.validation import Validation, validate


@handles("RunStart")
def run_start(peer: PeerActor, body: dict) -> dict:
    """The initiator asks this node to take part in a run (see the module docstring)."""
    shared = _project_owned_by(peer, body)
    project, me = shared.project, projects.self_node()
    if project.is_archived or not project.has_member(me):
        raise refuse(
            translatable(
                "this node (%(node)s) takes no part in project '%(project)s'",
                node=me.name,
                project=project.name,
            )
        )
    if not settings.PRIVPAD_ENGINE_ADDRESS:
        raise refuse(
            translatable(
                "%(node)s has no engine address (PRIVPAD_ENGINE_ADDRESS) for runs", node=me.name
            )
        )
    remote_run = wire.int_field(body, "run", 1)
    timeline.mark(remote_run, "runstart.received")
    starter = wire.stated_name(body, "started_by")
    known = RunReplica.objects.filter(origin=peer.node, remote_id=remote_run).first()
    if known is not None:
        return _accepted(known.run)
    replica = _replica(peer, project, wire.map_field(body, "pipeline"))
    job = _read_job(wire.document_field(body, "job"), me.name, project)
    graph = _same_graph(job.snapshot, replica.pipeline.graph)
    dealer = _agreed_dealer(shared, wire.dealer_field(body), job)
    job = _resolved(job, project, body.get("sources"))
    checked = _checked(graph, job, text_field(body, "fingerprint", 64))
    _consented(replica, checked.plan, me.name)
    timeline.mark(remote_run, "runstart.checked")
    origin = (peer.name, starter)  # shown as "alice (at node alice)": as alice's node says
    run = create_run(replica.pipeline, graph, checked, "all", None, False, None, origin=origin)
    storage = {me.name: member_part_root(me, peer.node, run)}
    RunTripleSource.objects.create(run=run, dealer=dealer)
    RunReplica.objects.create(
        run=run,
        origin=peer.node,
        remote_id=remote_run,
        job=job_to_dict(replace(job, storage=storage)),
    )
    console_port().audit(
        peer.actor,
        "run_start",
        replica.pipeline,
        me.pk,
        run=run.pk,
        remote_run=remote_run,
        started_by=starter,  # as the initiator states it
    )
    timeline.mark(remote_run, "runstart.recorded")
    return _accepted(run)


def member_part_root(me, origin, run: Run) -> Path:
    """Where this node writes its part of `run`, which `origin` started: the part's
    directories are named by the initiator's run id (every party's must agree), so they live
    apart from this node's own runs (`runs/<id>/` under its storage root), from other
    initiators' and, by this node's own id of the run, from an initiator's reused ids."""
    return me.storage_root / "peer-runs" / origin.name / f"run-{run.pk}"


def _agreed_dealer(shared, named: str, job: PartyJob) -> str:
    """The run's dealer node ("": the trusted first party), once this node agrees: the one its
    own copy of the project names, no party of the run, a node it pinned itself."""
    refusal = dealers.mismatch(named, shared.dealer)
    if refusal is not None:
        raise refuse(refusal)
    if named and named in job.parties:
        raise refuse(
            translatable(
                "the run's dealer node %(dealer)s is also one of its parties", dealer=named
            )
        )
    if named:
        try:
            pinned_dealer_certificate(named)
        except EngineSetupError as error:
            raise refuse(error.message) from None
    return named


def _accepted(run: Run) -> dict:
    return {"accepted": True, "run": run.pk, "engine": settings.PRIVPAD_ENGINE_ADDRESS}


def _replica(peer: PeerActor, project: Project, sent: dict) -> PipelineReplica:
    remote_id, version = wire.int_field(sent, "id", 1), wire.int_field(sent, "version", 1)
    replica = PipelineReplica.objects.filter(origin=peer.node, remote_id=remote_id).first()
    if replica is None or replica.pipeline.project_id != project.pk:
        raise refuse(translatable("that pipeline was not replicated to this node"))
    if replica.pipeline.archived_at is not None:
        raise refuse(
            translatable(
                "pipeline '%(pipeline)s' is archived on this node", pipeline=replica.pipeline.name
            )
        )
    if replica.version != version:
        raise refuse(
            translatable(
                "this node holds version %(held)s of pipeline '%(pipeline)s', the run "
                "is of version %(version)s: start it again once the pipeline has "
                "replicated",
                held=replica.version,
                pipeline=replica.pipeline.name,
                version=version,
            )
        )
    return replica


def _read_job(document: dict, me: str, project: Project) -> PartyJob:
    try:
        job = job_from_dict(document)
    except (KeyError, TypeError, ValueError, ConfigError) as error:
        malformed = translatable(
            "the run's job is malformed (%(problem)s)", problem=type(error).__name__
        )
        raise EnvelopeError(malformed) from None
    if job.party != me:
        raise refuse(
            translatable(
                "the job is %(party)s's part of the run, not %(node)s's", party=job.party, node=me
            )
        )
    listed = ProjectMember.objects.filter(project=project).values_list("node__name", flat=True)
    members = set(project.shared.member_names) | set(listed)
    strangers = sorted(set(job.parties) - members)
    if strangers or me not in job.parties:
        raise refuse(
            translatable(
                "the run's parties (%(parties)s) are not members of '%(project)s' here: "
                "%(strangers)s",
                parties=list(job.parties),
                project=project.name,
                strangers=strangers or [me],
            )
        )
    return job


def _without_versions(graph: dict) -> dict:
    """A graph as drawn: the run's snapshot pins component versions, the drawing does not."""
    data = parse_graph(graph).to_dict()
    for node in data["nodes"]:
        node.pop("version", None)
    return data


def _same_graph(snapshot: dict, drawn: dict):
    try:
        graph = parse_graph(snapshot)
        same = _without_versions(snapshot) == _without_versions(drawn)
    except GraphFormatError as error:
        malformed = translatable("the run's graph is malformed: %(error)s", error=said_by(error))
        raise EnvelopeError(malformed) from None
    if not same:
        raise refuse(translatable("the run's graph is not the pipeline replicated to this node"))
    return graph


def _resolved(job: PartyJob, project: Project, identities) -> PartyJob:
    """The job with this node's own sources pointing at its own files."""
    if not isinstance(identities, list) or len(identities) > wire.MAX_COLUMNS:
        raise EnvelopeError(
            translatable("the message's 'sources' is not a list of source identities")
        )
    by_key = {i.get("key"): i for i in identities if isinstance(i, dict)}
    sources = dict(job.sources)
    for key, source in job.sources.items():
        if source.party != job.party:
            continue
        if key not in by_key:
            raise EnvelopeError(
                translatable(
                    "the run does not say which dataset '%(dataset)s' is here", dataset=source.name
                )
            )
        try:
            sources[key] = resolve_at_owner(project, source, by_key[key])
        except UnresolvedSource as error:
            raise refuse(error.message) from None
    return replace(job, sources=sources)


def _checked(graph, job: PartyJob, fingerprint: str) -> Validation:
    checked = validate(graph, registry(), tuple(job.parties), job.sources)
    if not checked.ok:
        # Each problem a message too: the initiator's users read it in their own language.
        problems = [problem.what for problem in checked.problems[:3]]
        invalid = translatable(
            "the run's pipeline does not validate here: %(problems)s", problems=problems
        )
        raise EnvelopeError(invalid)
    if checked.plan is None or checked.plan.fingerprint != fingerprint:
        raise refuse(
            translatable(
                "the run's disclosure plan computed here differs from the one the "
                "initiator names: nothing is started"
            )
        )
    return checked


def _consented(replica: PipelineReplica, plan, me: str) -> None:
    """This node's owners approved the plan wherever it discloses their data."""
    if not consent.asked(plan, me):
        return
    approved = Approval.objects.filter(
        pipeline=replica.pipeline,
        party=me,
        fingerprint=plan.fingerprint,
        status=Approval.Decision.APPROVED,
    )
    if not approved.exists():
        raise refuse(
            translatable(
                "%(node)s's owners have not approved this run's disclosure plan "
                "(%(plan)s): decide the request on %(node)s's node first",
                node=me,
                plan=plan.fingerprint[:12],
            )
        )


@handles("RunLaunch")
def run_launch(peer: PeerActor, body: dict) -> dict:
    """Every party accepted: the initiator sends the engine addresses; this node's worker
    starts (`console.federation.member_runs`). Once launched, a run is not launched again."""
    from console.federation import member_runs

    remote_run = wire.int_field(body, "run", 1)
    timeline.mark(remote_run, "runlaunch.received")
    replica = RunReplica.objects.filter(origin=peer.node, remote_id=remote_run).first()
    if replica is None:
        raise refuse(translatable("%(peer)s started no such run on this node", peer=peer.name))
    if replica.cluster is not None:
        return {"launched": True, "run": replica.run_id}
    parties = job_from_dict(replica.job).parties
    dealer = dealers.dealer_of_run(replica.run)
    replica.cluster = engines_field(body, (*parties, dealer) if dealer else parties)
    replica.save(update_fields=["cluster"])
    transaction.on_commit(lambda: member_runs.start_worker(replica.pk))
    timeline.mark(remote_run, "runlaunch.recorded")
    return {"launched": True, "run": replica.run_id}


@handles("RunAbort")
def run_abort(peer: PeerActor, body: dict) -> dict:
    """The initiator could not start the run (another node was down or refused), or its user
    cancelled it (`cancel`): the run this node accepted ends cancelled, with the reason. Not
    started yet, it is cancelled at once; running, its worker stops at its next progress
    point and records the run cancelled (`console.federation.part_reports`)."""
    from workflows import state
    from workflows.models import Status

    remote_run = wire.int_field(body, "run", 1)
    replica = RunReplica.objects.filter(origin=peer.node, remote_id=remote_run).first()
    if replica is None:
        raise refuse(translatable("%(peer)s started no such run on this node", peer=peer.name))
    reason = wire.optional_text(body, "reason", 500)
    # The initiator's reason: a message (msgid and params), or an older node's words.
    if body.get("cancel") is True:
        state.request_cancel(replica.run_id)
        message = parse(reason) or translatable("cancelled at %(party)s", party=peer.name)
    elif reason:
        message = translatable("not started: %(reason)s", reason=parse(reason))
    else:
        message = translatable("not started by the initiating node")
    stopped = state.stop_pending_run(replica.run_id, Status.CANCELLED, message, message)
    if not stopped and body.get("cancel") is True:
        run = Run.objects.only("status").get(pk=replica.run_id)
        return {"cancelled": not run.is_finished, "status": run.status}
    return {"cancelled": stopped}
