"""Pipeline and run operations shared by the API, the pages and the terminal command.

Each operation takes the actor first (`workflows.actors.Actor`) and checks, here and only here,
what it may do; project facts and access come from the console through `workflows.ports`:
project members only (anything else is 404, as if it did not exist); archived projects are
read-only (409); viewers read but never run or change (403).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.psi.kernels import warm_shared_pool
from workflows import starters, state, timeline
from workflows.actors import Actor
from workflows.api.fields import MAX_ID
from workflows.backends import ThreadPoolBackend
from workflows.components import registry
from workflows.disclosure import consent
from workflows.graph import Graph, GraphFormatError, Scope, parse_graph
from workflows.messages import Message, said_by, translatable
from workflows.models import Artifact, NodeRun, Pipeline, Run, RunSource, Status
from workflows.ownership import (
    ensure_editor,
    ensure_may_choose_editors,
    ensure_not_read_only,
    set_editors,
)
from workflows.ports import ProjectFacts, console_port
from workflows.recovery import executor_id
from workflows.validation import Validation, validate

EXPORT_FORMAT = "privpad.pipeline"
EXPORT_VERSION = 1


class ProjectArchived(Exception):
    """The project is archived: its pipelines are read-only."""


def pipelines_for(user, include_archived: bool = False):
    """Pipelines of the projects of `user`'s node (a user or an Actor); deleted (archived) ones
    only with `include_archived` (their runs and results stay visible to the parties that
    hold them)."""
    ids = console_port().visible_project_ids(user)
    pipelines = Pipeline.objects.filter(project_id__in=ids)
    return pipelines if include_archived else pipelines.filter(archived_at__isnull=True)


def get_pipeline(actor: Actor, pk) -> Pipeline:
    pipeline = pipelines_for(actor).filter(pk=pk).first() if str(pk).isdigit() else None
    if pipeline is None:
        raise Http404(_("No such pipeline."))
    return pipeline


def get_run(actor: Actor, pk) -> Run:
    ids = console_port().visible_project_ids(actor)
    runs = Run.objects.filter(pipeline__project_id__in=ids).select_related("pipeline")
    run = runs.filter(pk=pk).first() if str(pk).isdigit() else None
    if run is None:
        raise Http404(_("No such run."))
    return run


def get_own_artifact(actor: Actor, pk) -> Artifact:
    """An artifact held by the actor's node, in a project the node belongs to; else 404."""
    ids = console_port().visible_project_ids(actor)
    artifacts = Artifact.objects.filter(
        node_run__run__pipeline__project_id__in=ids, owner_node_id=actor.node_id
    )
    artifact = artifacts.filter(pk=pk).first() if str(pk).isdigit() else None
    if artifact is None:
        _audit_refused_artifact(actor, pk)
    if artifact is None or not artifact.path.exists():
        raise Http404(_("No such artifact."))
    return artifact


def _audit_refused_artifact(actor: Actor, pk) -> None:
    """Another party's artifact looks like a missing one (404), but its owner sees the try."""
    other = Artifact.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if other is not None:
        reason = "the artifact belongs to another party"
        console_port().audit(actor, "access_denied", other, other.owner_node_id, reason=reason)


def writable_project(actor: Actor, project_id) -> ProjectFacts:
    """The project of a change or a run: 404 to non-members, 403 to viewers, 409 if archived."""
    port = console_port()
    ensure_not_read_only(actor, "run or change pipelines")
    if not str(project_id).isdigit() or int(project_id) > MAX_ID:
        raise Http404(_("No such project."))
    # The console answers 404 (and audits the attempt) for non-members; platform admins may
    # read any project but only member nodes edit its pipelines.
    project = port.project_for_user(actor, int(project_id))
    if not port.is_member(actor, project.id):
        raise Http404(_("No such project."))
    if project.archived:
        raise ProjectArchived(_("The project is archived: its pipelines are read-only."))
    if project.edited_on:
        raise PermissionDenied(
            _(
                "Project '%(project)s' is owned by node %(node)s: its pipelines are edited and "
                "run there; this node holds a read-only copy."
            )
            % {"project": project.name, "node": project.edited_on}
        )
    return project


