"""Views of the workflows API.

Who may do what: members of a pipeline's project read, validate and run it (outsiders get 404,
as if it did not exist); changes to an archived project's pipelines answer 409. An artifact is
visible and downloadable only to users of the node that holds it. Errors are raised, never
answered here: the console's API exception handler turns them into `{"detail", "code"}`.
"""

from __future__ import annotations

import mimetypes

from django.http import Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import services, state
from workflows.api.fields import query_id
from workflows.api.serializers import (
    ArtifactSerializer,
    PipelineCreateSerializer,
    PipelineImportSerializer,
    PipelineSerializer,
    PipelineUpdateSerializer,
    RunCreateSerializer,
)
from workflows.components import registry
from workflows.downloads import file_download
from workflows.models import Artifact, Pipeline
from workflows.ports import console_port
from workflows.reports.collect import node_result
from workflows.reports.model_zip import model_zip, model_zip_name
from workflows.reports.render import render_run_report, report_filename
from workflows.starters import STARTERS

OBJECT = OpenApiTypes.OBJECT
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
    @extend_schema(summary="Templates a new pipeline can start from", responses=OBJECT)
    def get(self, request: Request) -> Response:
        return Response({"templates": [starter.to_dict() for starter in STARTERS.values()]})


class PipelineListCreate(APIView):
    @extend_schema(
        summary="Pipelines of my node's projects", responses=PipelineSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        pipelines = services.pipelines_for(request.user)
        project = query_id(request.query_params, "project")
        if project is not None:
            pipelines = pipelines.filter(project_id=project)
        return Response(PipelineSerializer(pipelines, many=True).data)

    @extend_schema(
        summary="Create a pipeline in a project",
        request=PipelineCreateSerializer,
        responses={201: PipelineSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = PipelineCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.writable_project(request, data["project"])
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
        return Response(PipelineSerializer(pipeline).data, status=status.HTTP_201_CREATED)


class PipelineDetail(APIView):
    @extend_schema(summary="Read a pipeline", responses={200: PipelineSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(PipelineSerializer(services.get_pipeline(request, pk)).data)

    @extend_schema(
        summary="Rename, describe or save the graph of a pipeline",
        request=PipelineUpdateSerializer,
        responses={200: PipelineSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(request, pk)
        services.writable_project(request, pipeline.project_id)
        serializer = PipelineUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "graph" in data:
            data["graph"] = services.checked_graph(data["graph"]).to_dict()
        for name, value in data.items():
            setattr(pipeline, name, value)
        pipeline.save()
        return Response(PipelineSerializer(pipeline).data)

    @extend_schema(summary="Delete a pipeline and its runs", responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(request, pk)
        services.writable_project(request, pipeline.project_id)
        pipeline.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PipelineExport(APIView):
    @extend_schema(
        summary="Export a pipeline as a JSON document", responses={200: OBJECT, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(request, pk)
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
        serializer = PipelineImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.writable_project(request, serializer.validated_data["project"])
        fields = services.read_document(serializer.validated_data["document"])
        pipeline = Pipeline.objects.create(
            project_id=serializer.validated_data["project"], created_by=request.user, **fields
        )
        return Response(PipelineSerializer(pipeline).data, status=status.HTTP_201_CREATED)


class PipelineValidate(APIView):
    @extend_schema(
        summary="Validate a pipeline without running it",
        request=None,
        responses={200: OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(request, pk)
        checked = services.validate_pipeline(pipeline)
        outputs = {
            node: {port: info.to_dict() for port, info in infos.items()}
            for node, infos in checked.infos.items()
        }
        problems = [problem.to_dict() for problem in checked.problems]
        return Response({"valid": checked.ok, "problems": problems, "outputs": outputs})


class PipelineRuns(APIView):
    @extend_schema(
        summary="Runs of a pipeline, newest first (no nodes; bytes sent, who started it)",
        responses={200: OBJECT, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(request, pk)
        runs = pipeline.runs.select_related("created_by").prefetch_related("nodes")[:100]
        return Response([state.run_summary(run) for run in runs])

    @extend_schema(
        summary="Run a pipeline (all, one node, a node and downstream, or upstream of a node)",
        request=RunCreateSerializer,
        responses={201: OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        pipeline = services.get_pipeline(request, pk)
        serializer = RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = services.start_run(request, pipeline, data["scope"], data["node"], data["reuse"])
        return Response(_run_body(request, run), status=status.HTTP_201_CREATED)


def _run_body(request: Request, run) -> dict:
    reused = run.nodes.filter(reused_from__isnull=False).values_list("reused_from_id", flat=True)
    node_runs = [*run.nodes.values_list("id", flat=True), *reused]
    mine = Artifact.objects.filter(
        node_run_id__in=node_runs, owner_node_id=request.user.node_id
    ).select_related("node_run")
    return state.run_state(run) | {"artifacts": ArtifactSerializer(mine, many=True).data}


class RunDetail(APIView):
    @extend_schema(
        summary="A run: status, nodes, logs, communication and my node's artifacts",
        responses={200: OBJECT, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_run_body(request, services.get_run(request, pk)))


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
        run = services.get_run(request, pk)
        result = node_result(run, node, request.user.node_id)
        if result is None:
            raise Http404("No such node in this run.")
        return Response(result)


class RunCancel(APIView):
    @extend_schema(
        summary="Cancel a run (running work stops at its next progress point)",
        request=None,
        responses={200: OBJECT, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        run = services.get_run(request, pk)
        services.writable_project(request, run.pipeline.project_id)
        return Response(_run_body(request, services.cancel_run(request, run)))


class RunReport(APIView):
    @extend_schema(
        summary="Download a run report: one self-contained HTML file (charts work offline)",
        responses={(200, "text/html"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        run = services.get_run(request, pk)
        html = render_run_report(run, request.user.node_id)
        console_port().audit(request, "download", run, None, what="run report")
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(run)}"'
        return response


class ArtifactDetail(APIView):
    @extend_schema(
        summary="One of my node's artifacts", responses={200: ArtifactSerializer, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ArtifactSerializer(services.get_own_artifact(request, pk)).data)


class ArtifactDownload(APIView):
    @extend_schema(
        summary="Download one of my node's artifacts",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        artifact = services.get_own_artifact(request, pk)
        name = f"run{artifact.node_run.run_id}-{artifact.node_run.node_id}-{artifact.path.name}"
        console_port().audit(request, "download", artifact, artifact.owner_node_id, file=name)
        return file_download(request, artifact.path, name, _content_type(artifact.path))


def _content_type(path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class ModelDownload(APIView):
    @extend_schema(
        summary="Download one of my node's model artifacts as a zip (manifest and my part)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        artifact = services.get_own_artifact(request, pk)
        if artifact.kind != "model":
            raise Http404("No such model.")
        response = HttpResponse(model_zip(artifact), content_type="application/zip")
        console_port().audit(request, "download", artifact, artifact.owner_node_id, what="model")
        response["Content-Disposition"] = f'attachment; filename="{model_zip_name(artifact)}"'
        return response
