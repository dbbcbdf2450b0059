"""/api/v1/datasets/ and /api/v1/authorizations/: uploads, schemas, previews, authorisations.

Who sees what: the owner node sees everything of its datasets (preview rows included);
members of a project a dataset is authorised to see its schema and their projects' roles;
everyone else gets 404, as if the object did not exist. Owner-only actions (preview, delete,
role suggestions, authorise, edit roles, revoke) answer 404 to other nodes too. Every error is
`{"detail", "code"}`.

Roles without an ID column or a label are accepted with `warnings` in the answer (the label
usually sits at one party, so refusing would make every other party confirm the normal case);
a client that wants to warn first asks `GET datasets/<id>/role-suggestions/`, whose answer
carries the suggested roles and their warnings. Editing roles (`POST authorizations/<id>/
versions/`) makes a new version that supersedes the old one, which stays listed for history.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts.permissions import RoleAndScope
from console.accounts.sessions import RecentAuthentication
from console.api.schema import errors
from console.datasets import services
from console.datasets.access import (
    authorizations_visible_to,
    datasets_visible_to,
    get_authorization_for_user,
    get_dataset_for_owner,
    get_dataset_for_user,
)
from console.datasets.models import Authorization, Dataset
from console.datasets.role_suggestions import role_warnings
from console.datasets.serializers import (
    AuthorizationCreateSerializer,
    AuthorizationSerializer,
    DatasetSerializer,
    DatasetUploadSerializer,
    PreviewSerializer,
    RoleSuggestionsSerializer,
    RoleVersionSerializer,
)
from console.datasets.uploads import UPLOAD_FIELD
from console.projects.access import get_project_for_user
from console.projects.models import ProjectMember
from workflows.actors import Actor
from workflows.api.fields import query_id


def _with_authorizations(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    memberships = Prefetch("project__memberships", queryset=ProjectMember.objects.only("node"))
    authorizations = Prefetch(
        "authorizations",
        queryset=Authorization.objects.select_related(
            "project", "granted_by", "revoked_by", "superseded_by"
        ).prefetch_related(memberships),
    )
    return datasets.select_related("node", "uploaded_by").prefetch_related(authorizations)


def _dataset_response(request: Request, dataset: Dataset, code: int = 200) -> Response:
    dataset = _with_authorizations(Dataset.objects.filter(pk=dataset.pk)).get()
    data = DatasetSerializer(dataset, context={"request": request}).data
    return Response(data, status=code)


@extend_schema_view(
    get=extend_schema(
        summary="List the datasets I may see (mine, and those authorised to my projects)",
        responses={200: DatasetSerializer(many=True), **errors()},
    ),
    post=extend_schema(
        summary="Upload a CSV dataset to my node (multipart)",
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={201: DatasetSerializer, **errors(400)},
    ),
)
class DatasetListCreate(generics.ListCreateAPIView):
    serializer_class = DatasetSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Dataset]:
        return _with_authorizations(datasets_visible_to(self.request.user)).order_by(
            "node__name", "name"
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        # The service validates every field (and audits failures): pages and API alike.
        dataset = services.create_dataset(
            Actor.from_request(request),
            request.FILES.get(UPLOAD_FIELD),
            name=request.data.get("name", ""),
            description=request.data.get("description", ""),
        )
        return _dataset_response(request, dataset, status.HTTP_201_CREATED)


class DatasetDetail(APIView):
    permission_classes = [IsAuthenticated, RoleAndScope, RecentAuthentication]

    @extend_schema(
        summary="Read a dataset: schema (and, for the owner, file facts and authorisations)",
        responses={200: DatasetSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _dataset_response(request, get_dataset_for_user(Actor.from_request(request), pk))

    @extend_schema(
        summary="Delete a dataset of my node, its file and its authorisations",
        description="Session clients need a recent sign-in (403 reauthentication_required).",
        responses={204: None, **errors(403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        # The service checks that the actor's node owns it (404, audited, for others).
        services.delete_dataset(actor, get_dataset_for_user(actor, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetPreview(APIView):
    @extend_schema(
        summary="The first rows of a dataset of my node (audited; other nodes get 404)",
        responses={200: PreviewSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        preview = services.preview(actor, get_dataset_for_user(actor, pk))  # owner only
        return Response(PreviewSerializer(preview).data)


class DatasetRoleSuggestions(APIView):
    @extend_schema(
        summary="Suggested column roles of a dataset of my node, with their warnings",
        responses={200: RoleSuggestionsSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        dataset = get_dataset_for_owner(Actor.from_request(request), pk)
        suggestions = services.suggested_roles(dataset)
        roles = {name: suggestion.role for name, suggestion in suggestions.items()}
        body = {
            "column_roles": roles,
            "reasons": {name: s.reason for name, s in suggestions.items() if s.reason},
            "warnings": [warning.to_dict() for warning in role_warnings(roles)],
        }
        return Response(RoleSuggestionsSerializer(body).data)


def _id_filter(request: Request, name: str) -> int | None:
    return query_id(request.query_params, name)


ID_FILTERS = [
    OpenApiParameter("project", int, description="Only authorisations to this project."),
    OpenApiParameter("dataset", int, description="Only authorisations of this dataset."),
]


@extend_schema_view(
    get=extend_schema(
        summary="List authorisations: of my node's datasets, and active ones on my projects",
        parameters=ID_FILTERS,
        responses={200: AuthorizationSerializer(many=True), **errors(400)},
    ),
    post=extend_schema(
        summary="Authorise a dataset of my node to a project, with column roles",
        request=AuthorizationCreateSerializer,
        responses={201: AuthorizationSerializer, **errors(400, 404, 409)},
    ),
)
class AuthorizationListCreate(generics.ListCreateAPIView):
    serializer_class = AuthorizationSerializer

    def get_queryset(self) -> QuerySet[Authorization]:
        authorizations = authorizations_visible_to(self.request.user)
        project = _id_filter(self.request, "project")
        if project is not None:
            authorizations = authorizations.filter(project_id=project)
        dataset = _id_filter(self.request, "dataset")
        if dataset is not None:
            authorizations = authorizations.filter(dataset_id=dataset)
        return authorizations.order_by("-created_at", "-id")

    def create(self, request: Request, *args, **kwargs) -> Response:
        body = AuthorizationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = Actor.from_request(request)
        dataset = get_dataset_for_owner(actor, body.validated_data["dataset"])
        project = get_project_for_user(actor, body.validated_data["project"])
        authorization = services.authorize_dataset(
            actor, dataset, project, body.validated_data["column_roles"]
        )
        data = AuthorizationSerializer(authorization, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class AuthorizationDetail(APIView):
    @extend_schema(
        summary="Read an authorisation",
        responses={200: AuthorizationSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        authorization = get_authorization_for_user(Actor.from_request(request), pk)
        return Response(AuthorizationSerializer(authorization, context={"request": request}).data)


class AuthorizationRevoke(APIView):
    @extend_schema(
        summary="Revoke an authorisation of my node's dataset (other nodes get 404)",
        request=None,
        responses={200: AuthorizationSerializer, **errors(400, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        authorization = get_authorization_for_user(actor, pk)
        authorization = services.revoke_authorization(actor, authorization)
        return Response(AuthorizationSerializer(authorization, context={"request": request}).data)


class AuthorizationVersions(APIView):
    @extend_schema(
        summary="Edit the column roles of an active authorisation of my node's dataset "
        "(a new version supersedes it; the old one is kept for history)",
        request=RoleVersionSerializer,
        responses={201: AuthorizationSerializer, **errors(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        # Who may do this is settled before the body is read: others get 404, not 400.
        actor = Actor.from_request(request)
        authorization = get_authorization_for_user(actor, pk)
        get_dataset_for_owner(actor, authorization.dataset_id)
        body = RoleVersionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new = services.update_column_roles(
            actor, authorization, body.validated_data["column_roles"]
        )
        data = AuthorizationSerializer(new, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)