def audit_pipeline(actor: Actor, pipeline: Pipeline, action: str, **detail) -> None:
    """Record a pipeline event for the creator's node (the editor's node sees it too)."""
    creator = getattr(getattr(pipeline.created_by, "node", None), "pk", None)
    console_port().audit(actor, action, pipeline, creator, **detail)


def ensure_editable(actor: Actor, pipeline: Pipeline, action: str) -> None:
    """The project is active and the actor may change this pipeline (else 409 / 403)."""
    writable_project(actor, pipeline.project_id)
    ensure_editor(actor.require_user(f"{action} pipelines"), pipeline, action)


def ensure_chooses_editors(actor: Actor, pipeline: Pipeline) -> None:
    """The project is active and the actor chooses this pipeline's editors: its creator or a
    user of the project's owner node (else 404 / 409 / 403)."""
    writable_project(actor, pipeline.project_id)
    ensure_may_choose_editors(actor.require_user("choose editors"), pipeline)


def choose_editors(actor: Actor, pipeline: Pipeline, usernames: list[str]) -> None:
    """Make these users (by name) the pipeline's editors (`ensure_chooses_editors`); unknown
    names and users of no member node are a ValidationError on `editors` naming them."""
    ensure_chooses_editors(actor, pipeline)
    names = list(dict.fromkeys(usernames))
    users = list(get_user_model().objects.filter(username__in=names))
    unknown = sorted(set(names) - {user.get_username() for user in users})
    if unknown:
        raise ValidationError({"editors": f"unknown users: {', '.join(unknown)}"}, code="invalid")
    before = sorted(pipeline.editors.values_list("username", flat=True))
    set_editors(pipeline, users)
    after = sorted(user.get_username() for user in users)
    if after != before:
        audit_pipeline(actor, pipeline, "pipeline_update", changes={"editors": [before, after]})


def archive_pipeline(actor: Actor, pipeline: Pipeline) -> None:
    """Delete a pipeline for its editors: it is archived, so every party's runs, results and
    files stay (`ensure_editable`); recorded for the creator's node like any other edit."""
    ensure_editable(actor, pipeline, "delete")
    pipeline.archived_at = timezone.now()
    pipeline.save(update_fields=["archived_at"])
    audit_pipeline(actor, pipeline, "pipeline_update", changes={"archived": [False, True]})


class DocumentInvalid(ValidationError):
    """A pipeline document that cannot be read. `said` is why, as a stored message
    (`workflows.messages`): a peer that refuses a replicated document sends it, so the sender
    reads it in its own users' language; the ValidationError itself carries the text in the
    active language (or a field's, `{"graph": ...}`) for the API."""

    def __init__(self, said: Message | str, code: str, *, text=None):
        super().__init__(str(said) if text is None else text, code=code)
        self.said = said


def checked_graph(data) -> Graph:
    try:
        return parse_graph(data)
    except GraphFormatError as error:
        said = said_by(error)
        raise DocumentInvalid(said, "invalid_graph", text={"graph": str(said)}) from error


def template_graph(project_id: int, template: str) -> Graph:
    """A template's graph filled from the project's parties and authorised datasets."""
    port = console_port()
    project = port.project(project_id)
    return starters.build(template, list(project.parties), port.sources(project_id))


def template_notes(project_id: int, template: str) -> list[str]:
    """What the template chose or left to the user in this project (`starters.notes`)."""
    port = console_port()
    project = port.project(project_id)
    return starters.notes(template, list(project.parties), port.sources(project_id))


