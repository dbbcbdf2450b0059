"""/api/v1/: shared projects in network mode, as the pages do them.

- `projects/<pk>/invitations/`: the project's membership proposals (members read them); the
  owner node invites a paired node (POST `{"node": name}`).
- `projects/<pk>/removals/`: the owner node proposes to remove a member (voted).
- `projects/<pk>/remote-datasets/`: datasets of other nodes authorised to it (schema, roles,
  the owner's standing policy as published).
- `ballots/` and `ballots/<pk>/decision/`: this node's votes; its admins accept or decline.

Outsiders get 404 for a project; members get 403 for what only the owner node does; outside
network mode every change answers 400 with code `not_network`.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.api.schema import errors
from console.federation import projects, publish
from console.federation.models import Ballot, Proposal, RemoteDataset
from console.nodes.models import Node
from console.projects.access import get_project_for_user
from console.projects.services import ensure_owner
from workflows.actors import Actor


class ProposalSerializer(serializers.ModelSerializer):
    subject = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Proposal
        fields = ["uid", "kind", "subject", "votes", "status", "created_at", "closed_at"]


class BallotSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Ballot
        fields = [
            "id",
            "project_uid",
            "project_name",
            "project_description",
            "owner",
            "kind",
            "subject_name",
            "member_names",
            "status",
            "outcome",
            "received_at",
            "decided_at",
        ]


class RemoteDatasetSerializer(serializers.ModelSerializer):
    node = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = RemoteDataset
        fields = [
            "node",
            "name",
            "description",
            "columns",
            "column_roles",
            "policy",
            "published_at",
        ]
        extra_kwargs = {
            "policy": {
                "help_text": "The owner's standing disclosure policy as its node published it "
                "(null: none published, every disclosure is asked about). The owner's node "
                "checks every run against its own policy."
            }
        }


class NodeNameSerializer(serializers.Serializer):
    node = serializers.SlugRelatedField(slug_field="name", queryset=Node.objects.all())


class BallotVoteSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "decline"])


class ProjectInvitations(APIView):
    @extend_schema(
        summary="Membership proposals of a project",
        responses={200: ProposalSerializer(many=True), **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        project = get_project_for_user(Actor.from_request(request), pk)
        proposals = Proposal.objects.filter(project=project).select_related("subject")
        return Response(ProposalSerializer(proposals, many=True).data)

    @extend_schema(
        summary="Invite a paired node to a project (owner node; network mode)",
        request=NodeNameSerializer,
        responses={201: ProposalSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        project = get_project_for_user(actor, pk)
        ensure_owner(actor, project)  # members: 403 before their input is read
        proposal = projects.invite_node(actor, project, _node(request))
        return Response(ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)


class ProjectRemovals(APIView):
    @extend_schema(
        summary="Propose to remove a member node (owner node; network mode)",
        request=NodeNameSerializer,
        responses={201: ProposalSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = Actor.from_request(request)
        project = get_project_for_user(actor, pk)
        ensure_owner(actor, project)
        proposal = projects.propose_removal(actor, project, _node(request))
        return Response(ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)


def _node(request: Request) -> Node:
    serializer = NodeNameSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["node"]


class ProjectRemoteDatasets(APIView):
    @extend_schema(
        summary="Datasets of other nodes authorised to a project (schema and roles only)",
        responses={200: RemoteDatasetSerializer(many=True), **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        project = get_project_for_user(Actor.from_request(request), pk)
        active = RemoteDataset.objects.filter(project=project, revoked_at__isnull=True)
        return Response(RemoteDatasetSerializer(active.select_related("node"), many=True).data)


def _ballots_for(user):
    if not publish.sees_node_inbox(user):
        return Ballot.objects.none()
    return Ballot.objects.select_related("owner")


class BallotList(APIView):
    @extend_schema(
        summary="Project invitations and membership votes asked of this node",
        responses={200: BallotSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response(BallotSerializer(_ballots_for(request.user)[:200], many=True).data)


class BallotDecision(APIView):
    @extend_schema(
        summary="Accept or decline (this node's admins); the vote goes to the owner node",
        request=BallotVoteSerializer,
        responses={200: BallotSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        ballot = _ballots_for(request.user).filter(pk=pk).first()
        if ballot is None:
            raise Http404(_("No such ballot."))
        serializer = BallotVoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accept = serializer.validated_data["decision"] == "accept"
        ballot, _message = projects.decide_ballot(Actor.from_request(request), ballot, accept)
        return Response(BallotSerializer(ballot).data)
