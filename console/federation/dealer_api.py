"""/api/v1/: SEMI2K's source of Beaver triples, as the pages show and change it.

- `projects/<pk>/triple-source/`: the project's source as this node's copy names it (members
  read it); the owner node proposes a change (PUT `{"dealer": name}` for a dealer node,
  `{"dealer": null}` for the trusted first party; `console.federation.dealers` says who may be
  one), which the other members vote on like a membership change.
- `dealer-services/`: at a dealer node, the runs it served (its admins read them).

Outsiders get 404 for a project; members get 403 for the owner's change; outside network mode
a change answers 400 with code `not_network`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.api.schema import errors
from console.federation import dealers, publish
from console.federation.api import ProposalSerializer
from console.federation.models import DealerService
from console.nodes.models import Node
from console.projects.access import get_project_for_user
from console.projects.services import ensure_owner
from workflows.actors import Actor
from workflows.messages import render


class TripleSourceChangeSerializer(serializers.Serializer):
    dealer = serializers.CharField(allow_null=True, help_text="The source in use now.")
    proposal = ProposalSerializer(
        allow_null=True,
        help_text="The change proposed to the other members (null: nothing to change); it "
        "applies once every member accepted (at once with no other member).",
    )


class TripleSourceSerializer(serializers.Serializer):
    dealer = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Node.objects.all(),
        allow_null=True,
        help_text="The dealer node's name; null: the trusted first party (the first party of "
        "each SPU generates the triples and is trusted not to look at them).",
    )


class DealerServiceSerializer(serializers.ModelSerializer):
    origin = serializers.SlugRelatedField(slug_field="name", read_only=True)
    message = serializers.SerializerMethodField()

    class Meta:
        model = DealerService
        fields = [
            "id",
            "origin",
            "remote_run",
            "project_uid",
            "project_name",
            "parties",
            "state",
            "endings",
            "message",
            "created_at",
            "started_at",
            "ended_at",
        ]

    def get_message(self, service: DealerService) -> str:
        return render(service.message)


def _source(dealer: str) -> dict:
    return {"dealer": dealer or None}


class ProjectTripleSource(APIView):
    @extend_schema(
        summary="SEMI2K's source of Beaver triples in a project's network runs",
        responses={200: TripleSourceSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        project = get_project_for_user(Actor.from_request(request), pk)
        return Response(_source(dealers.dealer_of(project)))

    @extend_schema(
        summary="Choose the project's source of Beaver triples (owner node; network mode)",
        request=TripleSourceSerializer,
        responses={200: TripleSourceChangeSerializer, **errors(400, 403, 404)},
    )
    def put(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        project = get_project_for_user(actor, pk)
        ensure_owner(actor, project)  # members: 403 before their input is read
        serializer = TripleSourceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal = dealers.set_dealer(actor, project, serializer.validated_data["dealer"])
        proposed = ProposalSerializer(proposal).data if proposal is not None else None
        return Response({**_source(dealers.dealer_of(project)), "proposal": proposed})


def services_for(user):
    """The runs this node served as a dealer: for its own users and platform admins."""
    if not publish.sees_node_inbox(user):
        return DealerService.objects.none()
    return DealerService.objects.select_related("origin")


class DealerServices(APIView):
    @extend_schema(
        summary="Runs this node served as a SEMI2K dealer node",
        responses={200: DealerServiceSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response(DealerServiceSerializer(services_for(request.user)[:200], many=True).data)