def validate_pipeline(pipeline: Pipeline, graph: Graph | None = None) -> Validation:
    """Validate the graph and compute its disclosure plan (`Validation.plan`). A prediction
    receiver other than the label owner is a flow of label-derived scores in that plan: it
    needs the owner's approval (`workflows.disclosure.consent`) unless a standing policy allows
    or refuses it outright."""
    port = console_port()
    project = port.project(pipeline.project_id)
    graph = graph or checked_graph(pipeline.graph)
    parties, sources = tuple(project.parties), port.sources(project.id)
    return validate(graph, registry(), parties, sources, project.unavailable)


def export_document(pipeline: Pipeline) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "name": pipeline.name,
        "description": pipeline.description,
        "graph": pipeline.graph,
    }


def read_document(document) -> dict:
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        said = translatable("not a %(format)s document", format=EXPORT_FORMAT)
        raise DocumentInvalid(said, code="invalid_document")
    if document.get("version") != EXPORT_VERSION:
        version = repr(document.get("version"))[:40]
        said = translatable("unsupported document version %(version)s", version=version)
        raise DocumentInvalid(said, code="invalid_document")
    name = document.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        said = translatable("the document needs a name of 1 to 120 characters")
        raise DocumentInvalid(said, code="invalid")
    graph = checked_graph(document.get("graph"))
    return {
        "name": name.strip(),
        "description": str(document.get("description", "")),
        "graph": graph.to_dict(),
    }


class RunRefused(Exception):
    """The pipeline has problems; nothing was started."""

    def __init__(self, problems):
        super().__init__(f"the pipeline has {len(problems)} problem(s)")
        self.problems = problems


def start_run(actor: Actor, pipeline: Pipeline, scope: str, node: str | None, reuse: bool) -> Run:
    """Validate, check consent, snapshot and enqueue a run.

    Raises RunRefused listing every problem, or `consent.ConsentMissing` when source parties
    must first approve the disclosure plan (requests are sent); either is audited. A run of a
    project shared with other installations (`ConsolePort.runs_across_nodes`) runs the whole
    pipeline at every member node instead of this executor (`launch_across_nodes`, which
    names the nodes that could not take part).
    """
    timeline.mark(None, "run.requested", pipeline=pipeline.pk)
    user = actor.require_user("start runs")
    project = writable_project(actor, pipeline.project_id)
    graph = checked_graph(pipeline.graph)
    checked = validate_pipeline(pipeline, graph)
    timeline.mark(None, "run.validated", pipeline=pipeline.pk)
    if not checked.ok:
        _audit_run(actor, pipeline, "run_refused", checked.plan, problems=len(checked.problems))
        raise RunRefused(checked.problems)
    try:
        in_scope = graph.scope(Scope(scope), node)
    except (GraphFormatError, ValueError) as error:
        raise ValidationError({"node": str(error)}, code="invalid_scope") from error
    try:
        consent.obtain(actor, pipeline, checked.plan, project)
    except consent.ConsentMissing as missing:
        _audit_run(actor, pipeline, "run_refused", checked.plan, reason=str(missing))
        raise
    across = console_port().runs_across_nodes(project.id)
    if across and (scope != Scope.ALL or reuse):
        raise ValidationError(
            {"scope": "a run across nodes runs the whole pipeline, without reusing results"},
            code="invalid_scope",
        )
    with transaction.atomic():
        run = create_run(pipeline, graph, checked, scope, node, reuse, user, in_scope)
        timeline.mark(run.pk, "run.created")
        if not across:
            transaction.on_commit(lambda: enqueue(run))
    _audit_run(actor, pipeline, "run_start", checked.plan, run=run.pk)
    if across:
        console_port().launch_across_nodes(run)
        timeline.mark(run.pk, "launched")
    return run


def _audit_run(actor: Actor, pipeline: Pipeline, action: str, plan, **detail) -> None:
    """Audited for the pipeline creator's node and every party whose data the run reads."""
    project = console_port().project(pipeline.project_id)
    parties = {d["party"] for d in plan.datasets.values()} if plan is not None else set()
    creator = getattr(getattr(pipeline.created_by, "node", None), "pk", None)
    nodes = {creator, *(project.parties[p] for p in parties if p in project.parties)}
    fingerprint = plan.fingerprint if plan is not None else ""
    for node_id in sorted(n for n in nodes if n is not None) or [None]:
        console_port().audit(actor, action, pipeline, node_id, fingerprint=fingerprint, **detail)


