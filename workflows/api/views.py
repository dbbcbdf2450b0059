"""Views of the workflows API.

Who may do what: members of a pipeline's project read, validate and run it (outsiders get 404,
as if it did not exist); only its creator and editors change, rename or delete (archive) it
(`workflows.ownership`: 403 `not_editor` for others); changes to an archived project's
pipelines answer 409. An artifact is visible and downloadable only to users of the node that
holds it. Messages of failed nodes are shown per party (`workflows.redaction`). The checks
are the services' (`workflows.services`), made for the request's actor.
Errors are raised, never answered here: the console's API exception handler turns them
into `{"detail", "code"}` (with `problems` or `approvals` where they apply).
"""

from __future__ import annotations

import mimetypes

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import ownership, services, state
from workflows.actors import Actor
from workflows.api.disclosure import (
    LedgerEntrySerializer,
    PipelineDetailSerializer,
    ValidationResultSerializer,
    plan_body,
)
from workflows.api.fields import query_id
from workflows.api.serializers import (
    ArtifactSerializer,
    PipelineCreateSerializer,
    PipelineEditorsSerializer,
    PipelineImportSerializer,
    PipelineSerializer,
    PipelineUpdateSerializer,
    RunCreateSerializer,
)
from workflows.changes import graph_changes
from workflows.components import registry
from workflows.downloads import csv_encoding, file_download, table_download
from workflows.models import Artifact, Pipeline
from workflows.ports import console_port
from workflows.redaction import viewer_party
from workflows.reports.collect import node_result
from workflows.reports.model_zip import model_zip, model_zip_name
from workflows.reports.render import render_run_report, report_filename
from workflows.run_filters import RunFilter, runs_listed_for
from workflows.starters import STARTERS
from workflows.tabular.export import csv_name

OBJECT = OpenApiTypes.OBJECT
OBJECTS = build_array_type(build_basic_type(OpenApiTypes.OBJECT))
ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    401: OpenApiResponse(description="Not authenticated"),
    404: OpenApiResponse(description="Unknown, or not visible to you"),
    409: OpenApiResponse(description="The project is archived (read-only)"),
}


class ComponentCatalogue(APIView):
    @extend_schema(summary="The component library: ports, parameters, defaults", responses=OBJECT)
    def get(self, request: Request) -> Response:
        return Response({"components": registry().catalogue()})


