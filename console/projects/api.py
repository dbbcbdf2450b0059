"""/api/v1/projects/: projects of the caller's node, their members and authorised datasets.

Outsiders get 404 for a project (they may not know it exists); members of a project get 403
when they try what only the owner node may do; archived projects answer 409 to any change but
un-archiving.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.api.schema import errors
from console.projects.access import get_project_for_user, projects_visible_to
from console.projects.models import Project, ProjectMember
from console.projects.serializers import (
    MemberAddSerializer,
    ProjectCreateSerializer,
    ProjectDetailSerializer,
    ProjectMemberSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
)
from console.projects.services import (
    add_member,
    create_project,
    ensure_owner,
    remove_member,
    update_project,
)
from workflows.actors import Actor

NODE_NAME = OpenApiParameter(
    "node_name", str, OpenApiParameter.PATH, description="Name of the member node."
)


def _detail(request: Request, project: Project) -> Response:
    project = _with_members(Project.objects.filter(pk=project.pk)).get()
    return Response(ProjectDetailSerializer(project, context={"request": request}).data)


def _with_members(projects):
    return projects.select_related("owner_node").prefetch_related(
        "memberships__node", "memberships__project"
    )


@extend_schema_view(
    get=extend_schema(summary="List my node's projects", responses={200: ProjectSerializer}),
    post=extend_schema(
        summary="Create a project owned by my node",
        request=ProjectCreateSerializer,
        responses={201: ProjectDetailSerializer, **errors(400)},
    ),
)
class ProjectListCreate(generics.ListCreateAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return _with_members(projects_visible_to(self.request.user))

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = create_project(Actor.from_request(request), **serializer.validated_data)
        response = _detail(request, project)
        response.status_code = status.HTTP_201_CREATED
        return response


class ProjectDetail(APIView):
    @extend_schema(
        summary="Read a project: members and authorised datasets (schema and roles only)",
        responses={200: ProjectDetailSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, get_project_for_user(Actor.from_request(request), pk))

    @extend_schema(
        summary="Rename, describe, archive or un-archive a project (owner node)",
        request=ProjectUpdateSerializer,
        responses={200: ProjectDetailSerializer, **errors(400, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        project = get_project_for_user(actor, pk)
        ensure_owner(actor, project)  # refuse before judging the body
        serializer = ProjectUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update_project(actor, project, **serializer.validated_data)
        return _detail(request, project)


class ProjectMembers(APIView):
    @extend_schema(
        summary="List a project's member nodes",
        responses={200: ProjectMemberSerializer(many=True), **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        project = get_project_for_user(Actor.from_request(request), pk)
        memberships = project.memberships.select_related("node", "project")
        return Response(ProjectMemberSerializer(memberships, many=True).data)

    @extend_schema(
        summary="Add a node to a project (owner node)",
        request=MemberAddSerializer,
        responses={201: ProjectMemberSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        project = get_project_for_user(actor, pk)
        ensure_owner(actor, project)  # a member who may not add nodes learns nothing more
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = add_member(actor, project, serializer.validated_data["node"])
        return Response(ProjectMemberSerializer(membership).data, status=status.HTTP_201_CREATED)


def _membership(request: Request, pk: int, node_name: str) -> ProjectMember:
    project = get_project_for_user(Actor.from_request(request), pk)
    memberships = project.memberships.select_related("node", "project")
    membership = memberships.filter(node__name=node_name).first()
    if membership is None:
        raise Http404(_("Node '%(node)s' is not a member of this project.") % {"node": node_name})
    return membership


class ProjectMemberDetail(APIView):
    @extend_schema(
        summary="Read one member of a project",
        parameters=[NODE_NAME],
        responses={200: ProjectMemberSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int, node_name: str) -> Response:
        return Response(ProjectMemberSerializer(_membership(request, pk, node_name)).data)

    @extend_schema(
        summary="Remove a node from a project and revoke its authorisations (owner node)",
        parameters=[NODE_NAME],
        responses={204: None, **errors(400, 403, 404, 409)},
    )
    def delete(self, request: Request, pk: int, node_name: str) -> Response:
        membership = _membership(request, pk, node_name)
        remove_member(Actor.from_request(request), membership.project, membership.node)
        return Response(status=status.HTTP_204_NO_CONTENT)