def create_run(
    pipeline, graph, checked, scope, node, reuse, user, in_scope=None, origin=("", "")
) -> Run:
    """Record a validated run (pending). `origin`: (node, user name as that node states it)
    for this node's part of a run another node started (network mode), ("", "") otherwise."""
    in_scope = in_scope if in_scope is not None else graph.scope(Scope(scope), node)
    snapshot = graph.to_dict()
    for entry in snapshot["nodes"]:
        # Pin the component versions the run was validated with.
        entry["version"] = checked.components[entry["id"]].version
    plan = checked.plan
    run = Run.objects.create(
        pipeline=pipeline,
        scope=scope,
        scope_node=node or "",
        reuse=reuse,
        snapshot=snapshot,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        origin_node=origin[0],
        origin_user=origin[1],
        disclosure=plan.to_dict() if plan is not None else {},
        disclosure_fingerprint=plan.fingerprint if plan is not None else "",
        consents=_consents(pipeline, plan),
    )
    if plan is not None:
        RunSource.objects.bulk_create(
            RunSource(
                run=run,
                dataset_id=dataset_id,
                dataset_name=dataset["name"],
                party=dataset["party"],
                authorization_id=dataset["authorization"],
            )
            for dataset_id, dataset in plan.datasets.items()
        )
    NodeRun.objects.bulk_create(
        NodeRun(
            run=run,
            node_id=node_id,
            component=graph.nodes[node_id].component,
            version=checked.components[node_id].version,
            position=position,
            in_scope=node_id in in_scope,
        )
        for position, node_id in enumerate(checked.order)
    )
    return run


def _consents(pipeline: Pipeline, plan) -> dict:
    """{source party: the approval id it gave, or "policy"} (only consents that hold)."""
    if plan is None:
        return {}
    states = consent.consent_states(pipeline, plan).items()
    return {
        party: state["approval"] if state["state"] == "approved" else consent.POLICY
        for party, state in states
        if state["state"] in ("approved", consent.POLICY)
    }


def warm_up_engines(graph: dict) -> None:
    """Start the PSI worker pool in the background when runs execute in this process (the
    embedded thread pool) and the pipeline has a PSI node: the first run after the server
    starts then does not wait for the workers either."""
    if settings.PRIVPAD_RUN_EXECUTION != "embedded":
        return
    if any(node.get("component") == "data_prep/psi" for node in graph.get("nodes", [])):
        threading.Thread(target=warm_shared_pool, name="psi-warm-up", daemon=True).start()


def enqueue(run: Run):
    from workflows.tasks import execute_run_task

    backend = execute_run_task.get_backend()
    if isinstance(backend, ThreadPoolBackend):
        # Executed by this process: if it dies, restart recovery marks the run interrupted.
        Run.objects.filter(pk=run.pk).update(executor=executor_id())
    return execute_run_task.enqueue(run.pk)


def cancel_run(actor: Actor, run: Run) -> Run:
    """Stop a run of a project the actor may change (404 / 403 / 409 as `writable_project`)."""
    writable_project(actor, run.pipeline.project_id)
    ensure_not_read_only(actor, "stop runs")
    if run.is_finished:
        raise ValidationError(
            _("run %(id)s has already finished (%(status)s)")
            % {"id": run.pk, "status": run.get_status_display()},
            code="finished",
        )
    if console_port().runs_across_nodes(run.pipeline.project_id):
        # The other parties first: each then records the run as cancelled, not as failed
        # because this node's part stopped (`console.federation.run_events`).
        console_port().cancel_across_nodes(run)
    state.request_cancel(run.pk)
    state.stop_pending_run(
        run.pk,
        Status.CANCELLED,
        translatable("cancelled before it started"),
        translatable("the run was cancelled before it started"),
    )
    run.refresh_from_db()
    return run