class PipelineTemplates(APIView):
    @extend_schema(
        summary="Templates a new pipeline can start from",
        parameters=[
            OpenApiParameter(
                "project",
                int,
                description="A project of my node: each template then carries `notes`, what "
                "it would choose there or leave to the user (a party without a dataset, text "
                "features left out, no label).",
            )
        ],
        responses={200: OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        templates = [starter.to_dict() for starter in STARTERS.values()]
        project = request.query_params.get("project")
        if project not in (None, ""):
            # 404 for other nodes' projects and for anything not an id, 409 when archived.
            services.writable_project(Actor.from_request(request), project)
            for template in templates:
                template["notes"] = services.template_notes(int(project), template["key"])
        return Response({"templates": templates})


class PipelineListCreate(APIView):
    @extend_schema(
        summary="Pipelines of my node's projects", responses=PipelineSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        pipelines = services.pipelines_for(request.user)
        project = query_id(request.query_params, "project")
        if project is not None:
            pipelines = pipelines.filter(project_id=project)
        return Response(PipelineSerializer(pipelines, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Create a pipeline in a project",
        request=PipelineCreateSerializer,
        responses={201: PipelineSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = Actor.from_request(request)
        serializer = PipelineCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.writable_project(actor, data["project"])
        if data.get("template"):
            graph = services.template_graph(data["project"], data["template"])
        else:
            graph = services.checked_graph(data["graph"] or {"nodes": [], "edges": []})
        pipeline = Pipeline.objects.create(
            project_id=data["project"],
            name=data["name"],
            description=data["description"],
            graph=graph.to_dict(),
            created_by=request.user,
        )
        services.audit_pipeline(actor, pipeline, "pipeline_create", nodes=len(graph.nodes))
        return Response(
            PipelineSerializer(pipeline, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class PipelineDetail(APIView):
    @extend_schema(
        summary="Read a pipeline, with its disclosure plan",
        description="`disclosure`: what the pipeline would disclose, from which party to which "
        "(null while the graph has no valid node), and each source party's consent state.",
        responses={200: PipelineDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(Actor.from_request(request), pk)
        plan = services.validate_pipeline(pipeline).plan
        return Response(
            PipelineSerializer(pipeline, context={"request": request}).data
            | {"disclosure": plan_body(pipeline, plan)}
        )

    @extend_schema(
        summary="Rename, describe or save the graph of a pipeline",
        request=PipelineUpdateSerializer,
        responses={200: PipelineSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        pipeline = services.get_pipeline(actor, pk)
        services.ensure_editable(actor, pipeline, "change")
        serializer = PipelineUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = {}
        if "graph" in data:
            new = services.checked_graph(data["graph"])
            old = services.checked_graph(pipeline.graph)
            data["graph"] = new.to_dict()
            changes = graph_changes(old, new)
        changes |= {
            name: [getattr(pipeline, name), value]
            for name, value in data.items()
            if name != "graph" and getattr(pipeline, name) != value
        }
        for name, value in data.items():
            setattr(pipeline, name, value)
        pipeline.save()
        if changes:
            services.audit_pipeline(actor, pipeline, "pipeline_update", changes=changes)
        return Response(PipelineSerializer(pipeline, context={"request": request}).data)

    @extend_schema(
        summary="Delete (archive) a pipeline: its runs and every party's results stay",
        responses={204: None, **ERRORS, 403: OpenApiResponse(description="Not an editor")},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        services.archive_pipeline(actor, services.get_pipeline(actor, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PipelineEditors(APIView):
    @extend_schema(summary="Who may change a pipeline", responses={200: OBJECT, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(Actor.from_request(request), pk)
        return Response(_editors_body(request, pipeline))

    @extend_schema(
        summary="Choose a pipeline's editors (its creator or the project's owner node)",
        request=PipelineEditorsSerializer,
        responses={200: OBJECT, **ERRORS, 403: OpenApiResponse(description="Not allowed")},
    )
    def put(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        pipeline = services.get_pipeline(actor, pk)
        services.ensure_chooses_editors(actor, pipeline)  # refuse before judging the body
        serializer = PipelineEditorsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.choose_editors(actor, pipeline, serializer.validated_data["editors"])
        return Response(_editors_body(request, pipeline))


def _editors_body(request: Request, pipeline: Pipeline) -> dict:
    return {
        "creator": pipeline.created_by.get_username() if pipeline.created_by else None,
        "editors": sorted(pipeline.editors.values_list("username", flat=True)),
        "can_edit": ownership.may_edit(request.user, pipeline),
        "can_choose_editors": ownership.may_choose_editors(request.user, pipeline),
    }


class PipelineExport(APIView):
    @extend_schema(
        summary="Export a pipeline as a JSON document", responses={200: OBJECT, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(Actor.from_request(request), pk)
        response = Response(services.export_document(pipeline))
        response["Content-Disposition"] = f'attachment; filename="pipeline-{pipeline.pk}.json"'
        return response


class PipelineImport(APIView):
    @extend_schema(
        summary="Import a pipeline document into a project",
        request=PipelineImportSerializer,
        responses={201: PipelineSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = Actor.from_request(request)
        serializer = PipelineImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.writable_project(actor, serializer.validated_data["project"])
        fields = services.read_document(serializer.validated_data["document"])
        pipeline = Pipeline.objects.create(
            project_id=serializer.validated_data["project"], created_by=request.user, **fields
        )
        services.audit_pipeline(actor, pipeline, "pipeline_create", imported=True)
        return Response(
            PipelineSerializer(pipeline, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class PipelineValidate(APIView):
    required_scope = "read"  # validation changes nothing: read-only tokens and viewers may ask

    @extend_schema(
        summary="Validate a pipeline without running it; its disclosure plan",
        request=None,
        responses={200: ValidationResultSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(Actor.from_request(request), pk)
        checked = services.validate_pipeline(pipeline)
        outputs = {
            node: {port: info.to_dict() for port, info in infos.items()}
            for node, infos in checked.infos.items()
        }
        problems = [problem.to_dict() for problem in checked.problems]
        disclosure = plan_body(pipeline, checked.plan)
        body = {"valid": checked.ok, "problems": problems, "outputs": outputs}
        return Response(body | {"disclosure": disclosure})


class PipelineRuns(APIView):
    required_scope = "run"  # POST starts a run: allowed to tokens with the run scope

    @extend_schema(
        summary="Runs of a pipeline, newest first (no nodes; bytes sent and stored, who "
        "started it)",
        responses={200: OBJECTS, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(Actor.from_request(request), pk)
        runs = pipeline.runs.select_related("created_by").prefetch_related("nodes__artifacts")
        runs = runs[:100]
        viewer = viewer_party(request.user)
        return Response([state.run_summary(run, viewer) for run in runs])

    @extend_schema(
        summary="Run a pipeline (all, one node, a node and downstream, or upstream of a node)",
        request=RunCreateSerializer,
        responses={
            201: OBJECT,
            **ERRORS,
            409: OpenApiResponse(description="Archived project, or owners' approvals missing"),
            503: OpenApiResponse(description="A run across nodes: a member node is unreachable"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        pipeline = services.get_pipeline(actor, pk)
        serializer = RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = services.start_run(actor, pipeline, data["scope"], data["node"], data["reuse"])
        return Response(_run_body(request, run), status=status.HTTP_201_CREATED)


def _run_body(request: Request, run) -> dict:
    reused = run.nodes.filter(reused_from__isnull=False).values_list("reused_from_id", flat=True)
    node_runs = [*run.nodes.values_list("id", flat=True), *reused]
    mine = Artifact.objects.filter(
        node_run_id__in=node_runs, owner_node_id=request.user.node_id
    ).select_related("node_run")
    ledger = LedgerEntrySerializer(run.ledger.all(), many=True).data
    disclosure = {
        "fingerprint": run.disclosure_fingerprint,
        "consents": run.consents,
        "entries": run.disclosure.get("entries", []),
    }
    return state.run_state(run, viewer_party(request.user)) | {
        "artifacts": ArtifactSerializer(mine, many=True).data,
        "disclosure": disclosure,
        "ledger": ledger,
    }


class RunLedger(APIView):
    @extend_schema(
        summary="The privacy ledger of a run: what each party actually received",
        responses={200: LedgerEntrySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        run = services.get_run(Actor.from_request(request), pk)
        return Response(LedgerEntrySerializer(run.ledger.all(), many=True).data)


RUN_LIST_LIMIT = 200


class InvalidFilter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_filter"


RUN_FILTERS = [
    OpenApiParameter("project", int, description="Only runs of this project (id)"),
    OpenApiParameter("pipeline", int, description="Only runs of this pipeline (id)"),
    OpenApiParameter("status", str, description="Only runs with this status"),
    OpenApiParameter(
        "started_by",
        str,
        description="Only runs started by this username, or by another node's user as the "
        'runs list it (started_by: "alice (at node alice)")',
    ),
]


class RunList(APIView):
    @extend_schema(
        operation_id="v1_runs_list",
        summary="Runs across pipelines, newest first (at most 200): every run of my node's "
        "projects (a platform admin: every run, metadata only)",
        parameters=RUN_FILTERS,
        responses={200: OBJECTS, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        form = RunFilter(request.query_params, runs_listed_for(request.user))
        if not form.is_valid():
            raise InvalidFilter("Invalid filter: " + "; ".join(form.problems()))
        runs = form.filtered().prefetch_related("nodes")[:RUN_LIST_LIMIT]
        viewer = viewer_party(request.user)
        return Response([_listed_run(run, viewer) for run in runs])


def _listed_run(run, viewer: str | None) -> dict:
    pipeline = run.pipeline
    return state.run_summary(run, viewer) | {
        "pipeline_name": pipeline.name,
        "project": pipeline.project_id,
        "project_name": pipeline.project.name,
    }


class RunDetail(APIView):
    @extend_schema(
        summary="A run: status, nodes, logs, communication and my node's artifacts",
        responses={200: OBJECT, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_run_body(request, services.get_run(Actor.from_request(request), pk)))


class RunNodeResult(APIView):
    @extend_schema(
        summary="A node of a run with its results as my node may see them",
        description=(
            "Status, parameters, logs and outputs: reports as tables and plotly figures; "
            "tables and models as their schema, and my node's own parts with their first rows."
        ),
        responses={200: OBJECT, **ERRORS},
    )
    def get(self, request: Request, pk: int, node: str) -> Response:
        run = services.get_run(Actor.from_request(request), pk)
        result = node_result(run, node, request.user.node_id)
        if result is None:
            raise Http404(_("No such node in this run."))
        return Response(result)


class RunCancel(APIView):
    required_scope = "run"

    @extend_schema(
        summary="Cancel a run (running work stops at its next progress point)",
        request=None,
        responses={200: OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        run = services.get_run(actor, pk)
        return Response(_run_body(request, services.cancel_run(actor, run)))


class RunReport(APIView):
    @extend_schema(
        summary="Download a run report: one self-contained HTML file (charts work offline)",
        responses={(200, "text/html"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        actor = Actor.from_request(request)
        run = services.get_run(actor, pk)
        html = render_run_report(run, actor.node_id)
        console_port().audit(actor, "download", run, None, what="run report")
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(run)}"'
        return response


class ArtifactDetail(APIView):
    @extend_schema(
        summary="One of my node's artifacts", responses={200: ArtifactSerializer, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        artifact = services.get_own_artifact(Actor.from_request(request), pk)
        return Response(ArtifactSerializer(artifact).data)


class ArtifactDownload(APIView):
    @extend_schema(
        summary="Download one of my node's artifacts",
        parameters=[
            OpenApiParameter(
                "encoding",
                str,
                enum=["utf-8", "utf-8-sig", "gbk"],
                description="Tables (downloaded as CSV) only: utf-8, utf-8-sig (with a BOM, for "
                "Excel) or gbk. Default: utf-8-sig when the console language is Chinese, "
                "else utf-8.",
            )
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        actor = Actor.from_request(request)
        artifact = services.get_own_artifact(actor, pk)
        name = f"run{artifact.node_run.run_id}-{artifact.node_run.node_id}-{artifact.path.name}"
        if artifact.kind.startswith("table") or artifact.path.suffix == ".csv":
            name = csv_name(name)  # tables leave as CSV, whatever their format on disk
            encoding = csv_encoding(request.query_params.get("encoding"))
            response = table_download(request, artifact.path, name, encoding)
        else:
            response = file_download(request, artifact.path, name, _content_type(artifact.path))
        console_port().audit(actor, "download", artifact, artifact.owner_node_id, file=name)
        return response


def _content_type(path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class ModelDownload(APIView):
    @extend_schema(
        summary="Download one of my node's model artifacts as a zip (manifest and my part)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        actor = Actor.from_request(request)
        artifact = services.get_own_artifact(actor, pk)
        if artifact.kind != "model":
            raise Http404(_("No such model."))
        response = HttpResponse(model_zip(artifact), content_type="application/zip")
        console_port().audit(actor, "download", artifact, artifact.owner_node_id, what="model")
        response["Content-Disposition"] = f'attachment; filename="{model_zip_name(artifact)}"'
        return response
